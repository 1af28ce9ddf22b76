#include "controller/controller_channel.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/log_limiter.h"

namespace strata::controller {

struct controller_channel::broker_queue {
  broker_target target;
  std::unique_ptr<broker_sender> sender;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<controller_request, response_callback>> queue;
  bool in_flight = false;
  bool stopping = false;
  std::thread thread;
};

controller_channel::controller_channel(sender_factory factory, channel_options o)
    : factory_(std::move(factory)), opts_(o) {}

controller_channel::~controller_channel() { remove_all(); }

void controller_channel::add_broker(const broker_target& t) {
  remove_broker(t.id);
  auto q = std::make_unique<broker_queue>();
  q->target = t;
  q->sender = factory_(t);
  auto* raw = q.get();
  raw->thread = std::thread([this, raw] { run(*raw); });
  std::lock_guard lk(mu_);
  brokers_[t.id] = std::move(q);
}

void controller_channel::remove_broker(int32_t id) {
  std::unique_ptr<broker_queue> q;
  {
    std::lock_guard lk(mu_);
    auto it = brokers_.find(id);
    if (it == brokers_.end()) return;
    q = std::move(it->second);
    brokers_.erase(it);
  }
  {
    std::lock_guard lk(q->mu);
    q->stopping = true;
    q->queue.clear();
  }
  q->cv.notify_all();
  // The broker is gone or re-registered: a request still waiting for its answer would
  // hold this (the controller's event thread) until controller.socket.timeout.ms.
  q->sender->interrupt();
  q->thread.join();
}

void controller_channel::remove_all() {
  std::vector<int32_t> ids;
  {
    std::lock_guard lk(mu_);
    for (const auto& [id, q] : brokers_) ids.push_back(id);
  }
  for (int32_t id : ids) remove_broker(id);
}

bool controller_channel::has_broker(int32_t id) const {
  std::lock_guard lk(mu_);
  return brokers_.count(id) > 0;
}

bool controller_channel::send(int32_t broker, controller_request req, response_callback cb) {
  std::lock_guard lk(mu_);
  auto it = brokers_.find(broker);
  if (it == brokers_.end()) return false;
  auto& q = *it->second;
  {
    std::lock_guard qlk(q.mu);
    q.queue.emplace_back(std::move(req), std::move(cb));
  }
  q.cv.notify_one();
  return true;
}

size_t controller_channel::pending() const {
  std::lock_guard lk(mu_);
  size_t n = 0;
  for (const auto& [id, q] : brokers_) {
    std::lock_guard qlk(q->mu);
    n += q->queue.size() + (q->in_flight ? 1 : 0);
  }
  return n;
}

void controller_channel::run(broker_queue& q) {
  std::unique_lock lk(q.mu);
  auto backoff = opts_.retry_backoff;
  for (;;) {
    q.cv.wait(lk, [&] { return q.stopping || !q.queue.empty(); });
    if (q.stopping) return;
    // The request stays at the front until it is delivered: a retry sends it again.
    controller_request req = q.queue.front().first;
    q.in_flight = true;
    lk.unlock();
    std::optional<controller_response> resp;
    try {
      resp = q.sender->send(req, std::chrono::steady_clock::now() + opts_.request_timeout);
    } catch (const std::exception& e) {
      STRATA_LOG_LIMITED(spdlog::level::warn, "controller: {} to broker {} at {}:{} failed, retrying: {}",
                         api_name_of(req), q.target.id, q.target.host, q.target.port, e.what());
    }
    lk.lock();
    q.in_flight = false;
    if (!resp) {
      q.cv.wait_for(lk, backoff, [&] { return q.stopping; });
      backoff = std::min(backoff * 2, opts_.max_retry_backoff);
      continue;
    }
    backoff = opts_.retry_backoff;
    if (q.stopping) return;
    auto cb = std::move(q.queue.front().second);
    q.queue.pop_front();
    lk.unlock();
    if (cb) cb(*resp);
    lk.lock();
  }
}

}  // namespace strata::controller
