// The pure reassignment rules (controller/reassignment.h), case by case against
// Kafka's ReplicaAssignment and KafkaController behaviour.
#include "controller/reassignment.h"

#include <gtest/gtest.h>

namespace strata::controller {
namespace {

using ids = std::vector<int32_t>;

replica_assignment plain(ids r) { return {std::move(r), {}, {}}; }

TEST(reassignment, reassign_to_adds_target_first_then_origin) {
  auto a = plain({1, 2, 3}).reassign_to(ids{2, 3, 4});
  EXPECT_EQ(a.replicas, (ids{2, 3, 4, 1}));
  EXPECT_EQ(a.adding, (ids{4}));
  EXPECT_EQ(a.removing, (ids{1}));
  EXPECT_TRUE(a.being_reassigned());
  EXPECT_EQ(a.origin_replicas(), (ids{2, 3, 1}));
  EXPECT_EQ(a.target_replicas(), (ids{2, 3, 4}));
}

TEST(reassignment, reassign_to_same_set_is_not_a_move) {
  auto a = plain({1, 2, 3}).reassign_to(ids{3, 2, 1});
  EXPECT_EQ(a.replicas, (ids{3, 2, 1}));
  EXPECT_FALSE(a.being_reassigned());
}

TEST(reassignment, shrink_only_removes) {
  auto a = plain({1, 2, 3}).reassign_to(ids{1, 2});
  EXPECT_TRUE(a.adding.empty());
  EXPECT_EQ(a.removing, (ids{3}));
  EXPECT_TRUE(reassignment_complete(a, ids{1, 2}));
}

TEST(reassignment, new_target_replaces_a_move_in_progress_from_the_origin) {
  // 1,2,3 -> 4,5,6 in progress; then -> 1,2,7: 4,5,6 are no longer needed.
  auto moving = plain({1, 2, 3}).reassign_to(ids{4, 5, 6});
  auto next = build_reassignment(moving, ids{1, 2, 7});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->replicas, (ids{1, 2, 7, 3}));
  EXPECT_EQ(next->adding, (ids{7}));
  EXPECT_EQ(next->removing, (ids{3}));
  EXPECT_EQ(replicas_dropped(moving.replicas, next->replicas), (ids{4, 5, 6}));
}

TEST(reassignment, cancel_reverts_to_origin) {
  auto moving = plain({1, 2, 3}).reassign_to(ids{2, 3, 4});
  auto next = build_reassignment(moving, std::nullopt);
  ASSERT_TRUE(next);
  EXPECT_FALSE(next->being_reassigned());
  EXPECT_EQ(next->replicas, (ids{2, 3, 1}));
  EXPECT_EQ(replicas_dropped(moving.replicas, next->replicas), (ids{4}));
}

TEST(reassignment, cancel_of_nothing_is_no_reassignment_in_progress) {
  EXPECT_FALSE(build_reassignment(plain({1, 2}), std::nullopt));
}

TEST(reassignment, validate_rejects_empty_duplicates_negative_and_dead_new_brokers) {
  const ids live{1, 2, 3, 4};
  EXPECT_TRUE(validate_target(ids{}, plain({1, 2}), live));
  EXPECT_TRUE(validate_target(ids{1, 1}, plain({1, 2}), live));
  EXPECT_TRUE(validate_target(ids{1, -1}, plain({1, 2}), live));
  EXPECT_TRUE(validate_target(ids{1, 9}, plain({1, 2}), live));
  EXPECT_FALSE(validate_target(ids{1, 4}, plain({1, 2}), live));
}

TEST(reassignment, validate_allows_kept_replicas_on_dead_brokers) {
  // Broker 3 is down but already a replica: only new replicas must be live.
  EXPECT_FALSE(validate_target(ids{3, 4}, plain({1, 3}), ids{1, 4}));
}

TEST(reassignment, complete_when_every_target_replica_is_in_the_isr) {
  auto a = plain({1, 2, 3}).reassign_to(ids{2, 3, 4});
  EXPECT_FALSE(reassignment_complete(a, ids{1, 2, 3}));
  EXPECT_TRUE(reassignment_complete(a, ids{1, 2, 3, 4}));
  EXPECT_TRUE(reassignment_complete(plain({1, 2}), ids{1}));  // not moving
}

TEST(reassignment, leader_is_first_target_replica_live_and_in_isr) {
  EXPECT_EQ(reassign_partition_leader(ids{4, 2, 3}, ids{1, 2, 3, 4}, ids{1, 2, 3, 4}), 4);
  EXPECT_EQ(reassign_partition_leader(ids{4, 2, 3}, ids{1, 2, 3, 4}, ids{1, 2, 3}), 2);
  EXPECT_EQ(reassign_partition_leader(ids{4, 2, 3}, ids{1, 3}, ids{1, 2, 4}), std::nullopt);
}

TEST(reassignment, isr_after_keeps_target_members_in_isr_order) {
  EXPECT_EQ(isr_after_reassignment(ids{3, 1, 4, 2}, ids{2, 3, 4}), (ids{3, 4, 2}));
}

}  // namespace
}  // namespace strata::controller
