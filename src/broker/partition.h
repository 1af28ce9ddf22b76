#pragma once
// One partition as the broker sees it: its log and the fetches parked on it.
//
// Single node: this broker leads every partition, the ISR is [self], and the
// high watermark follows the log end offset after each append
// (DESIGN-NOTES §14: the same paths with a replica set of one).
//
// Parked fetches (long poll) register a waker; an append calls every waker
// once and clears the list. Wakers must be cheap: they post to the fetch's
// reactor.
//
// Traffic counters (io()) are written by Produce and Fetch with relaxed
// atomic adds and read by a metrics scrape through the topic registry's
// snapshot. They live as long as the partition object: a deleted and
// re-created topic starts again from zero (a counter reset to Prometheus).
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/producer_state.h"

namespace strata::storage {
class log;
}

namespace strata::broker {

// On its own cache line: appends to one partition from several reactors
// already serialise on the log's mutex, but readers of the partition's other
// fields should not pay for these writes.
struct alignas(64) partition_io {
  std::atomic<uint64_t> bytes_in{0};     // record batch bytes appended by Produce
  std::atomic<uint64_t> messages_in{0};  // records appended (batch headers' record counts)
  std::atomic<uint64_t> bytes_out{0};    // record batch bytes sent by Fetch (file ranges)

  void add_in(uint64_t bytes, uint64_t messages) {
    bytes_in.fetch_add(bytes, std::memory_order_relaxed);
    messages_in.fetch_add(messages, std::memory_order_relaxed);
  }
  void add_out(uint64_t bytes) { bytes_out.fetch_add(bytes, std::memory_order_relaxed); }
};

// Offline partitions (KIP-112): a partition whose log could not be opened at
// startup (a damaged segment, a file where its directory should be, a failed
// log dir) has no log. It stays in the topic (Metadata reports it with
// KAFKA_STORAGE_ERROR and this broker in offline_replicas) and every request
// on it answers KAFKA_STORAGE_ERROR; log() and log_ptr() may only be used
// after online() said yes.
class partition {
 public:
  partition(std::string topic, int32_t index, std::shared_ptr<storage::log> log)
      : topic_(std::move(topic)), index_(index), log_(std::move(log)) {}
  // An offline partition; `reason` says why (shown in logs and error messages).
  partition(std::string topic, int32_t index, std::string reason)
      : topic_(std::move(topic)), index_(index), offline_reason_(std::move(reason)) {}

  const std::string& topic() const { return topic_; }
  int32_t index() const { return index_; }
  bool online() const { return log_ != nullptr; }
  // Why the partition is offline ("" when online).
  const std::string& offline_reason() const { return offline_reason_; }
  // Online partitions only.
  storage::log& log() { return *log_; }
  // Null when offline.
  const std::shared_ptr<storage::log>& log_ptr() const { return log_; }
  int32_t leader_epoch() const { return 0; }
  partition_io& io() { return io_; }
  const partition_io& io() const { return io_; }

  // Idempotent appends hold this across check, append and record, so two
  // connections cannot interleave one producer's sequence checks.
  std::mutex& idempotence_mutex() { return idem_mu_; }
  producer_state& producers() { return producers_; }

  // Registers a one-shot waker; returns an id for remove_waker.
  uint64_t add_waker(std::function<void()> fn) {
    std::lock_guard lk(mu_);
    uint64_t id = ++next_id_;
    wakers_.push_back({id, std::move(fn)});
    return id;
  }
  void remove_waker(uint64_t id) {
    std::lock_guard lk(mu_);
    std::erase_if(wakers_, [id](const waker& w) { return w.id == id; });
  }
  // Called after an append (any thread).
  void wake_all() {
    std::vector<waker> fire;
    {
      std::lock_guard lk(mu_);
      if (wakers_.empty()) return;
      fire.swap(wakers_);
    }
    for (auto& w : fire) w.fn();
  }

 private:
  struct waker {
    uint64_t id;
    std::function<void()> fn;
  };
  std::string topic_;
  int32_t index_;
  std::shared_ptr<storage::log> log_;
  std::string offline_reason_;
  std::mutex mu_;
  std::vector<waker> wakers_;
  std::mutex idem_mu_;
  producer_state producers_;
  uint64_t next_id_ = 0;
  partition_io io_;
};

}  // namespace strata::broker
