// request_batch and the version shapes: what the controller puts on the wire, without
// ZooKeeper.
#include "controller/controller_requests.h"

#include <gtest/gtest.h>

#include "controller/connection_sender.h"
#include "protocol/wire.h"
#include "zk_server.h"

namespace strata::controller {
namespace {

controller_context two_brokers_one_topic() {
  controller_context ctx;
  for (int32_t id : {1, 2}) {
    zk::broker_registration r;
    r.id = id;
    r.broker_epoch = 100 + id;
    r.endpoints = {{"PLAINTEXT", "PLAINTEXT", "h" + std::to_string(id), 9000 + id},
                   {"SECURE", "SSL", "s" + std::to_string(id), 9100 + id}};
    ctx.live_brokers[id] = r;
  }
  ctx.topics["t"] = {protocol::uuid::random().to_base64(), {{0, {1, 2}}, {1, {2, 1}}, {2, {3, 1}}}};
  for (int32_t p : {0, 1, 2}) {
    zk::leader_and_isr s;
    s.leader = p == 1 ? 2 : 1;
    s.leader_epoch = 4;
    s.controller_epoch = 7;
    s.isr = p == 1 ? std::vector<int32_t>{2, 1} : std::vector<int32_t>{1};
    s.partition_epoch = 9;
    ctx.states[{"t", p}] = s;
  }
  return ctx;
}

template <class Req>
Req round_trip(const Req& r, int16_t v) {
  protocol::writer w;
  r.encode(w, v);
  protocol::reader rd(w.buffer());
  Req out;
  out.decode(rd, v);
  EXPECT_TRUE(rd.ok()) << "v" << v;
  return out;
}

TEST(controller_requests, one_leader_and_isr_per_broker_and_update_metadata_to_all) {
  auto ctx = two_brokers_one_topic();
  request_batch b(ctx, 1, 8, "");
  for (int32_t p : {0, 1, 2}) b.leader_and_isr(ctx.replicas({"t", p}), {"t", p});
  std::vector<std::pair<int32_t, controller_request>> sent;
  b.send([&](int32_t broker, controller_request r) { sent.emplace_back(broker, std::move(r)); });
  EXPECT_TRUE(b.empty());
  // Broker 3 is not live: nothing for it. LeaderAndIsr first, then UpdateMetadata.
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].first, 1);
  const auto& lai = std::get<protocol::leader_and_isr_request>(sent[0].second);
  EXPECT_EQ(lai.controller_epoch, 8);
  EXPECT_EQ(lai.broker_epoch, 101);
  ASSERT_EQ(lai.topic_states.size(), 1u);
  EXPECT_EQ(lai.topic_states[0].partition_states.size(), 3u);
  EXPECT_EQ(lai.topic_states[0].partition_states[2].replicas, (std::vector<int32_t>{3, 1}));
  EXPECT_EQ(lai.topic_states[0].partition_states[0].controller_epoch, 7);  // the state's writer
  EXPECT_EQ(lai.live_leaders.size(), 2u);
  EXPECT_EQ(sent[1].first, 2);
  EXPECT_EQ(std::get<protocol::leader_and_isr_request>(sent[1].second).topic_states[0].partition_states.size(), 2u);
  for (int i : {2, 3}) {
    const auto& um = std::get<protocol::update_metadata_request>(sent[i].second);
    ASSERT_EQ(um.topic_states.size(), 1u);
    EXPECT_EQ(um.topic_states[0].partition_states.size(), 3u);
    EXPECT_EQ(um.topic_states[0].partition_states[2].offline_replicas, std::vector<int32_t>{3});
    ASSERT_EQ(um.live_brokers.size(), 2u);
    EXPECT_EQ(um.live_brokers[0].endpoints[1].security_protocol, 1);  // SSL
  }
}

TEST(controller_requests, being_deleted_shows_leader_minus_two) {
  auto ctx = two_brokers_one_topic();
  ctx.deletions["t"];
  request_batch b(ctx, 1, 8, "");
  b.update_metadata({1}, {{"t", 0}});
  b.stop_replica(1, {"t", 0}, true);
  b.stop_replica(1, {"t", 1}, false);
  std::vector<controller_request> sent;
  b.send([&](int32_t, controller_request r) { sent.push_back(std::move(r)); });
  ASSERT_EQ(sent.size(), 3u);  // UpdateMetadata, StopReplica(no delete), StopReplica(delete)
  EXPECT_EQ(std::get<protocol::update_metadata_request>(sent[0]).topic_states[0].partition_states[0].leader,
            kLeaderDuringDelete);
  const auto& keep = std::get<protocol::stop_replica_request>(sent[1]);
  const auto& del = std::get<protocol::stop_replica_request>(sent[2]);
  EXPECT_FALSE(keep.delete_partitions);
  EXPECT_TRUE(del.delete_partitions);
  EXPECT_TRUE(del.topic_states[0].partition_states[0].delete_partition);
}

TEST(controller_requests, old_versions_get_the_old_shapes) {
  auto ctx = two_brokers_one_topic();
  request_batch b(ctx, 1, 8, "SECURE");
  b.leader_and_isr({1}, {"t", 0});
  b.stop_replica(1, {"t", 0}, true);
  std::vector<controller_request> sent;
  b.send([&](int32_t broker, controller_request r) {
    if (broker == 1) sent.push_back(std::move(r));
  });
  ASSERT_EQ(sent.size(), 3u);
  auto lai = std::get<protocol::leader_and_isr_request>(sent[0]);
  EXPECT_EQ(lai.live_leaders.at(0).host_name, "s1");  // the inter-broker listener
  shape_for_version(lai, 1);
  auto lai1 = round_trip(lai, 1);
  ASSERT_EQ(lai1.ungrouped_partition_states.size(), 1u);
  EXPECT_EQ(lai1.ungrouped_partition_states[0].topic_name, "t");
  EXPECT_EQ(lai1.ungrouped_partition_states[0].isr, std::vector<int32_t>{1});

  auto um = std::get<protocol::update_metadata_request>(sent[1]);
  shape_for_version(um, 0);
  auto um0 = round_trip(um, 0);
  ASSERT_EQ(um0.ungrouped_partition_states.size(), 1u);
  EXPECT_EQ(um0.live_brokers.at(0).v0_host, "h1");  // the PLAINTEXT endpoint
  EXPECT_EQ(um0.live_brokers.at(0).v0_port, 9001);

  auto sr = std::get<protocol::stop_replica_request>(sent[2]);
  auto sr1 = sr;
  shape_for_version(sr1, 1);
  auto d1 = round_trip(sr1, 1);
  ASSERT_EQ(d1.topics.size(), 1u);
  EXPECT_EQ(d1.topics[0].partition_indexes, std::vector<int32_t>{0});
  EXPECT_TRUE(d1.delete_partitions);
  shape_for_version(sr, 0);
  auto d0 = round_trip(sr, 0);
  ASSERT_EQ(d0.ungrouped_partitions.size(), 1u);
  EXPECT_EQ(d0.ungrouped_partitions[0].topic_name, "t");
}

TEST(controller_requests, connection_sender_throws_when_the_broker_is_not_there) {
  const int port = test::zk_server::free_port();
  auto sender = connection_sender_factory()({7, 1, "127.0.0.1", port});
  protocol::update_metadata_request req;
  EXPECT_THROW(sender->send(req, std::chrono::steady_clock::now() + std::chrono::seconds(2)), std::exception);
  // And again: a failed attempt leaves it ready to reconnect.
  EXPECT_THROW(sender->send(req, std::chrono::steady_clock::now() + std::chrono::seconds(2)), std::exception);
}

}  // namespace
}  // namespace strata::controller
