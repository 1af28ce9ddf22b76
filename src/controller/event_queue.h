#pragma once
// event_queue: the controller's events, run one at a time, in order, on the
// controller's own thread (Kafka's ControllerEventManager). ZooKeeper watch
// callbacks, session listeners, the broker's ControlledShutdown handler and the
// channel's response callbacks only push; the controller thread does the work.
//
// Held by shared_ptr: watch callbacks keep a weak_ptr, so a callback that fires
// after the controller is gone finds the queue closed (or gone) and drops its event.
//
// Thread-safe. Timed events (the preferred-leader check, election retries) run
// when due, before later pushes only if they are due first.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace strata::controller {

class event_queue {
 public:
  using clock = std::chrono::steady_clock;
  struct event {
    std::string name;  // for logs: "BrokerChange", "TopicDeletion", ...
    std::function<void()> run;
  };

  // False (and the event dropped) once closed.
  bool push(std::string name, std::function<void()> fn) {
    std::lock_guard lk(mu_);
    if (closed_) return false;
    queue_.push_back({std::move(name), std::move(fn)});
    cv_.notify_one();
    return true;
  }
  bool schedule(std::string name, clock::time_point at, std::function<void()> fn) {
    std::lock_guard lk(mu_);
    if (closed_) return false;
    timed_.emplace(at, event{std::move(name), std::move(fn)});
    cv_.notify_one();
    return true;
  }
  // Blocks until an event is ready (true) or the queue is closed (false).
  bool next(event& out) {
    std::unique_lock lk(mu_);
    for (;;) {
      if (closed_) return false;
      const auto now = clock::now();
      if (!timed_.empty() && timed_.begin()->first <= now) {
        out = std::move(timed_.begin()->second);
        timed_.erase(timed_.begin());
        return true;
      }
      if (!queue_.empty()) {
        out = std::move(queue_.front());
        queue_.pop_front();
        return true;
      }
      if (timed_.empty()) {
        cv_.wait(lk);
      } else {
        // A copy: the wait releases the lock, and close() or schedule() may free the node.
        const auto due = timed_.begin()->first;
        cv_.wait_until(lk, due);
      }
    }
  }
  // Drops what is queued; later pushes are refused.
  void close() {
    std::lock_guard lk(mu_);
    closed_ = true;
    queue_.clear();
    timed_.clear();
    cv_.notify_all();
  }
  size_t size() const {
    std::lock_guard lk(mu_);
    return queue_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<event> queue_;
  std::multimap<clock::time_point, event> timed_;
  bool closed_ = false;
};

}  // namespace strata::controller
