#pragma once
// The broker-wide budget for the bytes of buffered requests (queued.max.request.bytes):
// every request buffer, whole or still growing, is charged here while it exists. When
// the budget is spent, connections that need more stop reading from their sockets
// until a buffer is freed (Kafka's memory pool, non-strict: a grant is given while
// anything is left, so the budget is exceeded by at most one grant).
//
// Thread-safe: buffers are freed on any thread (the broker may drop a request on
// another), waiters live on reactors and are woken through their callbacks.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace strata::net {

class memory_pool {
 public:
  // limit <= 0: no bound (the bytes are still counted), as Kafka's -1 (and 0).
  explicit memory_pool(int64_t limit) : limit_(limit > 0 ? limit : -1) {}

  bool try_acquire(size_t n) {
    if (limit_ < 0) {
      used_.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
      return true;
    }
    int64_t cur = used_.load();
    while (cur < limit_)
      if (used_.compare_exchange_weak(cur, cur + static_cast<int64_t>(n))) return true;
    return false;
  }

  void release(size_t n) {
    used_.fetch_sub(static_cast<int64_t>(n));
    if (waiting_.load() == 0) return;
    std::vector<std::function<void()>> wake;
    {
      std::lock_guard lk(mu_);
      wake.swap(waiters_);
      waiting_.store(0);
    }
    for (auto& w : wake) w();
  }

  // `wake` runs once (on the releasing thread) after the next release. Register, then
  // try_acquire again: a release between the failed try and the registration is not lost.
  void on_release(std::function<void()> wake) {
    std::lock_guard lk(mu_);
    waiters_.push_back(std::move(wake));
    waiting_.store(waiters_.size());
  }

  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t limit() const { return limit_; }

 private:
  const int64_t limit_;
  std::atomic<int64_t> used_{0};
  std::atomic<size_t> waiting_{0};
  std::mutex mu_;
  std::vector<std::function<void()>> waiters_;
};

// Bytes charged to a pool, given back when this goes away (with the request buffer
// that owns it).
class pool_charge {
 public:
  pool_charge() = default;
  explicit pool_charge(std::shared_ptr<memory_pool> pool) : pool_(std::move(pool)) {}
  pool_charge(pool_charge&& o) noexcept : pool_(std::move(o.pool_)), bytes_(std::exchange(o.bytes_, 0)) {}
  pool_charge& operator=(pool_charge&& o) noexcept {
    if (this != &o) {
      reset();
      pool_ = std::move(o.pool_);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  ~pool_charge() { reset(); }

  bool try_add(size_t n) {
    if (!pool_) return true;
    if (!pool_->try_acquire(n)) return false;
    bytes_ += n;
    return true;
  }
  size_t bytes() const { return bytes_; }
  void reset() {
    if (pool_ && bytes_ > 0) pool_->release(bytes_);
    bytes_ = 0;
  }

 private:
  std::shared_ptr<memory_pool> pool_;
  size_t bytes_ = 0;
};

}  // namespace strata::net
