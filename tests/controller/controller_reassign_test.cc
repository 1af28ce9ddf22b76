// Partition reassignment (controller_reassign.cc) against a real ZooKeeper, with the
// brokers' side recorded (controller_fixture.h): the topic znode's adding/removing
// lists, the leader epoch bumps, who gets LeaderAndIsr and StopReplica(delete), the
// completion on an ISR change, cancellation, replacement, failover and the
// /admin/reassign_partitions znode. The rules themselves: reassignment_test.cc.
#include <gtest/gtest.h>

#include "controller_fixture.h"

namespace strata::test {
namespace {

using controller::reassign_error;
using ids = std::vector<int32_t>;

class controller_reassign : public controller_test {
 protected:
  // Brokers 1..n registered, controller 1 active, topic t with {0: replicas} led.
  controller::controller& setup(int n, ids replicas) {
    for (int32_t id = 1; id <= n; ++id) register_broker(id);
    auto& c = active_controller(1);
    create_topic("t", {{0, replicas}});
    EXPECT_TRUE(eventually([&] { return state("t", 0).has_value(); }));
    return c;
  }
  zk::topic_assignment topic_znode() {
    auto a = k_->get_topic("t");
    EXPECT_TRUE(a && a.value());
    return a && a.value() ? *a.value() : zk::topic_assignment{};
  }
  reassign_error alter(controller::controller& c, std::optional<ids> target, int32_t partition = 0) {
    auto r = c.alter_reassignments({{"t", partition, std::move(target)}});
    if (r.error != reassign_error::none) return r.error;
    EXPECT_EQ(r.partitions.size(), 1u);
    return r.partitions.empty() ? reassign_error::failed : r.partitions[0].error;
  }
};

TEST_F(controller_reassign, phase_a_records_rs_and_tells_every_replica_then_completes_when_the_target_is_in_sync) {
  auto& c = setup(4, {1, 2, 3});
  log_.clear();
  ASSERT_EQ(alter(c, ids{1, 2, 4}), reassign_error::none);

  // A: the znode holds RS = target + (origin - target), with AR and RR.
  auto z = topic_znode();
  EXPECT_EQ(z.partitions[0], (ids{1, 2, 4, 3}));
  EXPECT_EQ(z.adding_replicas[0], (ids{4}));
  EXPECT_EQ(z.removing_replicas[0], (ids{3}));
  EXPECT_EQ(state("t", 0)->leader_epoch, 1);  // followers truncate on the new epoch
  ASSERT_TRUE(log_.wait_for([](const auto& all) {
    for (int32_t b : {1, 2, 3, 4}) {
      const auto* l = last_leader_and_isr(all, b, "t", 0);
      if (!l || l->replicas != ids{1, 2, 4, 3} || l->adding_replicas != ids{4} || l->removing_replicas != ids{3} ||
          l->leader_epoch != 1)
        return false;
    }
    return true;
  }));
  // Only the new replica is told to create the log as new (Kafka's NewReplica).
  {
    const auto sent = log_.all();
    EXPECT_TRUE(last_leader_and_isr(sent, 4, "t", 0)->is_new);
    EXPECT_FALSE(last_leader_and_isr(sent, 2, "t", 0)->is_new);
  }
  auto listed = c.list_reassignments(std::nullopt);
  ASSERT_EQ(listed.partitions.size(), 1u);
  EXPECT_EQ(listed.partitions[0].assignment.adding, (ids{4}));

  // B: broker 4 joins the ISR; the move completes.
  log_.clear();
  leader_changes_isr("t", 0, {1, 2, 3, 4});
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return got_stop_replica(all, 3, "t", 0, true); }));
  ASSERT_TRUE(eventually([&] { return topic_znode().adding_replicas.empty(); }));
  z = topic_znode();
  EXPECT_EQ(z.partitions[0], (ids{1, 2, 4}));
  EXPECT_TRUE(z.removing_replicas.empty());
  auto s = state("t", 0);
  EXPECT_EQ(s->leader, 1);
  EXPECT_EQ(s->isr, (ids{1, 2, 4}));
  EXPECT_EQ(s->leader_epoch, 2);
  const auto all = log_.all();
  const auto* l = last_leader_and_isr(all, 4, "t", 0);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->replicas, (ids{1, 2, 4}));
  EXPECT_TRUE(l->adding_replicas.empty());
  EXPECT_FALSE(last_leader_and_isr(all, 3, "t", 0));  // 3 only gets StopReplica
  EXPECT_TRUE(c.list_reassignments(std::nullopt).partitions.empty());
}

TEST_F(controller_reassign, a_leader_outside_the_target_hands_over_to_the_first_target_replica_in_sync) {
  auto& c = setup(4, {1, 2, 3});
  ASSERT_EQ(state("t", 0)->leader, 1);
  ASSERT_EQ(alter(c, ids{4, 3, 2}), reassign_error::none);
  leader_changes_isr("t", 0, {1, 2, 3});  // not yet: 4 is missing
  ASSERT_TRUE(eventually([&] { return no_isr_notifications(); }));
  EXPECT_FALSE(topic_znode().adding_replicas.empty());
  leader_changes_isr("t", 0, {1, 2, 3, 4});
  ASSERT_TRUE(eventually([&] { return topic_znode().adding_replicas.empty(); }));
  auto s = state("t", 0);
  EXPECT_EQ(s->leader, 4);
  EXPECT_EQ(s->isr, (ids{2, 3, 4}));
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return got_stop_replica(all, 1, "t", 0, true); }));
}

TEST_F(controller_reassign, cancel_reverts_to_the_original_replicas_and_deletes_the_adding_ones) {
  auto& c = setup(4, {1, 2, 3});
  ASSERT_EQ(alter(c, ids{1, 2, 4}), reassign_error::none);
  log_.clear();
  ASSERT_EQ(alter(c, std::nullopt), reassign_error::none);
  auto z = topic_znode();
  EXPECT_EQ(z.partitions[0], (ids{1, 2, 3}));
  EXPECT_TRUE(z.adding_replicas.empty());
  EXPECT_TRUE(z.removing_replicas.empty());
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return got_stop_replica(all, 4, "t", 0, true); }));
  EXPECT_EQ(state("t", 0)->isr, (ids{1, 2, 3}));
  EXPECT_EQ(alter(c, std::nullopt), reassign_error::no_reassignment_in_progress);
}

TEST_F(controller_reassign, cancelling_a_move_whose_adding_replica_leads_elects_an_original_replica) {
  auto& c = setup(4, {1, 2});
  ASSERT_EQ(alter(c, ids{3, 4}), reassign_error::none);  // RS = [3,4,1,2]: 3 is preferred
  leader_changes_isr("t", 0, {1, 2, 3});                 // 4 has not caught up
  ASSERT_TRUE(eventually([&] { return no_isr_notifications(); }));
  c.trigger_preferred_leader_check();
  ASSERT_TRUE(eventually([&] { return state("t", 0)->leader == 3; }));
  ASSERT_EQ(alter(c, std::nullopt), reassign_error::none);
  auto s = state("t", 0);
  EXPECT_TRUE(s->leader == 1 || s->leader == 2) << s->leader;
  EXPECT_EQ(topic_znode().partitions[0], (ids{1, 2}));
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return got_stop_replica(all, 3, "t", 0, true); }));
}

TEST_F(controller_reassign, a_new_target_replaces_a_move_in_progress) {
  auto& c = setup(5, {1, 2, 3});
  ASSERT_EQ(alter(c, ids{1, 2, 4}), reassign_error::none);
  log_.clear();
  ASSERT_EQ(alter(c, ids{1, 2, 5}), reassign_error::none);
  auto z = topic_znode();
  EXPECT_EQ(z.partitions[0], (ids{1, 2, 5, 3}));
  EXPECT_EQ(z.adding_replicas[0], (ids{5}));
  EXPECT_EQ(z.removing_replicas[0], (ids{3}));
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return got_stop_replica(all, 4, "t", 0, true); }));
}

TEST_F(controller_reassign, invalid_targets_and_unknown_partitions_are_refused_as_kafka_does) {
  auto& c = setup(3, {1, 2, 3});
  EXPECT_EQ(alter(c, ids{}), reassign_error::invalid_replica_assignment);
  EXPECT_EQ(alter(c, ids{1, 1}), reassign_error::invalid_replica_assignment);
  EXPECT_EQ(alter(c, ids{1, 9}), reassign_error::invalid_replica_assignment);  // 9 is not a live broker
  EXPECT_EQ(alter(c, ids{1, 2}, 5), reassign_error::unknown_topic_or_partition);
  EXPECT_EQ(topic_znode().partitions[0], (ids{1, 2, 3}));
  // A controller that is not active says so.
  register_broker(4);
  auto& other = start_controller(4);
  EXPECT_EQ(other.alter_reassignments({{"t", 0, ids{1}}}).error, reassign_error::not_controller);
  EXPECT_EQ(other.list_reassignments(std::nullopt).error, reassign_error::not_controller);
}

TEST_F(controller_reassign, the_next_controller_resumes_a_move_from_the_topic_znode) {
  auto& c = setup(4, {1, 2, 3});
  ASSERT_EQ(alter(c, ids{2, 3, 4}), reassign_error::none);
  auto& next = start_controller(2);
  controllers_[1].ctl->stop();
  ASSERT_TRUE(eventually([&] { return next.is_active(); }));
  ASSERT_EQ(next.list_reassignments(std::nullopt).partitions.size(), 1u);
  leader_changes_isr("t", 0, {1, 2, 3, 4});
  ASSERT_TRUE(eventually([&] { return topic_znode().adding_replicas.empty(); }));
  EXPECT_EQ(topic_znode().partitions[0], (ids{2, 3, 4}));
  EXPECT_EQ(state("t", 0)->leader, 2);
}

TEST_F(controller_reassign, admin_reassign_partitions_znode_is_honoured_and_deleted_when_done) {
  auto& c = setup(4, {1, 2, 3});
  zk::partition_reassignment move;
  move.tp.topic = "t";
  move.tp.partition = 0;
  move.replicas = {4, 2, 3};
  ASSERT_TRUE(k_->create_partition_reassignment({move}));
  ASSERT_TRUE(eventually([&] { return !topic_znode().adding_replicas.empty(); }));
  EXPECT_TRUE(admin_->exists(zk::paths::reassign_partitions).value().has_value());
  leader_changes_isr("t", 0, {1, 2, 3, 4});
  ASSERT_TRUE(eventually([&] { return !admin_->exists(zk::paths::reassign_partitions).value(); }));
  EXPECT_EQ(topic_znode().partitions[0], (ids{4, 2, 3}));
  EXPECT_TRUE(c.list_reassignments(std::nullopt).partitions.empty());
}

// Kafka 2.4+: the API and the znode coexist; the latest request for a partition wins
// and takes it out of the znode (which goes once empty).
TEST_F(controller_reassign, an_api_request_replaces_the_znodes_entry_for_its_partition) {
  auto& c = setup(5, {1, 2, 3});
  zk::partition_reassignment move;
  move.tp.topic = "t";
  move.tp.partition = 0;
  move.replicas = {4, 2, 3};
  ASSERT_TRUE(k_->create_partition_reassignment({move}));
  ASSERT_TRUE(eventually([&] { return !topic_znode().adding_replicas.empty(); }));
  ASSERT_EQ(alter(c, ids{1, 2, 5}), reassign_error::none);
  EXPECT_FALSE(admin_->exists(zk::paths::reassign_partitions).value().has_value());
  auto z = topic_znode();
  EXPECT_EQ(z.partitions[0], (ids{1, 2, 5, 3}));
  EXPECT_EQ(z.adding_replicas[0], (ids{5}));
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return got_stop_replica(all, 4, "t", 0, true); }));
}

}  // namespace
}  // namespace strata::test
