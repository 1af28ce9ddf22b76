#pragma once
// One partition as this broker holds it: its log (or why it is offline), its
// replication state, the requests parked on it, its idempotent-producer state and
// its traffic counters.
//
// Replication state (DESIGN-NOTES §6-§9) is what the controller decided: the
// assigned replicas, the leader and its epoch, the partition epoch (the state
// znode's version in ZooKeeper mode) and the ISR; `role` is this broker's part in
// it. A single node is a cluster of one (DESIGN-NOTES §14): the local store makes
// this broker leader of every partition with replicas = ISR = [self], and the high
// watermark follows the log end after each append. The replica manager
// (replica_manager.h) is the only writer of the state and the only path into the
// log; handlers read it.
//
// Parked requests wait in two watermark_waiters lists: on the high watermark
// (consumer long polls, acks=all produces) and on the log end (follower fetches).
// The log's append listener advances both.
//
// Threading: identity and the log pointer are immutable. leader_epoch() and role()
// are atomics for the hot path; state() copies the rest under a mutex. Traffic
// counters (io()) are relaxed atomics written by Produce and Fetch and read by a
// metrics scrape; they live as long as the partition object, so a deleted and
// re-created topic starts from zero (a counter reset to Prometheus).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <optional>

#include "cluster/producer_state.h"
#include "cluster/replica_state.h"
#include "cluster/watermark_waiters.h"

namespace strata::storage {
class log;
}

namespace strata::cluster {

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

enum class replica_role { none, leader, follower };

// What the controller decided for one partition (LeaderAndIsr; the
// /brokers/topics/<t>/partitions/<p>/state znode in ZooKeeper mode).
struct partition_state {
  int32_t leader = -1;  // -1: no leader (offline)
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  int32_t controller_epoch = 0;   // of the controller that wrote this state (kept in ISR writes)
  std::vector<int32_t> replicas;  // assignment order: the first is the preferred leader
  std::vector<int32_t> isr;
  bool operator==(const partition_state&) const = default;
};

// Offline partitions (KIP-112): a partition whose log could not be opened at startup
// (a damaged segment, a file where its directory should be, a failed log dir) has no
// log; one whose log directory failed at run time keeps its log object, which answers
// errc::log_offline to everything. Every request on it answers KAFKA_STORAGE_ERROR;
// log() and log_ptr() may only be used after online() said yes (a log that goes
// offline after the check refuses the call itself).
class partition {
 public:
  partition(std::string topic, int32_t index, std::shared_ptr<storage::log> log);
  // An offline partition; `reason` says why (shown in logs and error messages).
  partition(std::string topic, int32_t index, std::string reason);

  const std::string& topic() const { return topic_; }
  int32_t index() const { return index_; }
  bool online() const;
  // Why the partition is offline ("" when online).
  std::string offline_reason() const;
  // Online partitions only.
  storage::log& log() const { return *log_; }
  // Null when offline.
  const std::shared_ptr<storage::log>& log_ptr() const { return log_; }

  int32_t leader_epoch() const { return leader_epoch_.load(std::memory_order_acquire); }
  replica_role role() const { return role_.load(std::memory_order_acquire); }
  bool is_leader() const { return role() == replica_role::leader; }
  partition_state state() const;
  // The committed ISR's size, without copying the state (acks=all checks, hot path).
  size_t isr_size() const;
  // Leader only: what it knows of each follower (from their fetches), and the ISR
  // change it has proposed and not yet seen committed (nullopt when none).
  std::vector<replica_state> followers() const;
  std::optional<std::vector<int32_t>> pending_isr() const;

  // Online partitions only.
  int64_t high_watermark() const;
  int64_t log_end_offset() const;

  watermark_waiters& hw_waiters() { return hw_waiters_; }
  watermark_waiters& log_end_waiters() { return leo_waiters_; }
  // After an append (the log's listener) or a high-watermark move: wakes what waits.
  void watermarks_moved();
  // Leadership lost, deletion, shutdown: every parked request looks again.
  void wake_all();

  // Idempotent appends hold this across check, append and record, so two
  // connections cannot interleave one producer's sequence checks.
  std::mutex& idempotence_mutex() { return idem_mu_; }
  producer_state& producers() { return producers_; }

  partition_io& io() { return io_; }
  const partition_io& io() const { return io_; }

 private:
  friend class replica_manager;
  void set_state(partition_state s, replica_role r);

  const std::string topic_;
  const int32_t index_;
  const std::shared_ptr<storage::log> log_;
  const std::string offline_reason_;

  mutable std::mutex state_mu_;
  partition_state state_;
  // Leader only (state_mu_): each follower of the assignment, the ISR proposed to the
  // controller (the store) and not yet committed, and the log end offset when this
  // leadership began (a follower joins the ISR only once it has that much).
  std::vector<replica_state> followers_;
  std::optional<std::vector<int32_t>> pending_isr_;
  int64_t leader_epoch_start_offset_ = 0;
  std::atomic<int32_t> leader_epoch_{0};
  std::atomic<replica_role> role_{replica_role::none};

  watermark_waiters hw_waiters_;
  watermark_waiters leo_waiters_;
  std::mutex idem_mu_;
  producer_state producers_;
  partition_io io_;
};

}  // namespace strata::cluster
