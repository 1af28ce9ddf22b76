// Leader HW cases mirror Kafka's PartitionTest (core/src/test/scala/unit/kafka/cluster/
// PartitionTest.scala); the follower HW cases follow UnifiedLog.updateHighWatermark.
#include "cluster/high_watermark.h"

#include <gtest/gtest.h>

#include <vector>

#include "cluster/isr_rules.h"

namespace strata::cluster {
namespace {

constexpr int32_t kLeader = 1;
constexpr int64_t kLagMs = 30000;
constexpr int64_t kNow = 1'000'000;

replica_state follower(int32_t id, int64_t leo, int64_t last_caught_up_ms) {
  return replica_state{.broker_id = id, .log_end_offset = leo, .last_caught_up_time_ms = last_caught_up_ms};
}

struct fixture {
  std::vector<replica_state> followers;
  std::vector<int32_t> isr{kLeader};
  std::vector<int32_t> alive{1, 2, 3};
  int64_t leo = 10;
  int64_t hw = 0;

  std::optional<int64_t> compute(int64_t now = kNow) const {
    return compute_high_watermark(leader_hw_input{.leader_log_end_offset = leo,
                                                  .high_watermark = hw,
                                                  .followers = followers,
                                                  .maximal_isr = isr,
                                                  .isr_eligible_brokers = alive,
                                                  .now_ms = now,
                                                  .replica_lag_time_max_ms = kLagMs});
  }
};

// Partition.appendRecordsToLeader: "we may need to increment high watermark since ISR
// could be down to 1".
TEST(leader_high_watermark, leader_alone_moves_hw_to_its_leo) {
  fixture f;
  EXPECT_EQ(f.compute(), 10);
}

// PartitionTest.testShouldNotShrinkIsrIfPreviousFetchIsCaughtUp: follower in the ISR at
// 5, leader at 10 -> HW 5; then follower at 10 -> HW 10.
TEST(leader_high_watermark, is_min_leo_over_isr) {
  fixture f;
  f.isr = {kLeader, 2};
  f.followers = {follower(2, 5, kNow)};
  EXPECT_EQ(f.compute(), 5);
  f.hw = 5;
  f.leo = 15;
  f.followers = {follower(2, 10, kNow)};
  EXPECT_EQ(f.compute(), 10);
}

TEST(leader_high_watermark, never_moves_backwards) {
  fixture f;
  f.isr = {kLeader, 2};
  f.followers = {follower(2, 5, kNow)};
  f.hw = 7;  // e.g. the follower's fetch state was reset after a new epoch
  EXPECT_EQ(f.compute(), std::nullopt);
  f.hw = 5;
  EXPECT_EQ(f.compute(), std::nullopt);  // unchanged
}

// PartitionTest.testMaybeShrinkIsr: an ISR member that has not fetched since this broker
// became leader (LEO unknown) keeps the HW where it is.
TEST(leader_high_watermark, isr_member_with_unknown_leo_holds_hw) {
  fixture f;
  f.isr = {kLeader, 2, 3};
  f.followers = {follower(2, 10, kNow), follower(3, kUnknownOffset, kNow)};
  EXPECT_EQ(f.compute(), std::nullopt);
  EXPECT_EQ(f.compute(kNow + kLagMs + 1), std::nullopt);  // lagging, but still in the ISR
  // The ISR shrinks to {1, 2}. Just after makeLeader follower 3 still counts as caught
  // up (its lastCaughtUpTimeMs is the election time) and holds the HW as a follower
  // about to join; past the lag time it no longer does and the HW goes to the LEO.
  f.isr = {kLeader, 2};
  EXPECT_EQ(f.compute(kNow), std::nullopt);
  EXPECT_EQ(f.compute(kNow + kLagMs + 1), 10);
}

// PartitionTest.testHighWatermarkIncreasesWithFencedOrShutdownFollower: a follower just
// removed from the ISR but still caught up holds the HW (10) while eligible; once it is
// not eligible (ZooKeeper mode: its broker is gone) the HW goes to the LEO (20).
TEST(leader_high_watermark, caught_up_eligible_follower_outside_isr_holds_hw) {
  fixture f;
  f.leo = 20;
  f.hw = 10;
  f.followers = {follower(2, 10, kNow)};
  EXPECT_EQ(f.compute(), std::nullopt);
  f.alive = {1, 3};
  EXPECT_EQ(f.compute(), 20);
}

TEST(leader_high_watermark, lagging_follower_outside_isr_does_not_hold_hw) {
  fixture f;
  f.followers = {follower(2, 3, kNow - kLagMs - 1)};
  EXPECT_EQ(f.compute(), 10);
  // Caught up within the lag time: it is about to join, so the HW waits for it.
  f.followers = {follower(2, 3, kNow - kLagMs)};
  EXPECT_EQ(f.compute(), 3);
}

// KIP-497 / PartitionTest.testIsrExpansion: the follower whose addition is in flight is
// in the maximal ISR and counts for the HW even if it would no longer be caught up.
TEST(leader_high_watermark, uses_maximal_isr_while_expansion_pending) {
  fixture f;
  f.followers = {follower(2, 4, 0)};  // not caught up by time
  std::vector<int32_t> committed{kLeader};
  f.isr = maximal_isr(committed, 2);
  EXPECT_EQ(f.compute(), 4);
  f.isr = maximal_isr(committed, std::nullopt);
  EXPECT_EQ(f.compute(), 10);
}

TEST(leader_high_watermark, never_passes_leader_leo) {
  fixture f;
  f.isr = {kLeader, 2, 3};
  f.followers = {follower(2, 50, kNow), follower(3, 60, kNow)};  // ahead after a truncation race
  EXPECT_EQ(f.compute(), 10);
}

TEST(follower_high_watermark, is_min_of_leader_hw_and_own_leo) {
  EXPECT_EQ(follower_high_watermark(/*leader_hw=*/8, /*log_start=*/0, /*leo=*/10, /*hw=*/5), 8);
  EXPECT_EQ(follower_high_watermark(12, 0, 10, 5), 10);
  EXPECT_EQ(follower_high_watermark(10, 0, 10, 10), std::nullopt);
}

TEST(follower_high_watermark, never_below_log_start) {
  EXPECT_EQ(follower_high_watermark(3, 5, 10, 0), 5);
}

// Unlike the leader's, a follower's HW follows the leader down (a new leader that has
// not yet learnt the old leader's HW).
TEST(follower_high_watermark, may_move_backwards) {
  EXPECT_EQ(follower_high_watermark(4, 0, 10, 8), 4);
}

}  // namespace
}  // namespace strata::cluster
