// controller_channel: removing a broker whose request is still unanswered (a paused
// or cut-off broker) must not wait for the request timeout: the controller's event
// thread calls remove_broker (found by the fault suite: 35 s instead of 6 to move a
// paused leader's partitions).
#include "controller/controller_channel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

namespace strata::controller {
namespace {

// Never answers: a send blocks until interrupt() or its deadline.
struct silent_broker {
  std::mutex mu;
  std::condition_variable cv;
  bool in_flight = false;
  bool interrupted = false;
};

class silent_sender final : public broker_sender {
 public:
  explicit silent_sender(silent_broker& b) : b_(b) {}
  controller_response send(const controller_request&, std::chrono::steady_clock::time_point deadline) override {
    std::unique_lock lk(b_.mu);
    b_.in_flight = true;
    b_.cv.notify_all();
    b_.cv.wait_until(lk, deadline, [&] { return b_.interrupted; });
    throw std::runtime_error(b_.interrupted ? "interrupted" : "timed out");
  }
  void interrupt() override {
    std::lock_guard lk(b_.mu);
    b_.interrupted = true;
    b_.cv.notify_all();
  }

 private:
  silent_broker& b_;
};

TEST(ControllerChannel, RemovingABrokerInterruptsItsUnansweredRequest) {
  silent_broker b;
  channel_options o;
  o.request_timeout = std::chrono::seconds(30);
  controller_channel ch([&](const broker_target&) { return std::make_unique<silent_sender>(b); }, o);
  ch.add_broker({7, 1, "127.0.0.1", 9});
  std::atomic<bool> answered{false};
  ASSERT_TRUE(ch.send(7, protocol::update_metadata_request{}, [&](const controller_response&) { answered = true; }));
  {
    std::unique_lock lk(b.mu);
    ASSERT_TRUE(b.cv.wait_for(lk, std::chrono::seconds(10), [&] { return b.in_flight; }));
  }
  const auto t0 = std::chrono::steady_clock::now();
  ch.remove_broker(7);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(5)) << "remove_broker waited for the request timeout";
  EXPECT_FALSE(ch.has_broker(7));
  EXPECT_FALSE(answered.load());
}

}  // namespace
}  // namespace strata::controller
