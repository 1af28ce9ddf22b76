#pragma once
// Delayed operations (ARCHITECTURE.md §12): requests parked on a partition until
// one of its watermarks reaches an offset. One mechanism for all of them:
//   - long-poll consumer fetches wait on the high watermark growing past what
//     they last saw;
//   - acks=all produces wait on the high watermark reaching last offset + 1
//     (every ISR member has the batch);
//   - follower fetches wait on the log end offset growing past their fetch offset.
// Kafka's generic purgatory is not needed (DESIGN-NOTES §10 [S]): each partition
// keeps one list per watermark, and the path that moves the watermark calls
// advance(). Timeouts belong to the waiter (a reactor timer), which then calls
// remove().
//
// Thread-safety: every method may be called from any thread. Callbacks run once,
// outside the lock, on the thread that advanced the watermark (an appending
// reactor, a replica fetcher, the ISR task); they must be cheap: post to the
// waiting request's reactor. advance() with nothing to fire is one relaxed
// atomic load, so the append path pays nothing when no one waits.
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <vector>

namespace strata::cluster {

class watermark_waiters {
 public:
  using waiter_id = uint64_t;

  // `fn` runs once, when the watermark reaches `target` (advance(v) with v >= target)
  // or on fire_all(). The caller checks the watermark again after adding: a move
  // between its own read and this call fires nothing.
  waiter_id add(int64_t target, std::function<void()> fn);
  // Forgets a waiter that has not fired (timed out, or finished another way).
  void remove(waiter_id id);
  // The watermark is now `value`: fires every waiter whose target it reached.
  void advance(int64_t value);
  // Fires every waiter (leadership lost, partition deleted, shutdown): each looks at
  // the partition again and answers.
  void fire_all();
  size_t size() const;

 private:
  struct waiter {
    waiter_id id;
    int64_t target;
    std::function<void()> fn;
  };
  void update_min_locked();

  mutable std::mutex mu_;
  std::vector<waiter> waiters_;
  waiter_id next_id_ = 0;
  // The smallest target waiting (max when none): advance() below it returns at once.
  std::atomic<int64_t> min_target_{std::numeric_limits<int64_t>::max()};
};

}  // namespace strata::cluster
