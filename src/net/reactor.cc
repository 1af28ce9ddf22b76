#include "net/reactor.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <pthread.h>

namespace strata::net {
namespace {

class asio_timer final : public timer_handle, public std::enable_shared_from_this<asio_timer> {
 public:
  explicit asio_timer(boost::asio::io_context& ctx) : timer_(ctx) {}
  void arm(std::chrono::milliseconds delay, std::function<void()> fn) {
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this(), fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec && !self->cancelled_) fn();
    });
  }
  // Safe from any thread: the flag is checked on the reactor before running.
  void cancel() override {
    cancelled_ = true;
    boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.cancel(); });
  }

 private:
  boost::asio::steady_timer timer_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

reactor::reactor(unsigned index) : index_(index), guard_(ctx_.get_executor()) {}

reactor::~reactor() { stop_and_join(); }

void reactor::start() {
  thread_ = std::thread([this] {
    std::string name = "reactor-" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.c_str());
    for (;;) {
      try {
        ctx_.run();
        return;
      } catch (const std::exception& e) {
        // A handler bug must not take the whole reactor down silently.
        spdlog::error("reactor {}: unhandled exception: {}", index_, e.what());
      }
    }
  });
}

void reactor::stop_and_join() {
  guard_.reset();
  ctx_.stop();
  if (thread_.joinable()) thread_.join();
}

void reactor::post(std::function<void()> fn) { boost::asio::post(ctx_, std::move(fn)); }

std::shared_ptr<timer_handle> reactor::run_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto t = std::make_shared<asio_timer>(ctx_);
  // Arm on the reactor thread: steady_timer is not thread-safe.
  boost::asio::post(ctx_, [t, delay, fn = std::move(fn)]() mutable { t->arm(delay, std::move(fn)); });
  return t;
}

}  // namespace strata::net
