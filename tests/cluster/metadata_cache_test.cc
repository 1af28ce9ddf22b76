// The metadata cache: readers keep the view they took while writers publish new ones.
#include "cluster/metadata_cache.h"

#include <gtest/gtest.h>

namespace strata::cluster {
namespace {

broker_info broker(int32_t id, int32_t port) {
  broker_info b;
  b.id = id;
  b.endpoints = {{"PLAINTEXT", "h" + std::to_string(id), port}, {"SSL", "h" + std::to_string(id), port + 1}};
  return b;
}

TEST(metadata_cache, a_snapshot_is_immutable_while_writers_publish) {
  metadata_cache c;
  c.set_brokers({{1, broker(1, 9092)}, {2, broker(2, 9192)}}, 2);
  topic_info t;
  t.name = "orders";
  t.partitions = {{.leader = 1, .leader_epoch = 3, .replicas = {1, 2}, .isr = {1, 2}},
                  {.leader = 2, .leader_epoch = 1, .replicas = {2, 1}, .isr = {2}}};
  c.upsert_topic(t);
  auto before = c.snapshot();
  c.remove_topic("orders");
  EXPECT_EQ(c.snapshot()->topic("orders"), nullptr);
  ASSERT_NE(before->topic("orders"), nullptr);
  const auto* p1 = before->partition("orders", 1);
  ASSERT_NE(p1, nullptr);
  EXPECT_EQ(p1->leader, 2);
  EXPECT_EQ(p1->isr, (std::vector<int32_t>{2}));
  EXPECT_EQ(before->partition("orders", 2), nullptr);
  EXPECT_EQ(before->partition("orders", -1), nullptr);
  EXPECT_EQ(before->partition("missing", 0), nullptr);
  EXPECT_EQ(before->controller_id, 2);
}

TEST(metadata_cache, endpoints_are_found_by_listener_name) {
  metadata_cache c;
  c.set_brokers({{7, broker(7, 9000)}}, 7);
  const auto* b = c.snapshot()->broker(7);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(b->endpoint("SSL"), nullptr);
  EXPECT_EQ(b->endpoint("SSL")->port, 9001);
  EXPECT_EQ(b->endpoint("SASL_SSL"), nullptr);
  EXPECT_EQ(c.snapshot()->broker(8), nullptr);
}

}  // namespace
}  // namespace strata::cluster
