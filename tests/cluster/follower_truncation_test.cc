// Cases mirror Kafka's ReplicaFetcherThreadTest and AbstractFetcherThreadTest
// (core/src/test/scala/unit/kafka/server/) and PartitionTest's epoch validation. The
// multi-round cases run against real storage::leader_epoch_cache objects on both sides,
// so they also check that the lookup binding in follower_truncation.h is right.
#include "cluster/follower_truncation.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <vector>

#include "storage/fs/file.h"
#include "storage/leader_epoch_cache.h"

namespace strata::cluster {
namespace {

constexpr int32_t kNone = storage::kUndefinedEpoch;
constexpr int64_t kNoOffset = storage::kUndefinedEpochOffset;

// A follower lookup with fixed answers, like the mocked log.endOffsetForEpoch in
// ReplicaFetcherThreadTest; unknown epochs answer (-1, -1).
epoch_end_offset_lookup fixed(std::map<int32_t, epoch_end_offset> answers) {
  return [answers = std::move(answers)](int32_t epoch) {
    auto it = answers.find(epoch);
    return it == answers.end() ? epoch_end_offset{} : it->second;
  };
}

// shouldTruncateToOffsetSpecifiedInEpochOffsetResponse: follower LEO 200 in epoch 5.
TEST(offset_truncation_state, truncates_to_leader_end_offset_for_shared_epoch) {
  auto lookup = fixed({{5, {5, 200}}});
  EXPECT_EQ(offset_truncation_state({5, 156}, 200, 199, lookup), (truncation_state{156, true}));
  EXPECT_EQ(offset_truncation_state({5, 172}, 200, 199, lookup), (truncation_state{172, true}));
  // Never past the follower's own end offset for that epoch, nor its LEO.
  EXPECT_EQ(offset_truncation_state({5, 250}, 200, 199, lookup), (truncation_state{200, true}));
  EXPECT_EQ(offset_truncation_state({4, 150}, 200, 0, fixed({{4, {4, 120}}})),
            (truncation_state{120, true}));
}

// shouldTruncateToOffsetSpecifiedInEpochOffsetResponseIfFollowerHasNoMoreEpochs
TEST(offset_truncation_state, follower_without_that_epoch_uses_leader_offset) {
  auto lookup = fixed({});
  EXPECT_EQ(offset_truncation_state({4, 156}, 200, 197, lookup), (truncation_state{156, true}));
  EXPECT_EQ(offset_truncation_state({4, 202}, 200, 197, lookup), (truncation_state{200, true}));
}

// shouldFetchLeaderEpochSecondTimeIfLeaderRepliesWithEpochNotKnownToFollower: the leader
// answers epoch 4, the follower's largest epoch below it is 3 (ending at 120): truncate
// to 120 and ask again; the second answer (3, 101) / (3, 102) completes.
TEST(offset_truncation_state, unknown_leader_epoch_truncates_and_asks_again) {
  auto lookup = fixed({{4, {3, 120}}, {3, {3, 120}}});
  EXPECT_EQ(offset_truncation_state({4, 155}, 200, 198, lookup), (truncation_state{120, false}));
  EXPECT_EQ(offset_truncation_state({4, 143}, 200, 198, lookup), (truncation_state{120, false}));
  EXPECT_EQ(offset_truncation_state({3, 101}, 120, 198, lookup), (truncation_state{101, true}));
  EXPECT_EQ(offset_truncation_state({3, 102}, 120, 198, lookup), (truncation_state{102, true}));
}

// shouldTruncateIfLeaderRepliesWithDivergingEpochNotKnownToFollower (the Fetch path):
// DivergingEpoch (4,140) -> 140; (3,130) -> the follower's epoch 2 ends at 129, not
// done; (2,120) -> its epoch 1 ends at 119, not done.
TEST(offset_truncation_state, diverging_epoch_from_fetch) {
  auto lookup = fixed({{4, {4, 149}}, {3, {2, 129}}, {2, {1, 119}}});
  EXPECT_EQ(offset_truncation_state({4, 140}, 200, 115, lookup), (truncation_state{140, true}));
  EXPECT_EQ(offset_truncation_state({3, 130}, 200, 115, lookup), (truncation_state{129, false}));
  EXPECT_EQ(offset_truncation_state({2, 120}, 200, 115, lookup), (truncation_state{119, false}));
}

// shouldTruncateToInitialFetchOffsetIfLeaderReturnsUndefinedOffset (initial fetch
// offset = HW = 100).
TEST(offset_truncation_state, undefined_leader_offset_truncates_to_hw) {
  auto lookup = fixed({{5, {5, 200}}});
  EXPECT_EQ(offset_truncation_state({kNone, kNoOffset}, 200, 100, lookup), (truncation_state{100, true}));
  EXPECT_EQ(offset_truncation_state({5, kNoOffset}, 200, 100, lookup), (truncation_state{100, true}));
}

// shouldUseLeaderEndOffsetIfInterBrokerVersionBelow20: an answer without an epoch.
TEST(offset_truncation_state, answer_without_epoch_uses_leader_offset) {
  auto lookup = fixed({});
  EXPECT_EQ(offset_truncation_state({kNone, 155}, 200, 0, lookup), (truncation_state{155, true}));
  EXPECT_EQ(offset_truncation_state({kNone, 143}, 200, 0, lookup), (truncation_state{143, true}));
  EXPECT_EQ(offset_truncation_state({kNone, 300}, 200, 0, lookup), (truncation_state{200, true}));
}

// A partition's log as the tests need it: a leader-epoch cache and a log end offset.
struct replica_log {
  // Never flushed: the path is only where the cache would write.
  storage::leader_epoch_cache cache;
  int64_t leo = 0;

  replica_log(const char* name, std::vector<storage::epoch_entry> entries, int64_t end)
      : cache(storage::fs::posix_file_system(),
              (std::filesystem::path(::testing::TempDir()) / name).string()),
        leo(end) {
    cache.clear();
    for (auto e : entries) cache.assign(e.epoch, e.start_offset);
  }
  epoch_end_offset end_offset_for(int32_t epoch) const {
    auto [e, o] = cache.end_offset_for(epoch, leo);
    return {e, o};
  }
  epoch_end_offset_lookup lookup() const {
    return [this](int32_t epoch) { return end_offset_for(epoch); };
  }
  void truncate_to(int64_t offset) {
    if (offset >= leo) return;
    leo = offset;
    cache.truncate_from_end(offset);
  }
};

// AbstractFetcherThreadTest.testTruncation: follower batches at epochs 0,2,4 and leader
// batches at epochs 1,3,5 (one record each, offsets 0..2). Each round the follower sends
// its latest epoch to the leader (OffsetsForLeaderEpoch) and truncates:
//   epoch 4 -> leader (3, 2); follower's epoch <= 3 is 2 ending at 2 -> truncate to 2, again
//   epoch 2 -> leader (1, 1); follower's epoch <= 1 is 0 ending at 1 -> truncate to 1, again
//   epoch 0 -> leader (0, 0) (below its first epoch);  follower has 0  -> truncate to 0, done
TEST(offset_truncation_state, rounds_until_logs_agree) {
  replica_log follower("follower-truncation", {{0, 0}, {2, 1}, {4, 2}}, 3);
  replica_log leader("leader-truncation", {{1, 0}, {3, 1}, {5, 2}}, 3);
  std::vector<truncation_state> rounds;
  for (int i = 0; i < 10; ++i) {
    auto latest = follower.cache.latest_epoch();
    ASSERT_TRUE(latest);
    auto answer = leader.end_offset_for(*latest);
    auto t = offset_truncation_state(answer, follower.leo, /*hw=*/0, follower.lookup());
    follower.truncate_to(t.offset);
    rounds.push_back(t);
    if (t.truncation_completed) break;
  }
  EXPECT_EQ(rounds, (std::vector<truncation_state>{{2, false}, {1, false}, {0, true}}));
  EXPECT_EQ(follower.leo, 0);
}

// AbstractFetcherThreadTest.testDivergingEpochs, leader and follower sides together:
// follower epochs 0,2,4 (LEO 3, last fetched epoch 4), leader epochs 0,2,5. The leader
// answers DivergingEpoch (2, 2); the follower truncates to 2, after which its last
// fetched epoch is 2 and the next fetch from 2 is served.
TEST(diverging_epoch, leader_and_follower_agree_in_one_round) {
  replica_log follower("follower-diverging", {{0, 0}, {2, 1}, {4, 2}}, 3);
  replica_log leader("leader-diverging", {{0, 0}, {2, 1}, {5, 2}}, 3);
  auto check = check_diverging_epoch(4, follower.leo, leader.end_offset_for(4), 0);
  ASSERT_EQ(check.status, diverging_epoch_status::diverging);
  EXPECT_EQ(check.diverging, (epoch_end_offset{2, 2}));
  auto t = offset_truncation_state(check.diverging, follower.leo, 0, follower.lookup());
  EXPECT_EQ(t, (truncation_state{2, true}));
  follower.truncate_to(t.offset);
  EXPECT_EQ(follower.cache.latest_epoch(), 2);
  EXPECT_EQ(check_diverging_epoch(2, follower.leo, leader.end_offset_for(2), 0).status,
            diverging_epoch_status::none);
}

// Partition.readRecords, each branch.
TEST(diverging_epoch, leader_side_rules) {
  // No LastFetchedEpoch (Fetch < v12): no check.
  EXPECT_EQ(check_diverging_epoch(kNone, 10, {}, 0).status, diverging_epoch_status::none);
  // The leader cannot answer for the epoch.
  EXPECT_EQ(check_diverging_epoch(3, 10, {kNone, kNoOffset}, 0).status,
            diverging_epoch_status::offset_out_of_range);
  // Below the log start: out of range even though the epochs also diverge.
  EXPECT_EQ(check_diverging_epoch(3, 4, {2, 3}, 5).status, diverging_epoch_status::offset_out_of_range);
  // The leader's epoch for it is older: diverging.
  EXPECT_EQ(check_diverging_epoch(3, 10, {2, 12}, 0),
            (diverging_epoch_result{diverging_epoch_status::diverging, {2, 12}}));
  // Same epoch but it ended before the fetch offset: diverging.
  EXPECT_EQ(check_diverging_epoch(3, 10, {3, 8}, 0),
            (diverging_epoch_result{diverging_epoch_status::diverging, {3, 8}}));
  // Same epoch, ending at or after the fetch offset: serve.
  EXPECT_EQ(check_diverging_epoch(3, 10, {3, 10}, 0).status, diverging_epoch_status::none);
  EXPECT_EQ(check_diverging_epoch(3, 10, {3, 15}, 0).status, diverging_epoch_status::none);
}

// PartitionTest.testLeaderEpochValidationOnLeader (checkCurrentLeaderEpoch)
TEST(leader_epoch_check, fences_old_and_rejects_unknown_epochs) {
  EXPECT_EQ(check_current_leader_epoch(kNone, 5), leader_epoch_check::ok);
  EXPECT_EQ(check_current_leader_epoch(5, 5), leader_epoch_check::ok);
  EXPECT_EQ(check_current_leader_epoch(4, 5), leader_epoch_check::fenced_leader_epoch);
  EXPECT_EQ(check_current_leader_epoch(6, 5), leader_epoch_check::unknown_leader_epoch);
}

// AbstractFetcherThreadTest.testFollowerFetchOutOfRangeHigh: the leader's log was emptied
// (LEO 0) under a follower at 3.
TEST(offset_out_of_range, leader_behind_follower_truncates_to_leader_leo) {
  EXPECT_EQ(handle_offset_out_of_range(3, 0, 0), (out_of_range_result{out_of_range_action::truncate, 0}));
}

// AbstractFetcherThreadTest.testFollowerFetchOutOfRangeLow: follower at 1, the leader's
// log starts at 2.
TEST(offset_out_of_range, below_leader_log_start_restarts_there) {
  EXPECT_EQ(handle_offset_out_of_range(1, 3, 2),
            (out_of_range_result{out_of_range_action::truncate_fully_and_start_at, 2}));
}

TEST(offset_out_of_range, otherwise_fetches_from_own_leo) {
  EXPECT_EQ(handle_offset_out_of_range(5, 10, 2), (out_of_range_result{out_of_range_action::fetch_from, 5}));
  EXPECT_EQ(handle_offset_out_of_range(2, 10, 2), (out_of_range_result{out_of_range_action::fetch_from, 2}));
}

}  // namespace
}  // namespace strata::cluster
