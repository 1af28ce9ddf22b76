#include "broker/request_metrics.h"

#include <algorithm>

namespace strata::broker {

request_metrics::request_metrics(size_t apis, unsigned shards)
    : apis_(apis), shards_(std::max(1u, shards)), cells_(std::make_unique<cell[]>(apis_ * shards_)) {}

request_metrics::totals request_metrics::sum(size_t api) const {
  totals t;
  for (unsigned s = 0; s < shards_; ++s) {
    const cell& c = cells_[s * apis_ + api];
    t.requests += c.requests.load(std::memory_order_relaxed);
    t.errors += c.errors.load(std::memory_order_relaxed);
    t.latency_ns += c.latency_ns.load(std::memory_order_relaxed);
    for (size_t b = 0; b < t.buckets.size(); ++b) t.buckets[b] += c.buckets[b].load(std::memory_order_relaxed);
  }
  return t;
}

}  // namespace strata::broker
