// Leader choices mirror Kafka's PartitionLeaderElectionAlgorithmsTest
// (core/src/test/scala/unit/kafka/controller/, removed from trunk with ZooKeeper mode; read at
// apache/kafka 00d00469); the ISR and epoch results follow Election.scala,
// PartitionStateMachine.initializeLeaderAndIsrForPartitions and
// ReplicaStateMachine.doRemoveReplicasFromIsr.
#include "cluster/leader_election.h"

#include <gtest/gtest.h>

#include <vector>

namespace strata::cluster {
namespace {

using ids = std::vector<int32_t>;

leader_and_isr state(int32_t leader, ids isr, int32_t epoch = 7) {
  return leader_and_isr{leader, epoch, std::move(isr)};
}

// testOfflinePartitionLeaderElection
TEST(offline_election, first_live_isr_member_leads) {
  auto r = elect_leader_for_offline_partition(ids{2, 4}, state(2, {2, 4}), ids{4}, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (leader_and_isr{4, 8, {4}}));  // dead 2 leaves the ISR, epoch + 1
}

TEST(offline_election, follows_assignment_order_not_isr_order) {
  auto r = elect_leader_for_offline_partition(ids{3, 1, 2}, state(-1, {1, 2, 3}), ids{1, 2, 3}, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (leader_and_isr{3, 8, {1, 2, 3}}));
}

// testOfflinePartitionLeaderElectionLastIsrOfflineUncleanLeaderElectionDisabled
TEST(offline_election, no_live_isr_member_and_clean_stays_offline) {
  EXPECT_EQ(elect_leader_for_offline_partition(ids{2, 4}, state(2, {2}), ids{4}, false), std::nullopt);
}

// testOfflinePartitionLeaderElectionLastIsrOfflineUncleanLeaderElectionEnabled
TEST(offline_election, unclean_takes_first_live_replica_alone) {
  auto r = elect_leader_for_offline_partition(ids{2, 4}, state(2, {2}), ids{4}, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (leader_and_isr{4, 8, {4}}));
}

TEST(offline_election, unclean_prefers_a_clean_choice) {
  auto r = elect_leader_for_offline_partition(ids{2, 4, 6}, state(2, {2, 6}), ids{4, 6}, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (leader_and_isr{6, 8, {6}}));
}

TEST(offline_election, nothing_live_stays_offline_even_unclean) {
  EXPECT_EQ(elect_leader_for_offline_partition(ids{2, 4}, state(2, {2, 4}), ids{}, true), std::nullopt);
}

// testControlledShutdownPartitionLeaderElection
TEST(controlled_shutdown_election, skips_and_removes_shutting_down_brokers) {
  auto r = elect_leader_for_controlled_shutdown(ids{2, 4}, state(2, {2, 4}), ids{2, 4}, ids{2});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (leader_and_isr{4, 8, {4}}));
}

// testControlledShutdownPartitionLeaderElectionLastIsrShuttingDown
TEST(controlled_shutdown_election, last_isr_member_shutting_down_fails) {
  EXPECT_EQ(elect_leader_for_controlled_shutdown(ids{2, 4}, state(2, {2}), ids{2, 4}, ids{2}), std::nullopt);
}

// testControlledShutdownPartitionLeaderElectionAllIsrSimultaneouslyShutdown
TEST(controlled_shutdown_election, all_isr_shutting_down_fails) {
  EXPECT_EQ(elect_leader_for_controlled_shutdown(ids{2, 4}, state(2, {2, 4}), ids{2, 4}, ids{2, 4}),
            std::nullopt);
}

TEST(controlled_shutdown_election, keeps_live_isr_members_that_stay) {
  auto r = elect_leader_for_controlled_shutdown(ids{1, 2, 3}, state(1, {1, 2, 3}), ids{1, 2, 3}, ids{1});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (leader_and_isr{2, 8, {2, 3}}));
}

// testPreferredReplicaPartitionLeaderElection
TEST(preferred_election, first_replica_leads_isr_kept) {
  auto r = elect_preferred_leader(ids{2, 4}, state(4, {2, 4}), ids{2, 4});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (leader_and_isr{2, 8, {2, 4}}));
}

// testPreferredReplicaPartitionLeaderElectionPreferredReplicaInIsrNotLive,
// ...NotInIsrLive, ...NotInIsrNotLive
TEST(preferred_election, needs_preferred_replica_live_and_in_isr) {
  EXPECT_EQ(elect_preferred_leader(ids{2, 4}, state(4, {2}), ids{}), std::nullopt);
  EXPECT_EQ(elect_preferred_leader(ids{2, 4}, state(4, {4}), ids{2, 4}), std::nullopt);
  EXPECT_EQ(elect_preferred_leader(ids{2, 4}, state(4, {}), ids{}), std::nullopt);
  EXPECT_EQ(elect_preferred_leader(ids{}, state(4, {4}), ids{4}), std::nullopt);
}

// PartitionStateMachine.initializeLeaderAndIsrForPartitions
TEST(initial_election, first_live_replica_leads_live_replicas_form_isr) {
  auto r = initial_leader_and_isr(ids{1, 2, 3}, ids{3, 2});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (leader_and_isr{2, kInitialLeaderEpoch, {2, 3}}));
  EXPECT_EQ(initial_leader_and_isr(ids{1, 2, 3}, ids{4}), std::nullopt);
}

// ReplicaStateMachine, OnlineReplica -> OfflineReplica
TEST(remove_replica_from_isr, leader_leaves_isr_and_partition_has_no_leader) {
  EXPECT_EQ(remove_replica_from_isr(state(1, {1, 2}), 1), (leader_and_isr{kNoLeader, 8, {2}}));
}

TEST(remove_replica_from_isr, follower_leaves_isr_leader_stays) {
  EXPECT_EQ(remove_replica_from_isr(state(1, {1, 2, 3}), 3), (leader_and_isr{1, 8, {1, 2}}));
}

TEST(remove_replica_from_isr, last_isr_member_stays_in_isr) {
  EXPECT_EQ(remove_replica_from_isr(state(1, {1}), 1), (leader_and_isr{kNoLeader, 8, {1}}));
  // Then a clean election can only choose broker 1 again, when it returns.
  auto s = remove_replica_from_isr(state(1, {1}), 1);
  EXPECT_EQ(elect_leader_for_offline_partition(ids{1, 2}, s, ids{2}, false), std::nullopt);
  auto back = elect_leader_for_offline_partition(ids{1, 2}, s, ids{1, 2}, false);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, (leader_and_isr{1, 9, {1}}));
}

}  // namespace
}  // namespace strata::cluster
