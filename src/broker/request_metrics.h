#pragma once
// Per-API request counters and latency histograms, recorded on every request
// and summed by a metrics scrape (admin/).
//
// Hot path: record() is a handful of relaxed atomic adds on a cell that
// belongs to the request's reactor (one shard per reactor), so reactors do
// not share cache lines and nothing locks or allocates. A completion that
// runs on another thread (flusher, group coordinator) still records into the
// request's reactor shard: the atomics keep that correct, sharding only
// keeps it cheap. A scrape reads the cells with relaxed loads: a snapshot
// may mix counts of requests completing during it, which Prometheus
// tolerates (every counter is monotonic).
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace strata::broker {

class request_metrics {
 public:
  // Upper bounds of the latency buckets, in microseconds (Prometheus' `le`
  // labels, in seconds: 100 us to 10 s). Requests slower than the last bound
  // count only in +Inf.
  static constexpr std::array<uint64_t, 16> kBucketBoundsUs = {
      100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000,
      1'000'000, 2'500'000, 5'000'000, 10'000'000};

  // `apis` dense API indexes (broker/api_table order), `shards` cells per API
  // (the reactor count; any reactor index is folded into range).
  request_metrics(size_t apis, unsigned shards);
  request_metrics(const request_metrics&) = delete;
  request_metrics& operator=(const request_metrics&) = delete;

  void record(unsigned shard, size_t api, std::chrono::nanoseconds latency, bool error) noexcept {
    cell& c = cells_[(shard % shards_) * apis_ + api];
    const uint64_t us = static_cast<uint64_t>(latency.count() < 0 ? 0 : latency.count()) / 1000;
    size_t b = 0;
    while (b < kBucketBoundsUs.size() && us > kBucketBoundsUs[b]) ++b;
    c.requests.fetch_add(1, std::memory_order_relaxed);
    if (error) c.errors.fetch_add(1, std::memory_order_relaxed);
    c.latency_ns.fetch_add(static_cast<uint64_t>(latency.count() < 0 ? 0 : latency.count()),
                           std::memory_order_relaxed);
    c.buckets[b].fetch_add(1, std::memory_order_relaxed);
  }

  struct totals {
    uint64_t requests = 0;
    uint64_t errors = 0;
    uint64_t latency_ns = 0;
    // Per bucket (not cumulative); the last one is +Inf.
    std::array<uint64_t, kBucketBoundsUs.size() + 1> buckets{};
  };
  // Sum over the shards (scrape only).
  totals sum(size_t api) const;
  size_t api_count() const { return apis_; }

 private:
  // One cache line or more per (shard, api): reactors never write the same line.
  struct alignas(64) cell {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> errors{0};
    std::atomic<uint64_t> latency_ns{0};
    std::array<std::atomic<uint64_t>, kBucketBoundsUs.size() + 1> buckets{};
  };
  size_t apis_;
  unsigned shards_;
  std::unique_ptr<cell[]> cells_;
};

}  // namespace strata::broker
