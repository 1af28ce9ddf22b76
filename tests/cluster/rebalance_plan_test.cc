// plan_rebalance: a broker added, a broker emptied, racks kept, leaders spread, and
// invariants over random clusters.
#include "cluster/rebalance_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "cluster/replica_placement.h"
#include "utils/brokers.h"

namespace strata::cluster {
namespace {

std::vector<broker_metadata> brokers(std::initializer_list<int32_t> ids) { return test::no_racks(ids); }

// Kafka's own placement of `n` partitions over `ids`, as a topic created there has.
std::vector<partition_replicas> placed(const std::string& topic, int32_t n, int16_t rf,
                                      const std::vector<broker_metadata>& on, int32_t start = 0) {
  auto r = assign_replicas_to_brokers(on, n, rf, placement_start{start, start});
  EXPECT_TRUE(r.ok()) << r.message;
  std::vector<partition_replicas> out;
  for (const auto& [p, reps] : r.assignment) out.push_back({topic, p, reps, 1000 * (p + 1)});
  return out;
}

// The assignment after the plan, partition by partition.
std::vector<std::vector<int32_t>> after(const rebalance_input& in, const rebalance_plan& plan) {
  std::vector<std::vector<int32_t>> out;
  for (const auto& p : in.partitions) {
    auto it = std::find_if(plan.moves.begin(), plan.moves.end(),
                           [&](const partition_move& m) { return m.topic == p.topic && m.partition == p.partition; });
    out.push_back(it == plan.moves.end() ? p.replicas : it->to);
  }
  return out;
}

int spread(const std::map<int32_t, int>& counts) {
  auto [lo, hi] = std::minmax_element(counts.begin(), counts.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
  return hi->second - lo->second;
}

void check_valid(const rebalance_input& in, const rebalance_plan& plan) {
  ASSERT_FALSE(plan.error) << *plan.error;
  std::set<int32_t> targets;
  for (const auto& b : in.brokers) targets.insert(b.id);
  const auto a = after(in, plan);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].size(), in.partitions[i].replicas.size()) << "replication factor changed";
    EXPECT_EQ(std::set<int32_t>(a[i].begin(), a[i].end()).size(), a[i].size()) << "a broker twice";
    for (int32_t r : a[i]) EXPECT_TRUE(targets.count(r)) << "replica on broker " << r;
  }
  for (const auto& m : plan.moves) EXPECT_NE(m.from, m.to);
}

TEST(rebalance_plan, a_balanced_cluster_needs_nothing) {
  rebalance_input in{brokers({1, 2, 3}), placed("t", 12, 3, brokers({1, 2, 3}))};
  auto plan = plan_rebalance(in);
  check_valid(in, plan);
  EXPECT_TRUE(plan.moves.empty());
  EXPECT_EQ(plan.replicas_moved, 0);
}

TEST(rebalance_plan, a_new_broker_gets_its_share_with_the_fewest_copies) {
  rebalance_input in{brokers({1, 2, 3, 4}), placed("t", 12, 3, brokers({1, 2, 3}))};
  auto plan = plan_rebalance(in);
  check_valid(in, plan);
  EXPECT_EQ(plan.replicas_before.at(4), 0);
  for (int32_t b : {1, 2, 3, 4}) EXPECT_EQ(plan.replicas_after.at(b), 9) << b;
  EXPECT_EQ(plan.replicas_moved, 9);  // 36 replicas: broker 4 takes 9, nothing else moves
  for (int32_t b : {1, 2, 3, 4}) EXPECT_EQ(plan.leaders_after.at(b), 3) << b;
  int64_t bytes = 0;
  for (const auto& m : plan.moves) bytes += static_cast<int64_t>(m.adding().size()) * m.size_bytes;
  EXPECT_EQ(plan.bytes_to_move, bytes);
}

// test_rebalance.py found it: over all topics only, the cheapest replicas to copy
// (an empty topic's) made up the new broker's share, and the busy topic stayed on the
// old brokers.
TEST(rebalance_plan, a_new_broker_gets_a_share_of_every_topic) {
  auto busy = placed("busy", 6, 3, brokers({1, 2, 3}));
  for (auto& p : busy) p.size_bytes = 1'000'000;
  auto empty = placed("empty", 50, 3, brokers({1, 2, 3}));
  for (auto& p : empty) p.size_bytes = 0;
  rebalance_input in{brokers({1, 2, 3, 4}), busy};
  in.partitions.insert(in.partitions.end(), empty.begin(), empty.end());
  auto plan = plan_rebalance(in);
  check_valid(in, plan);
  const auto a = after(in, plan);
  for (const std::string topic : {"busy", "empty"}) {
    std::map<int32_t, int> per_broker;
    for (size_t i = 0; i < a.size(); ++i)
      if (in.partitions[i].topic == topic)
        for (int32_t r : a[i]) ++per_broker[r];
    EXPECT_LE(spread(per_broker), 1) << topic;
    EXPECT_GT(per_broker[4], 0) << topic;
  }
  EXPECT_LE(spread(plan.replicas_after), 1);
}

TEST(rebalance_plan, decommission_empties_the_broker) {
  auto parts = placed("t", 10, 2, brokers({1, 2, 3, 4}));
  rebalance_input in{brokers({1, 2, 4}), parts};
  auto plan = plan_rebalance(in);
  check_valid(in, plan);
  EXPECT_FALSE(plan.replicas_after.count(3));
  EXPECT_LE(spread(plan.replicas_after), 1);
  EXPECT_LE(spread(plan.leaders_after), 1);
  int on3 = 0;
  for (const auto& p : parts) on3 += std::count(p.replicas.begin(), p.replicas.end(), 3);
  EXPECT_EQ(plan.replicas_moved, on3);  // only broker 3's replicas are copied
  for (const auto& m : plan.moves) EXPECT_TRUE(m.removing().empty() || m.removing() == std::vector<int32_t>{3});
}

TEST(rebalance_plan, moves_keep_every_partition_on_two_racks) {
  std::vector<broker_metadata> three{{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}};
  auto parts = placed("t", 8, 2, three);
  std::vector<broker_metadata> five = three;
  five.push_back({5, "a"});
  five.push_back({6, "b"});
  rebalance_input in{five, parts};
  auto plan = plan_rebalance(in);
  check_valid(in, plan);
  std::map<int32_t, std::string> rack{{1, "a"}, {2, "a"}, {3, "b"}, {4, "b"}, {5, "a"}, {6, "b"}};
  for (const auto& r : after(in, plan)) EXPECT_NE(rack[r[0]], rack[r[1]]);
  EXPECT_GT(plan.replicas_after.at(5), 0);
  EXPECT_GT(plan.replicas_after.at(6), 0);
  EXPECT_LE(spread(plan.replicas_after), 1);
}

TEST(rebalance_plan, leaders_spread_by_reordering_only) {
  // Every partition prefers broker 1; the replica sets are already even.
  std::vector<partition_replicas> parts;
  for (int32_t p = 0; p < 6; ++p) parts.push_back({"t", p, {1, 2 + p % 2, 3 - p % 2}, 10});
  rebalance_input in{brokers({1, 2, 3}), parts};
  auto plan = plan_rebalance(in);
  check_valid(in, plan);
  EXPECT_EQ(plan.leaders_before.at(1), 6);
  for (int32_t b : {1, 2, 3}) EXPECT_EQ(plan.leaders_after.at(b), 2) << b;
  EXPECT_EQ(plan.replicas_moved, 0);
  EXPECT_EQ(plan.bytes_to_move, 0);
  for (const auto& m : plan.moves) EXPECT_TRUE(m.adding().empty());
  in.spread_leaders = false;
  EXPECT_TRUE(plan_rebalance(in).moves.empty());
}

TEST(rebalance_plan, too_few_brokers_for_a_replication_factor) {
  rebalance_input in{brokers({1, 2}), placed("t", 2, 3, brokers({1, 2, 3}))};
  auto plan = plan_rebalance(in);
  ASSERT_TRUE(plan.error);
  EXPECT_NE(plan.error->find("t-0 has 3 replicas but only 2 broker(s)"), std::string::npos) << *plan.error;
  EXPECT_TRUE(plan.moves.empty());
}

TEST(rebalance_plan, random_clusters_end_even_and_valid) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    const int n_before = 2 + static_cast<int>(rng() % 6);
    std::vector<broker_metadata> before;
    for (int i = 1; i <= n_before; ++i) before.push_back({i, std::nullopt});
    rebalance_input in;
    const int topics = 1 + static_cast<int>(rng() % 3);
    for (int t = 0; t < topics; ++t) {
      const int16_t rf = static_cast<int16_t>(1 + rng() % std::min(3, n_before));
      auto p = placed("t" + std::to_string(t), 1 + static_cast<int32_t>(rng() % 20), rf, before,
                      static_cast<int32_t>(rng() % n_before));
      in.partitions.insert(in.partitions.end(), p.begin(), p.end());
    }
    // Some brokers leave, some arrive.
    for (const auto& b : before)
      if (rng() % 4) in.brokers.push_back(b);
    const int added = static_cast<int>(rng() % 3);
    for (int i = 0; i < added; ++i) in.brokers.push_back({n_before + 1 + i, std::nullopt});
    int max_rf = 0;
    for (const auto& p : in.partitions) max_rf = std::max<int>(max_rf, static_cast<int>(p.replicas.size()));
    auto plan = plan_rebalance(in);
    if (static_cast<int>(in.brokers.size()) < max_rf) {
      EXPECT_TRUE(plan.error);
      continue;
    }
    check_valid(in, plan);
    EXPECT_LE(spread(plan.replicas_after), 1) << "round " << round;
  }
}

}  // namespace
}  // namespace strata::cluster
