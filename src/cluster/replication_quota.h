#pragma once
// A replication throttle (KIP-73): Kafka's ReplicationQuotaManager. Bytes of throttled
// replication traffic are recorded in time samples; the quota is exceeded while the
// rate measured over the samples is above the limit, and the leader (or follower)
// then leaves throttled partitions out of what it sends (or asks for) until the
// rate falls back.
//
// The rate is Kafka's Rate over a SampledStat: `samples` windows of `window_ms`; the
// sum of the samples younger than samples * window_ms, divided by the time they
// cover, counted as at least samples - 1 whole windows (so a first burst is measured
// over about ten seconds, not over the few milliseconds it took).
//
// Thread-safe: fetch handlers on several reactors record into the leader's quota.
// With no limit (the default, INT64_MAX) exceeded() is one atomic load.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace strata::cluster {

class replication_quota {
 public:
  static constexpr int64_t kUnlimited = INT64_MAX;

  explicit replication_quota(int samples = 11, int64_t window_ms = 1000);
  // replication.quota.window.num and replication.quota.window.size.seconds; forgets
  // what was recorded.
  void configure(int samples, int64_t window_ms);

  // Bytes per second; kUnlimited turns the throttle off.
  void set_limit(int64_t bytes_per_second) { limit_.store(bytes_per_second, std::memory_order_relaxed); }
  int64_t limit() const { return limit_.load(std::memory_order_relaxed); }

  bool exceeded(int64_t now_ms);
  void record(int64_t bytes, int64_t now_ms);
  // Bytes per second as measured now.
  double rate(int64_t now_ms);

 private:
  struct sample {
    int64_t start_ms = 0;
    int64_t bytes = 0;
  };
  // mu_ held: drops samples older than the whole window span.
  void purge_locked(int64_t now_ms);
  double rate_locked(int64_t now_ms);

  int samples_;        // mu_
  int64_t window_ms_;  // mu_
  std::atomic<int64_t> limit_{kUnlimited};
  std::mutex mu_;
  std::vector<sample> samples_in_use_;  // oldest first, at most samples_
};

}  // namespace strata::cluster
