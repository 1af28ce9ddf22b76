#pragma once
// The controller's leader elections (DESIGN-NOTES §9) as pure functions.
//
// Matches classic Kafka's controller: Election.scala (leaderForOffline,
// leaderForControlledShutdown, leaderForPreferredReplica),
// PartitionStateMachine.PartitionLeaderElectionAlgorithms, initializeLeaderAndIsrForPartitions
// and ReplicaStateMachine's removal of an offline replica from the ISR.
//
// Every function takes the partition's assignment (replica broker ids, in assignment
// order: the first is the preferred leader) and the current leader_and_isr read from
// /brokers/topics/<t>/partitions/<p>/state, and returns the state to write back, or
// nullopt when no leader can be elected. On nullopt the partition stays offline:
// the caller leaves the znode as it is (an offline replica has already been removed
// with remove_replica_from_isr, which sets the leader to -1).
//
// A "live" broker is one registered under /brokers/ids and not in controlled shutdown
// (Kafka's ControllerContext.liveBrokerIds and isReplicaOnline; a broker with the
// partition's log directory offline does not count either). No lock, no I/O.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace strata::cluster {

inline constexpr int32_t kNoLeader = -1;          // Kafka's LeaderAndIsr.NO_LEADER
inline constexpr int32_t kInitialLeaderEpoch = 0;  // Kafka's LeaderAndIsr.INITIAL_LEADER_EPOCH

struct leader_and_isr {
  int32_t leader = kNoLeader;
  int32_t leader_epoch = kInitialLeaderEpoch;
  std::vector<int32_t> isr;
  bool operator==(const leader_and_isr&) const = default;
};

// A new partition (NewPartition -> OnlinePartition): the first live replica leads, the
// ISR is every live replica in assignment order, epoch 0. nullopt when no replica is
// live.
std::optional<leader_and_isr> initial_leader_and_isr(std::span<const int32_t> assignment,
                                                     std::span<const int32_t> live_brokers);

// Offline or new-leader-needed election (OfflinePartitionLeaderElectionStrategy):
//   1. the first replica in assignment order that is live and in the ISR leads; the new
//      ISR is the old ISR minus brokers that are not live;
//   2. else, if unclean.leader.election.enable, the first live replica leads with
//      ISR = [it] (data the old ISR had and it lacks is lost);
//   3. else nullopt: the partition stays offline.
// The leader epoch goes up by one.
// Deviation: Kafka (IBP >= 3.2) also marks an uncleanly elected leader RECOVERING in
// the LeaderAndIsr state; Strata has no leader recovery state. The caller can tell an
// unclean election by the leader being absent from the old ISR.
std::optional<leader_and_isr> elect_leader_for_offline_partition(
    std::span<const int32_t> assignment, const leader_and_isr& current,
    std::span<const int32_t> live_brokers, bool unclean_leader_election_enable);

// Controlled shutdown (ControlledShutdownPartitionLeaderElectionStrategy): the first
// replica that is live, in the ISR and not shutting down leads; brokers shutting down
// are removed from the ISR. As in Kafka, the candidates come from the live brokers
// plus those shutting down (liveOrShuttingDownBrokerIds). Leader epoch + 1. nullopt when
// every ISR member is shutting down or not live (the leader then stays where it is
// until it stops).
std::optional<leader_and_isr> elect_leader_for_controlled_shutdown(
    std::span<const int32_t> assignment, const leader_and_isr& current,
    std::span<const int32_t> live_or_shutting_down_brokers,
    std::span<const int32_t> shutting_down_brokers);

// Preferred-replica election (PreferredReplicaPartitionLeaderElectionStrategy): the
// first replica of the assignment, only if it is live and in the ISR. The ISR is kept,
// the leader epoch goes up by one. nullopt otherwise. (Callers skip partitions whose
// leader already is the preferred replica; the function does not.)
std::optional<leader_and_isr> elect_preferred_leader(std::span<const int32_t> assignment,
                                                     const leader_and_isr& current,
                                                     std::span<const int32_t> live_brokers);

// ReplicaStateMachine's OnlineReplica -> OfflineReplica transition for one partition:
// the replica leaves the ISR unless it is the last member (the ISR then still names
// the last replica known to be in sync, for a later clean election), and if it led,
// the leader becomes -1. Leader epoch + 1.
leader_and_isr remove_replica_from_isr(const leader_and_isr& current, int32_t replica);

}  // namespace strata::cluster
