#include "broker/serial_worker.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace strata::broker {

void serial_worker::run(std::function<void()> fn) {
  {
    std::lock_guard lk(mu_);
    if (!stop_) {
      queue_.push_back(std::move(fn));
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
      cv_.notify_one();
      return;
    }
  }
  fn();
}

void serial_worker::stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();  // runs what is queued first
}

void serial_worker::loop() {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;
    auto fn = std::move(queue_.front());
    queue_.pop_front();
    lk.unlock();
    try {
      fn();
    } catch (const std::exception& e) {
      // As on a reactor: a handler bug must not end the thread silently.
      spdlog::error("{}: unhandled exception: {}", name_, e.what());
    }
    lk.lock();
  }
}

}  // namespace strata::broker
