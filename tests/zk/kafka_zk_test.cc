// kafka_zk against a real ZooKeeper: every operation round-trips, and the
// conditional-write rules (duplicate broker ids, the controller election race,
// epoch fencing, partition epochs) hold. Each test runs under its own chroot.
#include "zk/kafka_zk.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <set>
#include <thread>

#include "zk_server.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using zk::errc;
using zk::kafka_errc;

class kafka_zk_test : public zk_server_suite {
 protected:
  void SetUp() override {
    zk_server_suite::SetUp();
    if (HasFatalFailure()) return;
    c_ = connect(test_chroot());
    k_ = std::make_unique<zk::kafka_zk>(*c_);
    auto r = k_->ensure_persistent_paths();
    ASSERT_TRUE(r) << r.error().message();
  }
  // Elects broker `id` and returns the fencing token.
  int32_t elect(zk::kafka_zk& k, int32_t id) {
    auto e = k.try_elect_controller(id);
    EXPECT_TRUE(e && e.value().elected);
    return e ? e.value().epoch.zk_version : -1;
  }
  std::unique_ptr<zk::client> c_;
  std::unique_ptr<zk::kafka_zk> k_;
};

zk::broker_registration broker(int32_t id) {
  zk::broker_registration b;
  b.id = id;
  b.endpoints = {{"PLAINTEXT", "PLAINTEXT", "127.0.0.1", 9092 + id}};
  b.rack = "rack-" + std::to_string(id);
  return b;
}

TEST_F(kafka_zk_test, persistent_paths_exist) {
  for (auto& p : zk::paths::persistent()) EXPECT_TRUE(c_->exists(p).value().has_value()) << p;
}

TEST_F(kafka_zk_test, cluster_id_get_or_create) {
  EXPECT_EQ(k_->get_cluster_id().value(), std::nullopt);
  EXPECT_EQ(k_->get_or_create_cluster_id("first").value(), "first");
  EXPECT_EQ(k_->get_or_create_cluster_id("second").value(), "first");
  auto raw = boost::json::parse(c_->get("/cluster/id").value().data).as_object();
  EXPECT_EQ(raw.at("version").as_string(), "1");
  EXPECT_EQ(raw.at("id").as_string(), "first");
}

TEST_F(kafka_zk_test, broker_registration_round_trip_and_duplicate_refused) {
  auto epoch = k_->register_broker(broker(1));
  ASSERT_TRUE(epoch) << epoch.error().message();
  EXPECT_GT(epoch.value(), 0);
  EXPECT_TRUE(k_->register_broker(broker(1)));  // same session: a retry, not a conflict

  auto raw = c_->get("/brokers/ids/1");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw.value().stat.ephemeral_owner, c_->session_id());
  auto json = boost::json::parse(raw.value().data).as_object();
  EXPECT_EQ(json.at("version").as_int64(), 4);
  EXPECT_EQ(json.at("endpoints").as_array().at(0).as_string(), "PLAINTEXT://127.0.0.1:9093");
  EXPECT_EQ(json.at("rack").as_string(), "rack-1");
  EXPECT_TRUE(json.at("timestamp").is_string());
  EXPECT_EQ(json.at("listener_security_protocol_map").as_object().at("PLAINTEXT").as_string(), "PLAINTEXT");

  auto other = connect(test_chroot());
  zk::kafka_zk k2(*other);
  auto dup = k2.register_broker(broker(1));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), kafka_errc::broker_already_registered);
  EXPECT_NE(dup.error().message().find("broker id 1"), std::string::npos) << dup.error().message();
  ASSERT_TRUE(k2.register_broker(broker(2)));

  EXPECT_EQ(k_->list_brokers().value(), (std::vector<int32_t>{1, 2}));
  auto b1 = k_->get_broker(1).value();
  ASSERT_TRUE(b1);
  EXPECT_EQ(b1->endpoints, broker(1).endpoints);
  EXPECT_EQ(b1->rack, "rack-1");
  EXPECT_EQ(b1->broker_epoch, epoch.value());
  EXPECT_EQ(k_->get_all_brokers().value().size(), 2u);
  EXPECT_EQ(k_->get_broker(9).value(), std::nullopt);

  // Liveness is the session: broker 2 disappears when its session closes.
  static event_log<zk::watch_event> events;  // outlives c_, whose watch may still run
  ASSERT_TRUE(k_->list_brokers([&](zk::watch_event e, const std::string&) { events.push(e); }));
  other->close();
  EXPECT_TRUE(events.wait_for_item(zk::watch_event::children_changed));
  EXPECT_EQ(k_->list_brokers().value(), (std::vector<int32_t>{1}));
}

TEST_F(kafka_zk_test, controller_election_race_has_one_winner_and_fences_the_loser) {
  constexpr int contenders = 4;
  std::vector<std::unique_ptr<zk::client>> clients;
  for (int i = 0; i < contenders; ++i) clients.push_back(connect(test_chroot()));
  // Everyone reads the epoch token before the race: the losers' stale view.
  auto before = k_->get_controller_epoch();
  ASSERT_TRUE(before);
  EXPECT_EQ(before.value(), std::nullopt);  // first election ever: created as "0"

  std::vector<zk::result<zk::election>> results(contenders, zk::error(errc::ok, "not run"));
  std::barrier sync(contenders);
  std::vector<std::thread> threads;
  for (int i = 0; i < contenders; ++i) {
    threads.emplace_back([&, i] {
      zk::kafka_zk k(*clients[i]);
      sync.arrive_and_wait();
      results[i] = k.try_elect_controller(100 + i);
    });
  }
  for (auto& t : threads) t.join();

  int winners = 0;
  int winner_id = -1;
  zk::controller_epoch_state won;
  for (int i = 0; i < contenders; ++i) {
    ASSERT_TRUE(results[i]) << results[i].error().message();
    if (results[i].value().elected) {
      ++winners;
      winner_id = 100 + i;
      won = results[i].value().epoch;
    }
  }
  ASSERT_EQ(winners, 1);
  EXPECT_EQ(won.epoch, 1);
  for (int i = 0; i < contenders; ++i) {
    if (!results[i].value().elected) {
      EXPECT_EQ(results[i].value().controller_id, winner_id);
    }
  }
  auto ctrl = k_->get_controller().value();
  ASSERT_TRUE(ctrl);
  EXPECT_EQ(ctrl->broker_id, winner_id);
  auto epoch = k_->get_controller_epoch().value();
  ASSERT_TRUE(epoch);
  EXPECT_EQ(epoch->epoch, 1);
  EXPECT_EQ(epoch->zk_version, won.zk_version);

  // A loser writing with the token it read before the winner's multi: fenced.
  zk::kafka_zk zombie(*clients[winner_id == 100 ? 1 : 0]);
  auto stale_token = won.zk_version - 1;
  auto fenced = zombie.fenced_multi({zk::op::create("/zombie-write", std::string("x"))}, stale_token);
  ASSERT_FALSE(fenced);
  EXPECT_EQ(fenced.error(), errc::bad_version);
  EXPECT_EQ(fenced.error().failed_op, 0);
  EXPECT_FALSE(c_->exists("/zombie-write").value().has_value());

  // The winner's fenced writes pass; after it resigns and another broker is
  // elected (epoch 2), the old winner is the zombie.
  ASSERT_TRUE(k_->fenced_multi({zk::op::create("/winner-write", std::string("x"))}, won.zk_version));
  ASSERT_TRUE(k_->resign_controller(won.zk_version));
  zk::kafka_zk next(*clients[winner_id == 100 ? 1 : 0]);
  auto second = next.try_elect_controller(7);
  ASSERT_TRUE(second && second.value().elected);
  EXPECT_EQ(second.value().epoch.epoch, 2);
  auto old = k_->fenced_multi({zk::op::set("/winner-write", "y", -1)}, won.zk_version);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error(), errc::bad_version);
  EXPECT_EQ(c_->get("/winner-write").value().data, "x");

  // Contending while a controller exists: a distinct "lost" result, not an error.
  auto again = k_->try_elect_controller(winner_id);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again.value().elected);
  EXPECT_EQ(again.value().controller_id, 7);
  EXPECT_EQ(again.value().epoch.epoch, 2);
}

TEST_F(kafka_zk_test, controller_watch_sees_resignation) {
  int32_t token = elect(*k_, 1);
  static event_log<zk::watch_event> events;  // outlives c_, whose watch may still run
  auto c = k_->get_controller([&](zk::watch_event e, const std::string&) { events.push(e); });
  ASSERT_TRUE(c && c.value());
  EXPECT_EQ(c.value()->broker_id, 1);
  ASSERT_TRUE(k_->resign_controller(token));
  EXPECT_TRUE(events.wait_for_item(zk::watch_event::deleted));
  EXPECT_EQ(k_->get_controller().value(), std::nullopt);
}

TEST_F(kafka_zk_test, topics_partitions_and_configs) {
  zk::topic_assignment a;
  a.topic_id = "q1lXtNrnRf2xBJmE2P3v0w";
  a.partitions = {{0, {1, 2}}, {1, {2, 1}}};
  ASSERT_TRUE(k_->create_topic("orders", a, {{"retention.ms", "60000"}}));
  EXPECT_EQ(k_->create_topic("orders", a, {}).error(), kafka_errc::topic_exists);
  EXPECT_EQ(k_->list_topics().value(), std::vector<std::string>{"orders"});

  auto got = k_->get_topic("orders").value();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->topic_id, a.topic_id);
  EXPECT_EQ(got->partitions, a.partitions);
  auto raw = boost::json::parse(c_->get("/brokers/topics/orders").value().data).as_object();
  EXPECT_EQ(raw.at("version").as_int64(), 3);
  EXPECT_TRUE(raw.at("adding_replicas").as_object().empty());
  EXPECT_TRUE(raw.at("removing_replicas").as_object().empty());

  EXPECT_EQ(k_->get_entity_config("topics", "orders").value(), (zk::config_map{{"retention.ms", "60000"}}));
  auto changes = k_->list_config_changes().value();
  ASSERT_EQ(changes.size(), 1u);
  auto change = k_->get_config_change(changes[0]).value();
  EXPECT_EQ(change.entity_type, "topics");
  EXPECT_EQ(change.entity_name, "orders");

  // add_partitions: conditional on the topic znode version.
  EXPECT_EQ(k_->add_partitions("orders", {{3, {1}}}, -1).error(), kafka_errc::invalid_assignment);
  auto v = k_->add_partitions("orders", {{2, {1, 2}}}, got->zk_version);
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(k_->add_partitions("orders", {{3, {1}}}, got->zk_version).error(), errc::bad_version);
  EXPECT_EQ(k_->get_topic("orders").value()->partitions.size(), 3u);
  EXPECT_EQ(k_->add_partitions("nope", {{0, {1}}}, -1).error(), kafka_errc::unknown_topic);

  // Broker configs, including the cluster-wide default entity.
  ASSERT_TRUE(k_->set_entity_config("brokers", zk::default_broker_entity, {{"log.retention.ms", "1"}}));
  ASSERT_TRUE(k_->set_entity_config("brokers", "3", {{"a", "b"}}));
  ASSERT_TRUE(k_->set_entity_config("brokers", "3", {{"a", "c"}}));  // set over create
  EXPECT_EQ(k_->get_entity_config("brokers", "3").value(), (zk::config_map{{"a", "c"}}));
  EXPECT_EQ(k_->get_entity_config("brokers", "<default>").value().at("log.retention.ms"), "1");
  EXPECT_TRUE(k_->get_entity_config("brokers", "4").value().empty());
  changes = k_->list_config_changes().value();
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(k_->get_config_change(changes[1]).value().entity_name, "<default>");
  ASSERT_TRUE(k_->delete_config_changes(changes));
  EXPECT_TRUE(k_->list_config_changes().value().empty());
}

TEST_F(kafka_zk_test, partition_state_fenced_and_leader_conditional_updates) {
  int32_t token = elect(*k_, 1);
  zk::leader_and_isr s0{1, 0, 1, {1, 2, 3}};
  ASSERT_TRUE(k_->create_partition_states("t", {{0, s0}, {1, s0}}, token));
  auto st = k_->get_partition_state("t", 0).value();
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->same_state(s0));
  EXPECT_EQ(st->partition_epoch, 0);

  // Leader shrinks the ISR at partition epoch 0.
  zk::leader_and_isr shrink = *st;
  shrink.isr = {1, 2};
  auto e1 = k_->update_partition_state_conditional("t", 0, shrink);
  ASSERT_TRUE(e1) << e1.error().message();
  EXPECT_EQ(e1.value(), 1);
  // The same write again at the stale version: re-read finds our data, success.
  auto retry = k_->update_partition_state_conditional("t", 0, shrink);
  ASSERT_TRUE(retry) << retry.error().message();
  EXPECT_EQ(retry.value(), 1);
  // A different write at the stale version: the state moved on, refused.
  zk::leader_and_isr other = shrink;
  other.isr = {1};
  auto stale = k_->update_partition_state_conditional("t", 0, other);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error(), errc::bad_version);

  // Controller elects a new leader: fenced write at the current partition epoch.
  zk::leader_and_isr elected{2, 1, 1, {2}};
  elected.partition_epoch = 1;
  auto e2 = k_->update_partition_state_fenced("t", 0, elected, token);
  ASSERT_TRUE(e2) << e2.error().message();
  EXPECT_EQ(e2.value(), 2);
  EXPECT_EQ(k_->update_partition_state_fenced("t", 0, elected, token).error(), errc::bad_version);  // stale epoch
  // ... and the old leader's ISR write on its last-seen epoch fails.
  shrink.partition_epoch = 1;
  EXPECT_EQ(k_->update_partition_state_conditional("t", 0, shrink).error(), errc::bad_version);
  // A fenced write with a deposed controller's token fails whatever the partition epoch.
  elected.partition_epoch = 2;
  EXPECT_EQ(k_->update_partition_state_fenced("t", 0, elected, token - 1).error(), errc::bad_version);

  auto now = k_->get_partition_state("t", 0).value();
  EXPECT_EQ(now->leader, 2);
  EXPECT_EQ(now->partition_epoch, 2);
  EXPECT_EQ(k_->get_partition_state("t", 5).value(), std::nullopt);
}

TEST_F(kafka_zk_test, isr_change_notifications) {
  int32_t token = elect(*k_, 1);
  auto n1 = k_->create_isr_change_notification({{"a", 0}, {"b", 1}});
  auto n2 = k_->create_isr_change_notification({{"c", 2}});
  ASSERT_TRUE(n1 && n2);
  EXPECT_EQ(n1.value().rfind("isr_change_", 0), 0u);
  auto names = k_->list_isr_change_notifications().value();
  EXPECT_EQ(names, (std::vector<std::string>{n1.value(), n2.value()}));
  EXPECT_EQ(k_->get_isr_change_notification(n1.value()).value(),
            (std::vector<zk::topic_partition>{{"a", 0}, {"b", 1}}));
  auto raw = boost::json::parse(c_->get("/isr_change_notification/" + n2.value()).value().data).as_object();
  EXPECT_EQ(raw.at("version").as_int64(), 1);
  EXPECT_EQ(raw.at("partitions").as_array().at(0).as_object().at("topic").as_string(), "c");
  EXPECT_EQ(k_->delete_isr_change_notifications(names, token - 1).error(), errc::bad_version);
  ASSERT_TRUE(k_->delete_isr_change_notifications(names, token));
  EXPECT_TRUE(k_->list_isr_change_notifications().value().empty());
}

TEST_F(kafka_zk_test, topic_deletion) {
  int32_t token = elect(*k_, 1);
  zk::topic_assignment a;
  a.partitions = {{0, {1}}, {1, {1}}};
  ASSERT_TRUE(k_->create_topic("gone", a, {{"k", "v"}}));
  ASSERT_TRUE(k_->create_partition_states("gone", {{0, {1, 0, 1, {1}}}, {1, {1, 0, 1, {1}}}}, token));
  ASSERT_TRUE(k_->request_topic_deletion("gone"));
  ASSERT_TRUE(k_->request_topic_deletion("gone"));  // idempotent
  EXPECT_EQ(k_->list_topic_deletions().value(), std::vector<std::string>{"gone"});

  EXPECT_EQ(k_->delete_topic_znodes("gone", token - 1).error(), errc::bad_version);
  EXPECT_TRUE(c_->exists("/brokers/topics/gone/partitions/1/state").value().has_value());
  ASSERT_TRUE(k_->delete_topic_znodes("gone", token));
  EXPECT_FALSE(c_->exists("/brokers/topics/gone").value().has_value());
  EXPECT_FALSE(c_->exists("/config/topics/gone").value().has_value());
  ASSERT_TRUE(k_->delete_topic_znodes("gone", token));  // already gone: fine
  ASSERT_TRUE(k_->remove_topic_deletion_request("gone", token));
  EXPECT_TRUE(k_->list_topic_deletions().value().empty());
  EXPECT_TRUE(k_->list_topics().value().empty());
}

TEST_F(kafka_zk_test, producer_id_blocks_are_disjoint_under_contention) {
  auto first = k_->claim_producer_id_block(1);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first.value().first, 0);
  EXPECT_EQ(first.value().last, 999);
  auto raw = boost::json::parse(c_->get("/latest_producer_id_block").value().data).as_object();
  EXPECT_EQ(raw.at("block_start").as_string(), "0");
  EXPECT_EQ(raw.at("block_end").as_string(), "999");
  EXPECT_EQ(raw.at("broker").as_int64(), 1);

  constexpr int threads = 3, per_thread = 5;
  std::vector<std::unique_ptr<zk::client>> clients;
  for (int i = 0; i < threads; ++i) clients.push_back(connect(test_chroot()));
  std::mutex m;
  std::vector<zk::producer_id_block> blocks{first.value()};
  std::atomic<int> failures{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&, i] {
      zk::kafka_zk k(*clients[i]);
      for (int j = 0; j < per_thread; ++j) {
        auto b = k.claim_producer_id_block(10 + i);
        if (!b) {
          ++failures;
          continue;
        }
        std::lock_guard lk(m);
        blocks.push_back(b.value());
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(blocks.size(), size_t(1 + threads * per_thread));
  std::set<int64_t> starts;
  for (auto& b : blocks) {
    EXPECT_EQ(b.last - b.first + 1, 1000);
    EXPECT_EQ(b.first % 1000, 0);
    starts.insert(b.first);
  }
  EXPECT_EQ(starts.size(), blocks.size());  // no block handed out twice
  EXPECT_EQ(*starts.rbegin(), 1000 * (threads * per_thread));
}

}  // namespace
}  // namespace strata::test
