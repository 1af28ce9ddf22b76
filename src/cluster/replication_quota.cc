#include "cluster/replication_quota.h"

#include <algorithm>

namespace strata::cluster {

replication_quota::replication_quota(int samples, int64_t window_ms)
    : samples_(std::max(samples, 2)), window_ms_(std::max<int64_t>(window_ms, 1)) {
  samples_in_use_.reserve(static_cast<size_t>(samples_));
}

void replication_quota::configure(int samples, int64_t window_ms) {
  std::lock_guard lk(mu_);
  samples_ = std::max(samples, 2);
  window_ms_ = std::max<int64_t>(window_ms, 1);
  samples_in_use_.clear();
}

void replication_quota::purge_locked(int64_t now_ms) {
  const int64_t expire_before = now_ms - static_cast<int64_t>(samples_) * window_ms_;
  auto keep = std::find_if(samples_in_use_.begin(), samples_in_use_.end(),
                           [&](const sample& s) { return s.start_ms >= expire_before; });
  samples_in_use_.erase(samples_in_use_.begin(), keep);
}

void replication_quota::record(int64_t bytes, int64_t now_ms) {
  if (bytes <= 0) return;
  std::lock_guard lk(mu_);
  purge_locked(now_ms);
  if (samples_in_use_.empty() || now_ms >= samples_in_use_.back().start_ms + window_ms_) {
    if (static_cast<int>(samples_in_use_.size()) == samples_) samples_in_use_.erase(samples_in_use_.begin());
    samples_in_use_.push_back({now_ms, 0});
  }
  samples_in_use_.back().bytes += bytes;
}

double replication_quota::rate_locked(int64_t now_ms) {
  purge_locked(now_ms);
  if (samples_in_use_.empty()) return 0;
  int64_t total = 0;
  for (const auto& s : samples_in_use_) total += s.bytes;
  // Kafka's Rate.windowSize: the time since the oldest sample began, at least
  // samples - 1 whole windows.
  int64_t elapsed = now_ms - samples_in_use_.front().start_ms;
  const int64_t full = elapsed / window_ms_;
  if (full < samples_ - 1) elapsed += (samples_ - 1 - full) * window_ms_;
  return static_cast<double>(total) * 1000.0 / static_cast<double>(std::max<int64_t>(elapsed, 1));
}

double replication_quota::rate(int64_t now_ms) {
  std::lock_guard lk(mu_);
  return rate_locked(now_ms);
}

bool replication_quota::exceeded(int64_t now_ms) {
  const int64_t limit = limit_.load(std::memory_order_relaxed);
  if (limit == kUnlimited) return false;
  std::lock_guard lk(mu_);
  return rate_locked(now_ms) > static_cast<double>(limit);
}

}  // namespace strata::cluster
