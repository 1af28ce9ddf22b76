// Cases mirror Kafka's PartitionTest (core/src/test/scala/unit/kafka/cluster/PartitionTest.scala)
// and, for acks, Partition.appendRecordsToLeader / checkEnoughReplicasReachOffset.
#include "cluster/isr_rules.h"

#include <gtest/gtest.h>

#include <vector>

#include "cluster/high_watermark.h"
#include "cluster/leader_election.h"

namespace strata::cluster {
namespace {

constexpr int32_t kLeader = 0;
constexpr int64_t kLagMs = 30000;
constexpr int64_t kInit = 1'000'000;

std::vector<int32_t> shrink(const std::vector<int32_t>& isr, const std::vector<replica_state>& followers,
                            int64_t leo, int64_t now, bool in_flight = false) {
  return out_of_sync_replicas(isr_shrink_input{.leader_id = kLeader,
                                               .isr = isr,
                                               .followers = followers,
                                               .leader_log_end_offset = leo,
                                               .now_ms = now,
                                               .replica_lag_time_max_ms = kLagMs,
                                               .isr_change_in_flight = in_flight});
}

// Followers as makeLeader leaves them: a new leader, both followers in the ISR.
std::vector<replica_state> after_make_leader(std::vector<int32_t> ids, int64_t now) {
  std::vector<replica_state> out;
  for (int32_t id : ids) out.push_back(reset_replica_state({.broker_id = id}, now, 10, true, true));
  return out;
}

// PartitionTest.testMaybeShrinkIsr: follower 1 fetches to the LEO, follower 2 never
// fetches. Right after becoming leader nobody is out of sync; after the lag time
// follower 2 is.
TEST(isr_shrink, removes_follower_that_never_fetched_after_lag_time) {
  auto followers = after_make_leader({1, 2}, kInit);
  followers[0] = update_follower_fetch_state(followers[0], 10, 0, 10, kInit);
  std::vector<int32_t> isr{kLeader, 1, 2};
  EXPECT_TRUE(shrink(isr, followers, 10, kInit).empty());
  EXPECT_EQ(shrink(isr, followers, 10, kInit + kLagMs + 1), (std::vector<int32_t>{2}));
}

// PartitionTest.testShouldNotShrinkIsrIfPreviousFetchIsCaughtUp.
TEST(isr_shrink, keeps_follower_that_reached_previous_leader_leo) {
  auto followers = after_make_leader({1}, kInit);
  std::vector<int32_t> isr{kLeader, 1};
  const int64_t first_fetch = kInit + 5000;
  followers[0] = update_follower_fetch_state(followers[0], 5, 0, 10, first_fetch);
  EXPECT_EQ(followers[0].last_caught_up_time_ms, kInit);
  // HW with the follower at 5: 5.
  EXPECT_EQ(compute_high_watermark({.leader_log_end_offset = 10, .high_watermark = 0,
                                    .followers = followers, .maximal_isr = isr,
                                    .now_ms = first_fetch, .replica_lag_time_max_ms = kLagMs}),
            5);
  // Five more records; the follower reaches the old LEO 10 more than the lag time after
  // initialisation.
  const int64_t second_fetch = first_fetch + 5001;
  followers[0] = update_follower_fetch_state(followers[0], 10, 0, 15, second_fetch);
  EXPECT_EQ(followers[0].last_caught_up_time_ms, first_fetch);
  EXPECT_TRUE(shrink(isr, followers, 15, second_fetch).empty());
}

// PartitionTest.testShouldNotShrinkIsrIfFollowerCaughtUpToLogEnd
TEST(isr_shrink, keeps_idle_follower_at_log_end) {
  auto followers = after_make_leader({1}, kInit);
  followers[0] = update_follower_fetch_state(followers[0], 10, 0, 10, kInit);
  EXPECT_TRUE(shrink({kLeader, 1}, followers, 10, kInit + 30001).empty());
}

TEST(isr_shrink, never_removes_the_leader) {
  // Even with a stale entry for the leader's own id in the list.
  std::vector<replica_state> followers{{.broker_id = kLeader}, {.broker_id = 1, .log_end_offset = 10}};
  EXPECT_TRUE(shrink({kLeader, 1}, followers, 10, kInit + 10 * kLagMs).empty());
}

TEST(isr_shrink, isr_member_without_state_is_out_of_sync) {
  EXPECT_EQ(shrink({kLeader, 7}, {}, 10, kInit), (std::vector<int32_t>{7}));
}

// PartitionTest.testSingleInFlightAlterIsr: nothing while a change is in flight.
TEST(isr_shrink, nothing_while_change_in_flight) {
  auto followers = after_make_leader({1, 2}, kInit);
  EXPECT_TRUE(shrink({kLeader, 1, 2}, followers, 10, kInit + kLagMs + 1, true).empty());
}

isr_expand_input expand_input(int64_t follower_leo, int64_t hw, int64_t epoch_start) {
  return isr_expand_input{.follower_log_end_offset = follower_leo,
                          .high_watermark = hw,
                          .leader_epoch_start_offset = epoch_start,
                          .broker_alive = true,
                          .in_isr = false,
                          .isr_change_in_flight = false};
}

// PartitionTest.testIsrExpansion: 10 records in epoch 4, leader in epoch 5 (starting at
// 10) with HW 10. A fetch at 3 does not add the follower, one at 10 does.
TEST(isr_expand, needs_hw) {
  EXPECT_FALSE(should_expand_isr(expand_input(3, 10, 10)));
  EXPECT_TRUE(should_expand_isr(expand_input(10, 10, 10)));
}

// PartitionTest.testFollowerDoesNotJoinISRUntilCaughtUpToOffsetWithinCurrentLeaderEpoch:
// HW 1, the leader's current epoch starts at 5; fetches at 0 and 1 do not add the
// follower, one at 5 does.
TEST(isr_expand, needs_offset_within_current_leader_epoch) {
  EXPECT_FALSE(should_expand_isr(expand_input(0, 1, 5)));
  EXPECT_FALSE(should_expand_isr(expand_input(1, 1, 5)));
  EXPECT_TRUE(should_expand_isr(expand_input(5, 1, 5)));
}

// PartitionTest.testIsrNotExpandedIfReplicaIsFencedOrShutdown (ZooKeeper variant: the
// broker is not alive), testSingleInFlightAlterIsr, and a follower already in the ISR.
TEST(isr_expand, not_for_dead_broker_member_or_while_in_flight) {
  auto in = expand_input(10, 10, 10);
  in.broker_alive = false;
  EXPECT_FALSE(should_expand_isr(in));
  in = expand_input(10, 10, 10);
  in.in_isr = true;
  EXPECT_FALSE(should_expand_isr(in));
  in = expand_input(10, 10, 10);
  in.isr_change_in_flight = true;
  EXPECT_FALSE(should_expand_isr(in));
  EXPECT_FALSE(should_expand_isr(expand_input(kUnknownOffset, 0, 0)));  // never fetched
}

TEST(maximal_isr, adds_pending_replica_once) {
  std::vector<int32_t> isr{1, 2};
  EXPECT_EQ(maximal_isr(isr, std::nullopt), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(maximal_isr(isr, 3), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(maximal_isr(isr, 2), (std::vector<int32_t>{1, 2}));
}

TEST(acks, only_zero_one_and_all_are_valid) {
  EXPECT_TRUE(is_valid_required_acks(0));
  EXPECT_TRUE(is_valid_required_acks(1));
  EXPECT_TRUE(is_valid_required_acks(-1));
  EXPECT_FALSE(is_valid_required_acks(2));
  EXPECT_FALSE(is_valid_required_acks(-2));
}

// The scenario end to end: three replicas, brokers 1 and 2 die, broker 3 is
// elected from the ISR; acks=all with min.insync.replicas=2 is refused with
// NOT_ENOUGH_REPLICAS, while min.insync.replicas=1 is accepted.
TEST(acks, two_of_three_brokers_down_refuses_acks_all_with_min_isr_2) {
  leader_and_isr state{.leader = 1, .leader_epoch = 5, .isr = {1, 2, 3}};
  std::vector<int32_t> assignment{1, 2, 3};
  std::vector<int32_t> live{3};
  auto elected = elect_leader_for_offline_partition(assignment, state, live, false);
  ASSERT_TRUE(elected);
  EXPECT_EQ(*elected, (leader_and_isr{3, 6, {3}}));
  EXPECT_FALSE(has_enough_replicas_for_append(elected->isr.size(), 2));
  EXPECT_TRUE(has_enough_replicas_for_append(elected->isr.size(), 1));
}

// Classic Kafka: no cap at the replication factor (see effective_min_insync_replicas).
TEST(acks, min_isr_above_replication_factor_is_not_capped) {
  EXPECT_EQ(effective_min_insync_replicas(4), 4);
  EXPECT_FALSE(has_enough_replicas_for_append(3, 4));
  EXPECT_TRUE(has_enough_replicas_for_append(3, 3));
}

// Partition.checkEnoughReplicasReachOffset
TEST(acks, all_waits_for_hw_then_checks_isr_size) {
  EXPECT_EQ(acks_all_satisfied(/*hw=*/9, /*required=*/10, 3, 2), acks_all_status::wait);
  EXPECT_EQ(acks_all_satisfied(10, 10, 3, 2), acks_all_status::done);
  EXPECT_EQ(acks_all_satisfied(12, 10, 2, 2), acks_all_status::done);
  // The ISR shrank to the leader while the request waited (the HW then moved on the
  // leader alone).
  EXPECT_EQ(acks_all_satisfied(12, 10, 1, 2), acks_all_status::not_enough_replicas_after_append);
  // Still waiting: the ISR size only matters once the HW is there.
  EXPECT_EQ(acks_all_satisfied(9, 10, 1, 2), acks_all_status::wait);
}

}  // namespace
}  // namespace strata::cluster
