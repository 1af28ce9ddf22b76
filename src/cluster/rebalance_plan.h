#pragma once
// A plan that spreads partition replicas and preferred leaders evenly over a set of
// brokers, moving as few replicas as it can: `strata cluster rebalance` (a broker
// added) and `strata cluster decommission` (a broker to empty). A pure function: the
// caller reads the assignment from Metadata and executes the plan with
// AlterPartitionReassignments (KIP-455).
//
// The plan, in three steps over the partitions in the order given:
//   1. evacuate: every replica on a broker outside `brokers` (decommissioned, or
//      gone) is replaced, in its position, by the least-loaded broker that keeps the
//      partition on as many racks as before;
//   2. spread replicas: first topic by topic (a new broker takes a share of every
//      topic, not only of the cheapest to copy), then over all topics: while one
//      broker holds two or more replicas more than another, one replica moves from
//      the first to the second (the smallest partition first: fewer bytes to copy),
//      never onto a broker that already has the partition, nor so that the partition
//      loses a rack, nor (over all topics) so that its topic's spread gets worse;
//   3. spread leaders, the same way: the preferred leader is a partition's first
//      replica; a partition led by a broker that leads two or more more than another,
//      with a replica on that other, puts that replica first. Only the order changes:
//      no data moves.
// Each move lowers the spread, so the steps end; when constraints (racks, replication
// factors) forbid an even spread, the plan is as even as single moves make it.
//
// "Rack-aware" as Kafka's placement: when every broker in `brokers` has a rack, no
// move lowers the number of racks a partition is on. A broker outside `brokers`
// counts as a rack of its own.
//
// No I/O, no lock.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/replica_placement.h"

namespace strata::cluster {

struct partition_replicas {
  std::string topic;
  int32_t partition = 0;
  std::vector<int32_t> replicas;  // assignment order: the first is the preferred leader
  int64_t size_bytes = 0;         // the leader's log size, for "bytes to move"; 0 if unknown
};

struct rebalance_input {
  // The brokers that hold every replica after the plan: the live ones, without those
  // being decommissioned.
  std::vector<broker_metadata> brokers;
  std::vector<partition_replicas> partitions;
  bool spread_leaders = true;  // step 3
};

struct partition_move {
  std::string topic;
  int32_t partition = 0;
  std::vector<int32_t> from, to;
  int64_t size_bytes = 0;
  // Replicas in `to` and not in `from`: each copies the whole partition.
  std::vector<int32_t> adding() const;
  std::vector<int32_t> removing() const;
};

struct rebalance_plan {
  // Set when no plan exists (a partition with more replicas than `brokers`); then
  // nothing else is filled in.
  std::optional<std::string> error;
  std::vector<partition_move> moves;  // the partitions whose replica list changes, in input order
  // Replicas and preferred leaders per broker of `brokers`, before and after.
  std::map<int32_t, int> replicas_before, replicas_after, leaders_before, leaders_after;
  int64_t replicas_moved = 0;  // replicas copied to a new broker
  int64_t bytes_to_move = 0;   // sum of size_bytes over every copied replica
};

rebalance_plan plan_rebalance(const rebalance_input& in);

}  // namespace strata::cluster
