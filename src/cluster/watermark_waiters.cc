#include "cluster/watermark_waiters.h"

#include <algorithm>

namespace strata::cluster {

watermark_waiters::waiter_id watermark_waiters::add(int64_t target, std::function<void()> fn) {
  std::lock_guard lk(mu_);
  waiter_id id = ++next_id_;
  waiters_.push_back({id, target, std::move(fn)});
  if (target < min_target_.load(std::memory_order_relaxed)) min_target_.store(target, std::memory_order_release);
  return id;
}

void watermark_waiters::remove(waiter_id id) {
  std::lock_guard lk(mu_);
  std::erase_if(waiters_, [id](const waiter& w) { return w.id == id; });
  update_min_locked();
}

void watermark_waiters::advance(int64_t value) {
  if (value < min_target_.load(std::memory_order_acquire)) return;
  std::vector<std::function<void()>> fire;
  {
    std::lock_guard lk(mu_);
    auto ready = std::stable_partition(waiters_.begin(), waiters_.end(),
                                       [value](const waiter& w) { return w.target > value; });
    for (auto it = ready; it != waiters_.end(); ++it) fire.push_back(std::move(it->fn));
    waiters_.erase(ready, waiters_.end());
    update_min_locked();
  }
  for (auto& fn : fire) fn();
}

void watermark_waiters::fire_all() {
  std::vector<waiter> fire;
  {
    std::lock_guard lk(mu_);
    fire.swap(waiters_);
    update_min_locked();
  }
  for (auto& w : fire) w.fn();
}

size_t watermark_waiters::size() const {
  std::lock_guard lk(mu_);
  return waiters_.size();
}

void watermark_waiters::update_min_locked() {
  int64_t m = std::numeric_limits<int64_t>::max();
  for (const auto& w : waiters_) m = std::min(m, w.target);
  min_target_.store(m, std::memory_order_release);
}

}  // namespace strata::cluster
