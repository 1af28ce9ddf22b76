// Cases mirror Kafka's ReplicaTest (core/src/test/scala/unit/kafka/cluster/ReplicaTest.scala),
// with distinct fetch times where Kafka's MockTime never advanced, so that the test can
// tell "the previous fetch's time" from "this fetch's time".
#include "cluster/replica_state.h"

#include <gtest/gtest.h>

namespace strata::cluster {
namespace {

constexpr int64_t kLagMs = 30000;  // replica.lag.time.max.ms default
constexpr int64_t kT0 = 1'000'000;

// ReplicaTest.testInitialState
TEST(replica_state, initial_state_is_unknown) {
  replica_state s;
  EXPECT_EQ(s.log_start_offset, kUnknownOffset);
  EXPECT_EQ(s.log_end_offset, kUnknownOffset);
  EXPECT_EQ(s.last_caught_up_time_ms, 0);
  EXPECT_EQ(s.last_fetch_leader_log_end_offset, 0);
  EXPECT_EQ(s.last_fetch_time_ms, 0);
}

// ReplicaTest.testUpdateFetchState: rule 3, then rule 2, then rule 1.
TEST(replica_state, update_fetch_state_dates_last_caught_up) {
  replica_state s{.broker_id = 2};
  s = update_follower_fetch_state(s, /*fetch_offset=*/5, /*log_start=*/1, /*leader_leo=*/10, kT0);
  EXPECT_EQ(s, (replica_state{2, 1, 5, 10, kT0, 0}));

  // Reached the leader's LEO of the previous fetch (10), not today's (15): caught up as
  // of the previous fetch.
  s = update_follower_fetch_state(s, 10, 2, 15, kT0 + 100);
  EXPECT_EQ(s, (replica_state{2, 2, 10, 15, kT0 + 100, kT0}));

  // Reached today's LEO: caught up now.
  s = update_follower_fetch_state(s, 15, 3, 15, kT0 + 200);
  EXPECT_EQ(s, (replica_state{2, 3, 15, 15, kT0 + 200, kT0 + 200}));
}

TEST(replica_state, fetch_below_both_leader_ends_keeps_last_caught_up) {
  replica_state s{.broker_id = 2, .log_end_offset = 10, .last_fetch_leader_log_end_offset = 20,
                  .last_fetch_time_ms = kT0, .last_caught_up_time_ms = kT0 - 500};
  s = update_follower_fetch_state(s, 12, 0, 25, kT0 + 100);
  EXPECT_EQ(s.last_caught_up_time_ms, kT0 - 500);
  EXPECT_EQ(s.last_fetch_leader_log_end_offset, 25);
  EXPECT_EQ(s.log_end_offset, 12);
}

TEST(replica_state, last_caught_up_never_moves_backwards) {
  replica_state s{.broker_id = 2, .log_end_offset = 10, .last_fetch_leader_log_end_offset = 10,
                  .last_fetch_time_ms = kT0, .last_caught_up_time_ms = kT0};
  // A fetch stamped earlier than what we know (clock values are the caller's).
  s = update_follower_fetch_state(s, 10, 0, 10, kT0 - 50);
  EXPECT_EQ(s.last_caught_up_time_ms, kT0);
}

TEST(replica_state, leader_leo_at_last_fetch_keeps_its_maximum) {
  replica_state s{.broker_id = 2, .last_fetch_leader_log_end_offset = 30};
  s = update_follower_fetch_state(s, 5, 0, 20, kT0);
  EXPECT_EQ(s.last_fetch_leader_log_end_offset, 30);
}

// ReplicaTest.testIsCaughtUpWhenReplicaIsCaughtUpToLogEnd
TEST(replica_state, caught_up_to_log_end_stays_caught_up) {
  replica_state s{.broker_id = 2};
  EXPECT_FALSE(is_caught_up(s, 10, kT0, kLagMs));
  s = update_follower_fetch_state(s, 10, 1, 10, kT0);
  EXPECT_TRUE(is_caught_up(s, 10, kT0, kLagMs));
  EXPECT_TRUE(is_caught_up(s, 10, kT0 + kLagMs + 1, kLagMs));  // idle, but at the LEO
}

// ReplicaTest.testIsCaughtUpWhenReplicaIsNotCaughtUpToLogEnd, with the boundary.
TEST(replica_state, not_at_log_end_is_caught_up_for_the_lag_time) {
  replica_state s{.broker_id = 2};
  s = update_follower_fetch_state(s, 5, 1, 10, kT0);
  EXPECT_FALSE(is_caught_up(s, 10, kT0, kLagMs));
  s = update_follower_fetch_state(s, 10, 1, 15, kT0 + 500);
  EXPECT_EQ(s.last_caught_up_time_ms, kT0);
  EXPECT_TRUE(is_caught_up(s, 16, kT0 + 500, kLagMs));
  EXPECT_TRUE(is_caught_up(s, 16, kT0 + kLagMs, kLagMs));
  EXPECT_FALSE(is_caught_up(s, 16, kT0 + kLagMs + 1, kLagMs));
}

replica_state fetched_to_10() {
  return update_follower_fetch_state(replica_state{.broker_id = 2}, 10, 1, 10, kT0);
}

// ReplicaTest.testResetReplicaStateWhenLeaderIsReelectedAndReplicaIsInSync
TEST(replica_state, reset_reelected_leader_in_sync) {
  auto s = reset_replica_state(fetched_to_10(), kT0 + 100, 11, /*is_new_leader=*/false,
                               /*is_follower_in_sync=*/true);
  EXPECT_EQ(s, (replica_state{2, 1, 10, 11, kT0 + 100, kT0 + 100}));
}

// ReplicaTest.testResetReplicaStateWhenLeaderIsReelectedAndReplicaIsNotInSync
TEST(replica_state, reset_reelected_leader_not_in_sync) {
  auto s = reset_replica_state(fetched_to_10(), kT0 + 100, 11, false, false);
  EXPECT_EQ(s, (replica_state{2, 1, 10, 11, 0, 0}));
}

// ReplicaTest.testResetReplicaStateWhenNewLeaderIsElectedAndReplicaIsInSync
TEST(replica_state, reset_new_leader_in_sync) {
  auto s = reset_replica_state(fetched_to_10(), kT0 + 100, 11, true, true);
  EXPECT_EQ(s, (replica_state{2, kUnknownOffset, kUnknownOffset, kUnknownOffset, 0, kT0 + 100}));
}

// ReplicaTest.testResetReplicaStateWhenNewLeaderIsElectedAndReplicaIsNotInSync
TEST(replica_state, reset_new_leader_not_in_sync) {
  auto s = reset_replica_state(fetched_to_10(), kT0 + 100, 11, true, false);
  EXPECT_EQ(s, (replica_state{2, kUnknownOffset, kUnknownOffset, kUnknownOffset, 0, 0}));
}

}  // namespace
}  // namespace strata::cluster
