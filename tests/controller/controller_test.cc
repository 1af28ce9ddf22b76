// The controller against a real ZooKeeper: brokers are real ephemeral registrations
// on their own sessions, topics are written as CreateTopics writes them
// (kafka_zk::create_topic), and the brokers' side is a recording broker_sender.
// One ZooKeeper for the suite; each test runs under its own chroot
// (controller_fixture.h).
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "controller_fixture.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using controller::controller_config;

TEST_F(controller_test, one_of_two_is_active_and_the_other_takes_over_when_its_session_is_closed) {
  register_broker(1);
  register_broker(2);
  auto& a = start_controller(1);
  auto& b = start_controller(2);
  ASSERT_TRUE(eventually([&] { return a.is_active() || b.is_active(); }));
  auto* winner = a.is_active() ? &a : &b;
  auto* loser = a.is_active() ? &b : &a;
  const int32_t winner_id = a.is_active() ? 1 : 2;
  ASSERT_TRUE(eventually([&] { return loser->active_controller_id() == winner_id; }));
  EXPECT_TRUE(winner->is_active());
  EXPECT_FALSE(loser->is_active());
  const int32_t epoch = winner->controller_epoch();
  const int32_t token = winner->epoch_zk_version();
  EXPECT_GE(epoch, 1);
  auto ctl = k_->get_controller();
  ASSERT_TRUE(ctl && ctl.value());
  EXPECT_EQ(ctl.value()->broker_id, winner_id);

  // The winner's session is closed (its /controller goes at once): the other one
  // takes over, one epoch up.
  controllers_[winner_id].zk->close();
  ASSERT_TRUE(eventually([&] { return loser->is_active(); }));
  EXPECT_EQ(loser->controller_epoch(), epoch + 1);
  EXPECT_EQ(k_->get_controller_epoch().value()->epoch, epoch + 1);

  // Whatever the deposed controller still believes, a write fenced with its token
  // fails and changes nothing.
  auto w = k_->fenced_multi({zk::op::create("/zombie", std::nullopt)}, token);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, make_error_code(zk::errc::bad_version));
  EXPECT_EQ(w.error().failed_op, 0);
  EXPECT_FALSE(admin_->exists("/zombie").value().has_value());
}

TEST_F(controller_test, an_expired_session_resigns_and_one_controller_leads_the_next_term) {
  register_broker(1);
  register_broker(2);
  auto& a = start_controller(1);
  auto& b = start_controller(2);
  ASSERT_TRUE(eventually([&] { return a.is_active() || b.is_active(); }));
  const int32_t winner_id = a.is_active() ? 1 : 2;
  auto& winner = a.is_active() ? a : b;
  const int32_t epoch = winner.controller_epoch();
  auto ex = controllers_[winner_id].zk->expire_session_for_testing();
  ASSERT_TRUE(ex) << ex.error().message();
  // Both race in the next term (the expired one from its new session): exactly one
  // wins, and the other knows who.
  ASSERT_TRUE(eventually([&] {
    if (a.is_active() == b.is_active()) return false;
    auto& w = a.is_active() ? a : b;
    auto& l = a.is_active() ? b : a;
    return w.controller_epoch() == epoch + 1 && l.active_controller_id() == (a.is_active() ? 1 : 2);
  }));
  EXPECT_EQ(k_->get_controller_epoch().value()->epoch, epoch + 1);
}

TEST_F(controller_test, a_controller_whose_fenced_write_fails_resigns_and_is_elected_again_at_a_higher_epoch) {
  register_broker(1);
  auto& c = active_controller(1);
  const int32_t epoch = c.controller_epoch();
  // Someone moved /controller_epoch on (as a newer controller's election would):
  // the controller's token is stale, which it learns at its next write.
  auto cur = admin_->get(zk::paths::controller_epoch);
  ASSERT_TRUE(cur);
  ASSERT_TRUE(admin_->set(zk::paths::controller_epoch, cur.value().data, cur.value().stat.version));

  create_topic("t", {{0, {1}}});
  // The write of t-0's state was refused; the controller resigned, gave up its own
  // /controller and won again, and the new term created the state.
  ASSERT_TRUE(eventually([&] { return c.is_active() && c.controller_epoch() == epoch + 1 && state("t", 0); }));
  auto s = state("t", 0);
  EXPECT_EQ(s->controller_epoch, epoch + 1);
  EXPECT_EQ(s->leader, 1);
}

TEST_F(controller_test, new_topic_gets_states_as_assigned_and_requests_go_to_its_replicas) {
  std::map<int32_t, int64_t> epochs;
  for (int32_t id : {1, 2, 3}) epochs[id] = register_broker(id);
  auto& c = active_controller(1);
  const int32_t e = c.controller_epoch();
  create_topic("t", {{0, {1, 2}}, {1, {2, 3}}, {2, {3, 1}}});
  ASSERT_TRUE(eventually([&] { return state("t", 0) && state("t", 1) && state("t", 2); }));
  const std::map<int32_t, std::vector<int32_t>> replicas = {{0, {1, 2}}, {1, {2, 3}}, {2, {3, 1}}};
  for (const auto& [p, r] : replicas) {
    auto s = state("t", p);
    EXPECT_EQ(s->leader, r.front()) << p;
    EXPECT_EQ(s->isr, r) << p;
    EXPECT_EQ(s->leader_epoch, 0);
    EXPECT_EQ(s->controller_epoch, e);
  }
  // LeaderAndIsr to each replica, UpdateMetadata to every broker.
  ASSERT_TRUE(log_.wait_for([&](const std::vector<sent_request>& all) {
    for (const auto& [p, r] : replicas)
      for (int32_t b : r)
        if (!last_leader_and_isr(all, b, "t", p)) return false;
    for (int32_t b : {1, 2, 3})
      for (int32_t p : {0, 1, 2})
        if (!last_update_metadata(all, b, "t", p)) return false;
    return true;
  }));
  const auto all = log_.all();
  for (const auto& [p, r] : replicas) {
    for (int32_t b : {1, 2, 3}) {
      const protocol::leader_and_isr_request* req = nullptr;
      const auto* ps = last_leader_and_isr(all, b, "t", p, &req);
      const bool replica = std::find(r.begin(), r.end(), b) != r.end();
      ASSERT_EQ(ps != nullptr, replica) << "t-" << p << " broker " << b;
      if (!ps) continue;
      EXPECT_EQ(ps->leader, r.front());
      EXPECT_EQ(ps->isr, r);
      EXPECT_EQ(ps->replicas, r);
      EXPECT_EQ(ps->partition_epoch, 0);
      EXPECT_EQ(ps->controller_epoch, e);
      EXPECT_TRUE(ps->is_new);
      EXPECT_EQ(req->controller_id, 1);
      EXPECT_EQ(req->controller_epoch, e);
      EXPECT_EQ(req->broker_epoch, epochs[b]);
      EXPECT_FALSE(req->topic_states.front().topic_id.is_zero());
      // The leader's endpoint, on the first listener (no inter.broker.listener.name).
      // One request per broker carries all its partitions, so every leader among them.
      bool leader_listed = false;
      for (const auto& l : req->live_leaders)
        leader_listed |= l.broker_id == r.front() && l.port == 19000 + r.front() && l.host_name == "127.0.0.1";
      EXPECT_TRUE(leader_listed) << "t-" << p << " broker " << b;
    }
  }
  const protocol::update_metadata_request* um = nullptr;
  ASSERT_TRUE(last_update_metadata(all, 3, "t", 0, &um));
  EXPECT_EQ(um->controller_epoch, e);
  EXPECT_EQ(um->broker_epoch, epochs[3]);
  ASSERT_EQ(um->live_brokers.size(), 3u);
  EXPECT_EQ(um->live_brokers[1].id, 2);
  ASSERT_EQ(um->live_brokers[1].endpoints.size(), 2u);
  EXPECT_EQ(um->live_brokers[1].endpoints[1].listener, "INTERNAL");
  EXPECT_EQ(um->live_brokers[1].endpoints[1].host, "10.0.0.1");
  EXPECT_EQ(um->live_brokers[1].rack, "rack-2");
  // One LeaderAndIsr per broker for the topic's creation (the event's batch).
  int lai_with_t_to_1 = 0;
  for (const auto& r : requests_to<protocol::leader_and_isr_request>(all, 1))
    for (const auto& ts : r.topic_states) lai_with_t_to_1 += ts.topic_name == "t";
  EXPECT_EQ(lai_with_t_to_1, 1);
  EXPECT_EQ(c.offline_partition_count(), 0);
}

TEST_F(controller_test, inter_broker_listener_picks_the_endpoint) {
  register_broker(1);
  register_broker(2);
  auto& c = start_controller(1, [](controller_config& cfg) { cfg.inter_broker_listener_name = "INTERNAL"; });
  ASSERT_TRUE(eventually([&] { return c.is_active(); }));
  create_topic("t", {{0, {2, 1}}});
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return last_leader_and_isr(all, 1, "t", 0) != nullptr; }));
  const auto all = log_.all();
  const protocol::leader_and_isr_request* req = nullptr;
  ASSERT_TRUE(last_leader_and_isr(all, 1, "t", 0, &req));
  ASSERT_EQ(req->live_leaders.size(), 1u);
  EXPECT_EQ(req->live_leaders[0].host_name, "10.0.0.1");
  EXPECT_EQ(req->live_leaders[0].port, 29002);
}

TEST_F(controller_test, broker_gone_moves_leaders_in_the_isr_or_takes_partitions_offline_until_it_returns) {
  for (int32_t id : {1, 2, 3}) register_broker(id);
  auto& c = active_controller(3);
  create_topic("a", {{0, {1, 2}}, {1, {2, 1}}});
  create_topic("solo", {{0, {1}}});
  ASSERT_TRUE(eventually([&] { return state("a", 0) && state("a", 1) && state("solo", 0); }));
  log_.clear();

  kill_broker(1);
  ASSERT_TRUE(eventually([&] { return leader_is("a", 0, 2, 1) && leader_is("solo", 0, -1, 1); }));
  EXPECT_EQ(state("a", 0)->isr, std::vector<int32_t>{2});
  EXPECT_EQ(state("a", 0)->partition_epoch, 1);
  // Where it only followed, it leaves the ISR (leader unchanged, epoch + 1).
  ASSERT_TRUE(eventually([&] { return state("a", 1)->isr == std::vector<int32_t>{2}; }));
  EXPECT_EQ(state("a", 1)->leader, 2);
  EXPECT_EQ(state("a", 1)->leader_epoch, 1);
  // No other replica: leader -1, the ISR keeps the last member for a clean election.
  EXPECT_EQ(state("solo", 0)->isr, std::vector<int32_t>{1});
  ASSERT_TRUE(eventually([&] { return c.offline_partition_count() == 1; }));

  ASSERT_TRUE(log_.wait_for([](const auto& all) {
    const auto* lai = last_leader_and_isr(all, 2, "a", 0);
    const auto* um = last_update_metadata(all, 3, "solo", 0);
    return lai && lai->leader == 2 && lai->leader_epoch == 1 && um && um->leader == -1;
  }));
  const auto all = log_.all();
  const auto* um = last_update_metadata(all, 3, "solo", 0);
  EXPECT_EQ(um->offline_replicas, std::vector<int32_t>{1});
  const protocol::update_metadata_request* umreq = nullptr;
  last_update_metadata(all, 2, "a", 0, &umreq);
  ASSERT_TRUE(umreq);
  EXPECT_EQ(umreq->live_brokers.size(), 2u);
  for (const auto& s : all) EXPECT_NE(s.broker, 1) << "a request went to the dead broker";
  auto snap = c.snapshot();
  EXPECT_TRUE(snap.active);
  EXPECT_EQ(snap.brokers.size(), 2u);
  EXPECT_EQ(snap.offline_partitions, 1);

  // Back: its partition comes online by election, and it hears about everything.
  const int64_t epoch1 = register_broker(1);
  ASSERT_TRUE(eventually([&] { return leader_is("solo", 0, 1, 2); }));
  ASSERT_TRUE(eventually([&] { return c.offline_partition_count() == 0; }));
  ASSERT_TRUE(log_.wait_for([&](const auto& all) {
    const protocol::leader_and_isr_request* req = nullptr;
    const auto* lai = last_leader_and_isr(all, 1, "solo", 0, &req);
    return lai && lai->leader == 1 && lai->leader_epoch == 2 && req->broker_epoch == epoch1 &&
           last_update_metadata(all, 1, "a", 1) != nullptr;
  }));
}

TEST_F(controller_test, unclean_election_follows_the_topic_config) {
  for (int32_t id : {1, 2}) register_broker(id);
  active_controller(2);
  create_topic("unclean", {{0, {1, 2}}}, {{"unclean.leader.election.enable", "true"}});
  create_topic("clean", {{0, {1, 2}}});
  ASSERT_TRUE(eventually([&] { return state("unclean", 0) && state("clean", 0); }));
  // Broker 2 fell out of sync on both.
  leader_changes_isr("unclean", 0, {1});
  leader_changes_isr("clean", 0, {1});
  ASSERT_TRUE(eventually([&] { return no_isr_notifications(); }));

  kill_broker(1);
  ASSERT_TRUE(eventually([&] { return leader_is("unclean", 0, 2, 1) && leader_is("clean", 0, -1, 1); }));
  EXPECT_EQ(state("unclean", 0)->isr, std::vector<int32_t>{2});
  EXPECT_EQ(state("clean", 0)->isr, std::vector<int32_t>{1});
}

TEST_F(controller_test, broker_default_enables_unclean_election) {
  for (int32_t id : {1, 2}) register_broker(id);
  auto& c = start_controller(2, [](controller_config& cfg) { cfg.unclean_leader_election_enable = true; });
  ASSERT_TRUE(eventually([&] { return c.is_active(); }));
  create_topic("t", {{0, {1, 2}}});
  create_topic("off", {{0, {1, 2}}}, {{"unclean.leader.election.enable", "false"}});
  ASSERT_TRUE(eventually([&] { return state("t", 0) && state("off", 0); }));
  leader_changes_isr("t", 0, {1});
  leader_changes_isr("off", 0, {1});
  ASSERT_TRUE(eventually([&] { return no_isr_notifications(); }));
  kill_broker(1);
  ASSERT_TRUE(eventually([&] { return leader_is("t", 0, 2, 1) && leader_is("off", 0, -1, 1); }));
}

TEST_F(controller_test, topic_deletion_stops_and_deletes_every_replica_then_removes_the_znodes) {
  for (int32_t id : {1, 2, 3}) register_broker(id);
  active_controller(1);
  create_topic("d", {{0, {1, 2}}, {1, {2, 3}}});
  create_topic("keep", {{0, {1}}});
  ASSERT_TRUE(eventually([&] { return state("d", 0) && state("d", 1) && state("keep", 0); }));
  kill_broker(3);  // offline while the deletion starts
  ASSERT_TRUE(eventually([&] { return state("d", 1)->isr == std::vector<int32_t>{2}; }));
  log_.clear();

  ASSERT_TRUE(k_->request_topic_deletion("d"));
  ASSERT_TRUE(log_.wait_for([](const auto& all) {
    return got_stop_replica(all, 1, "d", 0, true) && got_stop_replica(all, 2, "d", 0, true) &&
           got_stop_replica(all, 2, "d", 1, true);
  }));
  // Brokers are told the topic is going (leader -2).
  const auto sent = log_.all();
  const auto* um = last_update_metadata(sent, 1, "d", 1);
  ASSERT_TRUE(um);
  EXPECT_EQ(um->leader, -2);
  // Broker 3's replica of d-1 is not deleted yet: the znodes stay.
  EXPECT_TRUE(admin_->exists(zk::paths::topic("d")).value().has_value());
  EXPECT_TRUE(admin_->exists(zk::paths::delete_topic("d")).value().has_value());

  register_broker(3);
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return got_stop_replica(all, 3, "d", 1, true); }));
  ASSERT_TRUE(eventually([&] {
    return !admin_->exists(zk::paths::topic("d")).value() && !admin_->exists(zk::paths::delete_topic("d")).value();
  }));
  EXPECT_FALSE(admin_->exists(zk::paths::config_entity("topics", "d")).value().has_value());
  EXPECT_TRUE(state("keep", 0).has_value());
  EXPECT_EQ(k_->list_topics().value(), std::vector<std::string>{"keep"});
}

TEST_F(controller_test, deletion_of_an_unknown_topic_drops_the_request) {
  register_broker(1);
  active_controller(1);
  ASSERT_TRUE(k_->request_topic_deletion("nope"));
  ASSERT_TRUE(eventually([&] { return !admin_->exists(zk::paths::delete_topic("nope")).value(); }));
}

TEST_F(controller_test, isr_change_notification_updates_every_broker) {
  for (int32_t id : {1, 2, 3}) register_broker(id);
  active_controller(1);
  create_topic("t", {{0, {1, 2, 3}}});
  ASSERT_TRUE(eventually([&] { return state("t", 0).has_value(); }));
  leader_changes_isr("t", 0, {1, 3});
  ASSERT_TRUE(log_.wait_for([](const auto& all) {
    for (int32_t b : {1, 2, 3}) {
      const auto* um = last_update_metadata(all, b, "t", 0);
      if (!um || um->isr != std::vector<int32_t>{1, 3} || um->zk_version != 1) return false;
    }
    return true;
  }));
  ASSERT_TRUE(eventually([&] { return no_isr_notifications(); }));
}

// KIP-112: a broker whose log dir failed writes /log_dir_event_notification; the
// controller sends it LeaderAndIsr for all its replicas, and the ones it answers with
// KAFKA_STORAGE_ERROR become offline replicas: leadership moves, the ISR shrinks, and
// UpdateMetadata names them offline. The others stay as they were.
TEST_F(controller_test, a_failed_log_dir_moves_leadership_and_marks_its_replicas_offline) {
  for (int32_t id : {1, 2, 3}) register_broker(id);
  auto& c = active_controller(3);
  create_topic("j", {{0, {1, 2, 3}}, {1, {1, 2, 3}}, {2, {2, 1, 3}}, {3, {1}}});
  ASSERT_TRUE(eventually([&] { return state("j", 0) && state("j", 1) && state("j", 2) && state("j", 3); }));
  ASSERT_TRUE(leader_is("j", 0, 1, 0) && leader_is("j", 1, 1, 0) && leader_is("j", 3, 1, 0));
  log_.clear();

  // Broker 1's dir with j-0, j-2 and j-3 failed (j-1 is in its healthy dir).
  log_.set_offline_replicas(1, {{"j", 0}, {"j", 2}, {"j", 3}});
  auto n = k_->create_log_dir_event_notification(1);
  ASSERT_TRUE(n) << n.error().message();
  // Led by broker 1: the next in the ISR takes over, broker 1 leaves the ISR.
  ASSERT_TRUE(eventually([&] { return leader_is("j", 0, 2, 1); }));
  EXPECT_EQ(state("j", 0)->isr, (std::vector<int32_t>{2, 3}));
  // Followed by broker 1: it leaves the ISR, the leader stays.
  ASSERT_TRUE(eventually([&] { return state("j", 2)->isr == std::vector<int32_t>{2, 3}; }));
  EXPECT_EQ(state("j", 2)->leader, 2);
  // No other replica: offline (leader -1), the ISR keeps its last member.
  ASSERT_TRUE(eventually([&] { return leader_is("j", 3, -1, 1); }));
  EXPECT_EQ(state("j", 3)->isr, std::vector<int32_t>{1});
  // The healthy dir's partition is untouched.
  EXPECT_TRUE(leader_is("j", 1, 1, 0));
  EXPECT_EQ(state("j", 1)->isr, (std::vector<int32_t>{1, 2, 3}));
  ASSERT_TRUE(eventually([&] { return c.offline_partition_count() == 1; }));
  // Every broker learns broker 1's offline replicas.
  ASSERT_TRUE(log_.wait_for([](const auto& all) {
    for (int32_t b : {1, 2, 3}) {
      const auto* um0 = last_update_metadata(all, b, "j", 0);
      const auto* um3 = last_update_metadata(all, b, "j", 3);
      if (!um0 || um0->leader != 2 || um0->offline_replicas != std::vector<int32_t>{1}) return false;
      if (!um3 || um3->offline_replicas != std::vector<int32_t>{1}) return false;
    }
    return true;
  }));
  ASSERT_TRUE(eventually([&] {
    auto l = k_->list_log_dir_event_notifications();
    return l && l.value().empty();
  }));
  // A preferred-leader check does not hand j-0 back to the offline replica.
  c.trigger_preferred_leader_check();
  ASSERT_TRUE(eventually([&] { return c.events_processed() > 0; }));
  EXPECT_TRUE(leader_is("j", 0, 2, 1));

  // Broker 1 restarts with its dir repaired: its replicas are eligible again.
  log_.set_offline_replicas(1, {});
  kill_broker(1);
  register_broker(1);
  ASSERT_TRUE(eventually([&] { return leader_is("j", 3, 1, 2); }));
  ASSERT_TRUE(eventually([&] { return c.offline_partition_count() == 0; }));
}

TEST_F(controller_test, partitions_added_get_states_and_leaders) {
  for (int32_t id : {1, 2}) register_broker(id);
  active_controller(1);
  create_topic("t", {{0, {1, 2}}});
  ASSERT_TRUE(eventually([&] { return state("t", 0).has_value(); }));
  auto t = k_->get_topic("t").value();
  ASSERT_TRUE(k_->add_partitions("t", {{1, {2, 1}}, {2, {1, 2}}}, t->zk_version));
  ASSERT_TRUE(eventually([&] { return leader_is("t", 1, 2, 0) && leader_is("t", 2, 1, 0); }));
  ASSERT_TRUE(log_.wait_for([](const auto& all) {
    const auto* lai = last_leader_and_isr(all, 1, "t", 1);
    return lai && lai->leader == 2 && lai->is_new;
  }));
}

TEST_F(controller_test, controlled_shutdown_moves_leaderships_and_leaves_nothing_when_others_are_in_sync) {
  std::map<int32_t, int64_t> epochs;
  for (int32_t id : {1, 2, 3}) epochs[id] = register_broker(id);
  auto& c = active_controller(3);
  create_topic("t", {{0, {1, 2}}, {1, {2, 1}}, {2, {1}}});
  ASSERT_TRUE(eventually([&] { return state("t", 0) && state("t", 1) && state("t", 2); }));
  log_.clear();

  EXPECT_EQ(c.controlled_shutdown(1, epochs[1] - 1).error, controller::shutdown_error::stale_broker_epoch);
  EXPECT_EQ(c.controlled_shutdown(9, -1).error, controller::shutdown_error::broker_not_available);
  auto r = c.controlled_shutdown(1, epochs[1]);
  EXPECT_EQ(r.error, controller::shutdown_error::none);
  EXPECT_TRUE(r.remaining_partitions.empty());  // t-2 has no other replica: not counted (Kafka)
  auto s0 = state("t", 0);
  EXPECT_EQ(s0->leader, 2);
  EXPECT_EQ(s0->leader_epoch, 1);
  EXPECT_EQ(s0->isr, std::vector<int32_t>{2});
  auto s1 = state("t", 1);
  EXPECT_EQ(s1->leader, 2);
  EXPECT_EQ(s1->isr, std::vector<int32_t>{2});
  ASSERT_TRUE(log_.wait_for([](const auto& all) {
    const auto* lai = last_leader_and_isr(all, 2, "t", 0);
    return lai && lai->leader == 2 && lai->leader_epoch == 1 && got_stop_replica(all, 1, "t", 1, false);
  }));
  EXPECT_EQ(last_leader_and_isr(log_.all(), 1, "t", 0), nullptr) << "the broker shutting down is not a recipient";

  // Not the controller: the other controller refuses.
  auto& other = start_controller(1);
  ASSERT_TRUE(eventually([&] { return other.active_controller_id() == 3; }));
  EXPECT_EQ(other.controlled_shutdown(2, epochs[2]).error, controller::shutdown_error::not_controller);
}

TEST_F(controller_test, controlled_shutdown_reports_what_no_one_in_sync_can_take) {
  for (int32_t id : {1, 2}) register_broker(id);
  auto& c = active_controller(2);
  create_topic("r", {{0, {1, 2}}});
  ASSERT_TRUE(eventually([&] { return state("r", 0).has_value(); }));
  leader_changes_isr("r", 0, {1});
  ASSERT_TRUE(eventually([&] { return no_isr_notifications(); }));
  auto res = c.controlled_shutdown(1, -1);
  EXPECT_EQ(res.error, controller::shutdown_error::none);
  ASSERT_EQ(res.remaining_partitions.size(), 1u);
  EXPECT_TRUE(contains_partition(res.remaining_partitions, "r", 0));
  EXPECT_EQ(state("r", 0)->leader, 1);
}

TEST_F(controller_test, preferred_leader_returns_when_back_in_the_isr) {
  for (int32_t id : {1, 2}) register_broker(id);
  auto& c = start_controller(2, [](controller_config& cfg) {
    cfg.auto_leader_rebalance_enable = true;
    cfg.leader_imbalance_check_interval = 100ms;
  });
  ASSERT_TRUE(eventually([&] { return c.is_active(); }));
  create_topic("t", {{0, {1, 2}}});
  ASSERT_TRUE(eventually([&] { return leader_is("t", 0, 1, 0); }));
  kill_broker(1);
  ASSERT_TRUE(eventually([&] { return leader_is("t", 0, 2, 1); }));
  register_broker(1);
  // Not in the ISR yet: broker 2 keeps leading.
  ASSERT_TRUE(eventually([&] { return c.snapshot().brokers.size() == 2; }));
  const uint64_t seen = c.events_processed();
  ASSERT_TRUE(eventually([&] { return c.events_processed() >= seen + 3; }));  // a few checks ran
  EXPECT_TRUE(leader_is("t", 0, 2, 1));
  // The leader adds it back to the ISR: leadership returns to the preferred replica.
  leader_changes_isr("t", 0, {2, 1});
  ASSERT_TRUE(eventually([&] { return leader_is("t", 0, 1, 2); }));
  EXPECT_EQ(state("t", 0)->isr, (std::vector<int32_t>{2, 1}));
}

TEST_F(controller_test, requests_to_an_unreachable_broker_are_retried_in_order) {
  for (int32_t id : {1, 2}) register_broker(id);
  log_.set_unreachable(2, true);
  active_controller(1);
  create_topic("t", {{0, {2, 1}}});
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return last_leader_and_isr(all, 1, "t", 0) != nullptr; }));
  EXPECT_TRUE(requests_to<protocol::update_metadata_request>(log_.all(), 2).empty());
  log_.set_unreachable(2, false);
  ASSERT_TRUE(log_.wait_for([](const auto& all) { return last_leader_and_isr(all, 2, "t", 0) != nullptr; }));
  // Failover's UpdateMetadata first, then the requests of later events, in order.
  const auto all = log_.all();
  std::vector<const controller::controller_request*> to2;
  for (const auto& s : all)
    if (s.broker == 2) to2.push_back(&s.req);
  ASSERT_GE(to2.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<protocol::update_metadata_request>(*to2.front()));
}

TEST_F(controller_test, stop_resigns_and_the_other_controller_takes_over) {
  register_broker(1);
  auto& a = active_controller(1);
  auto& b = start_controller(2);
  ASSERT_TRUE(eventually([&] { return b.active_controller_id() == 1; }));
  const int32_t epoch = a.controller_epoch();
  a.stop();
  EXPECT_FALSE(a.is_active());
  ASSERT_TRUE(eventually([&] { return b.is_active(); }));
  EXPECT_EQ(b.controller_epoch(), epoch + 1);
}

TEST_F(controller_test, a_restarted_broker_waits_for_its_old_sessions_controller_znode) {
  register_broker(1);
  auto& old = active_controller(1);
  const int32_t epoch = old.controller_epoch();
  // The same broker id on a new session (a quick restart) while the old session's
  // /controller is still there: it waits, quietly, for the znode to go.
  controller_config cfg;
  cfg.broker_id = 1;
  cfg.auto_leader_rebalance_enable = false;
  auto zk2 = connect(chroot_);
  controller::controller again(*zk2, cfg, log_.factory());
  again.start();
  ASSERT_TRUE(eventually([&] { return again.active_controller_id() == 1 && again.events_processed() >= 1; }));
  EXPECT_FALSE(again.is_active());
  old.stop();
  ASSERT_TRUE(eventually([&] { return again.is_active(); }));
  EXPECT_EQ(again.controller_epoch(), epoch + 1);
  EXPECT_LT(again.events_processed(), 20u) << "the election spun while waiting";
  again.stop();
}

}  // namespace
}  // namespace strata::test
