// Cases mirror Kafka's AdminRackAwareTest and RackAwareTest
// (core/src/test/scala/unit/kafka/admin/). Where Kafka only checks the distribution, the
// exact assignment for the fixed start index was derived by hand from
// AdminUtils.assignReplicasToBrokers; each derivation is written next to its test.
#include "cluster/replica_placement.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "utils/brokers.h"

namespace strata::cluster {
namespace {

using test::no_racks;

std::vector<broker_metadata> with_racks(const std::map<int32_t, std::string>& racks) {
  std::vector<broker_metadata> out;
  for (const auto& [id, rack] : racks) out.push_back({id, rack});
  return out;
}

// RackAwareTest.checkReplicaDistribution: every partition has RF distinct replicas on
// min(RF, racks) racks; optionally leaders and replicas spread evenly over brokers.
void check_distribution(const replica_assignment& a, const std::map<int32_t, std::string>& racks,
                        int32_t partitions, int32_t rf, bool leaders_even = true,
                        bool replicas_even = true) {
  ASSERT_EQ(a.size(), static_cast<size_t>(partitions));
  std::set<std::string> all_racks;
  for (const auto& [id, r] : racks) all_racks.insert(r);
  std::map<int32_t, int> leaders, replicas;
  for (const auto& [p, rs] : a) {
    ASSERT_EQ(rs.size(), static_cast<size_t>(rf)) << "partition " << p;
    std::set<int32_t> distinct(rs.begin(), rs.end());
    EXPECT_EQ(distinct.size(), rs.size()) << "partition " << p;
    std::set<std::string> on;
    for (int32_t b : rs) on.insert(racks.at(b));
    EXPECT_EQ(on.size(), std::min<size_t>(rf, all_racks.size())) << "partition " << p;
    ++leaders[rs.front()];
    for (int32_t b : rs) ++replicas[b];
  }
  const int n = static_cast<int>(racks.size());
  if (leaders_even) {
    for (const auto& [id, r] : racks) EXPECT_EQ(leaders[id], partitions / n) << "broker " << id;
  }
  if (replicas_even) {
    for (const auto& [id, r] : racks) EXPECT_EQ(replicas[id], partitions * rf / n) << "broker " << id;
  }
}

// AdminRackAwareTest.testReplicaAssignment (rack-unaware, fixed start index 0).
TEST(replica_placement, rack_unaware_matches_kafka) {
  auto r = assign_replicas_to_brokers(no_racks({0, 1, 2, 3, 4}), 10, 3, {0, 0});
  ASSERT_TRUE(r.ok()) << r.message;
  replica_assignment expected{{0, {0, 1, 2}}, {1, {1, 2, 3}}, {2, {2, 3, 4}}, {3, {3, 4, 0}},
                              {4, {4, 0, 1}}, {5, {0, 2, 3}}, {6, {1, 3, 4}}, {7, {2, 4, 0}},
                              {8, {3, 0, 1}}, {9, {4, 1, 2}}};
  EXPECT_EQ(r.assignment, expected);
}

// The broker list is sorted by id first, as Kafka's callers pass it.
TEST(replica_placement, broker_order_does_not_matter) {
  auto a = assign_replicas_to_brokers(no_racks({3, 0, 4, 1, 2}), 10, 3, {2, 3});
  auto b = assign_replicas_to_brokers(no_racks({0, 1, 2, 3, 4}), 10, 3, {2, 3});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.assignment, b.assignment);
}

// AdminRackAwareTest.testReplicaAssignment / testAssignReplicasToBrokersWithInvalidParameters
TEST(replica_placement, errors_in_kafka_order_with_kafka_messages) {
  auto brokers = no_racks({0, 1, 2, 3, 4});
  auto r = assign_replicas_to_brokers(brokers, 10, 0, {0, 0});
  EXPECT_EQ(r.error, placement_errc::invalid_replication_factor);
  EXPECT_EQ(r.message, "Replication factor must be larger than 0.");

  r = assign_replicas_to_brokers(brokers, 10, 6, {0, 0});
  EXPECT_EQ(r.error, placement_errc::invalid_replication_factor);
  EXPECT_EQ(r.message, "Replication factor: 6 larger than available brokers: 5.");
  EXPECT_TRUE(r.assignment.empty());

  r = assign_replicas_to_brokers(brokers, 0, 0, {0, 0});  // partitions are checked first
  EXPECT_EQ(r.error, placement_errc::invalid_partitions);
  EXPECT_EQ(r.message, "Number of partitions must be larger than 0.");

  r = assign_replicas_to_brokers({}, 1, 1, {0, 0});
  EXPECT_EQ(r.message, "Replication factor: 1 larger than available brokers: 0.");

  // Rack map 0 rack1, 1 rack3, 2 rack3, 3 rack2, 4 without a rack.
  std::vector<broker_metadata> partial{{0, "rack1"}, {1, "rack3"}, {2, "rack3"}, {3, "rack2"}, {4, {}}};
  r = assign_replicas_to_brokers(partial, 10, 5, {0, 0});
  EXPECT_EQ(r.error, placement_errc::incomplete_rack_information);
  EXPECT_EQ(r.message, "Not all brokers have rack information for replica rack aware assignment.");
  r = assign_replicas_to_brokers(partial, 10, 6, {0, 0});
  EXPECT_EQ(r.error, placement_errc::invalid_replication_factor);
}

// AdminUtils javadoc and AdminRackAwareTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers
TEST(replica_placement, rack_alternated_broker_list_matches_kafka) {
  std::map<int32_t, std::string> racks{{0, "rack1"}, {1, "rack3"}, {2, "rack3"},
                                       {3, "rack2"}, {4, "rack2"}, {5, "rack1"}};
  EXPECT_EQ(rack_alternated_broker_list(racks), (std::vector<int32_t>{0, 3, 1, 5, 4, 2}));
  racks.erase(5);
  EXPECT_EQ(rack_alternated_broker_list(racks), (std::vector<int32_t>{0, 3, 1, 4, 2}));
  std::map<int32_t, std::string> nine{{0, "rack1"}, {1, "rack1"}, {2, "rack1"}, {3, "rack2"}, {4, "rack2"},
                                      {5, "rack2"}, {6, "rack3"}, {7, "rack3"}, {8, "rack3"}};
  EXPECT_EQ(rack_alternated_broker_list(nine), (std::vector<int32_t>{0, 3, 6, 1, 4, 7, 2, 5, 8}));
}

// AdminRackAwareTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers: partition
// 6 starts the second round with a shifted follower (0,4,2 rather than 0,3,1).
TEST(replica_placement, rack_aware_matches_kafka) {
  std::map<int32_t, std::string> racks{{0, "rack1"}, {1, "rack3"}, {2, "rack3"},
                                       {3, "rack2"}, {4, "rack2"}, {5, "rack1"}};
  auto r = assign_replicas_to_brokers(with_racks(racks), 7, 3, {0, 0});
  ASSERT_TRUE(r.ok()) << r.message;
  replica_assignment expected{{0, {0, 3, 1}}, {1, {3, 1, 5}}, {2, {1, 5, 4}}, {3, {5, 4, 2}},
                              {4, {4, 2, 0}}, {5, {2, 0, 3}}, {6, {0, 4, 2}}};
  EXPECT_EQ(r.assignment, expected);
}

// AdminRackAwareTest.testAssignmentWithRackAware (fixed start index 2). Kafka checks the
// distribution only; the exact result, by hand:
//   racks: rack1 {0,5}, rack2 {1,2}, rack3 {3,4} -> alternated list L = 0 1 3 5 2 4;
//   n = 6, 3 racks, start 2, shift 2 -> follower index (f + 1 + (6 + k) % 5) % 6.
//   p0: f=2 -> 3; k0 -> L[4]=2 (rack2, new); k1 -> L[5]=4 (rack3 taken, skip);
//       k2 -> L[0]=0 (rack1)                                   => 3 2 0
//   p1: f=3 -> 5; k0 -> L[5]=4; k1 -> L[0]=0 skip; k2 -> L[1]=1 => 5 4 1
//   p2: f=4 -> 2; k0 -> L[0]=0; k1 -> L[1]=1 skip; k2 -> L[2]=3 => 2 0 3
//   p3: f=5 -> 4; k0 -> L[1]=1; k1 -> L[2]=3 skip; k2 -> L[3]=5 => 4 1 5
//   p4: f=0 -> 0; k0 -> L[2]=3; k1 -> L[3]=5 skip; k2 -> L[4]=2 => 0 3 2
//   p5: f=1 -> 1; k0 -> L[3]=5; k1 -> L[4]=2 skip; k2 -> L[5]=4 => 1 5 4
TEST(replica_placement, rack_aware_fixed_start_2_by_hand) {
  std::map<int32_t, std::string> racks{{0, "rack1"}, {1, "rack2"}, {2, "rack2"},
                                       {3, "rack3"}, {4, "rack3"}, {5, "rack1"}};
  auto r = assign_replicas_to_brokers(with_racks(racks), 6, 3, {2, 2});
  ASSERT_TRUE(r.ok()) << r.message;
  replica_assignment expected{{0, {3, 2, 0}}, {1, {5, 4, 1}}, {2, {2, 0, 3}},
                              {3, {4, 1, 5}}, {4, {0, 3, 2}}, {5, {1, 5, 4}}};
  EXPECT_EQ(r.assignment, expected);
  check_distribution(r.assignment, racks, 6, 3);
}

// AdminRackAwareTest.testSkipBrokerWithReplicaAlreadyAssigned (start 2; Kafka checks that
// every partition gets 4 distinct brokers). By hand:
//   racks: a {0,3,4}, b {1}, c {2} -> L = 0 1 2 3 4; n = 5, 3 racks;
//   follower index (f + 1 + (3 * shift + k) % 4) % 5, shift 2 (3 from p5 on).
//   p0: f=2 -> 2(c); k0 0(a); k1 1(b); k2 3(a, all racks used, new broker) => 2 0 1 3
//   p1: f=3 -> 3(a); k0 1(b); k1 2(c); k2 4(a)                           => 3 1 2 4
//   p2: f=4 -> 4(a); k0 2(c); k1 3(a) skip; k2 0(a) skip; k3 1(b);
//       k4 2 (has one) skip; k5 3(a)                                     => 4 2 1 3
//   p3: f=0 -> 0(a); k0 3 skip; k1 4 skip; k2 1(b); k3 2(c); k4 3(a)     => 0 1 2 3
//   p4: f=1 -> 1(b); k0 4(a); k1 0(a) skip; k2 2(c); k3 3(a)             => 1 4 2 3
//   p5: shift 3; f=2 -> 2(c); k0 4(a); k1 0(a) skip; k2 1(b); k3 3(a)    => 2 4 1 3
TEST(replica_placement, rack_aware_skips_broker_with_replica_by_hand) {
  std::map<int32_t, std::string> racks{{0, "a"}, {1, "b"}, {2, "c"}, {3, "a"}, {4, "a"}};
  auto r = assign_replicas_to_brokers(with_racks(racks), 6, 4, {2, 2}, -1);
  ASSERT_TRUE(r.ok()) << r.message;
  replica_assignment expected{{0, {2, 0, 1, 3}}, {1, {3, 1, 2, 4}}, {2, {4, 2, 1, 3}},
                              {3, {0, 1, 2, 3}}, {4, {1, 4, 2, 3}}, {5, {2, 4, 1, 3}}};
  EXPECT_EQ(r.assignment, expected);
  check_distribution(r.assignment, racks, 6, 4, false, false);
}

// AdminRackAwareTest distribution tests with random start indexes (seeded here).
TEST(replica_placement, rack_aware_distribution_with_random_starts) {
  struct tcase {
    const char* kafka_test;
    std::map<int32_t, std::string> racks;
    int32_t partitions, rf;
    bool leaders_even, replicas_even;
  };
  const std::map<int32_t, std::string> six{{0, "rack1"}, {1, "rack2"}, {2, "rack2"},
                                           {3, "rack3"}, {4, "rack3"}, {5, "rack1"}};
  const std::vector<tcase> cases{
      {"testAssignmentWithRackAwareWithRandomStartIndex", six, 6, 3, true, true},
      {"testAssignmentWithRackAwareWithUnevenReplicas", six, 13, 3, false, false},
      {"testAssignmentWithRackAwareWithUnevenRacks",
       {{0, "rack1"}, {1, "rack1"}, {2, "rack2"}, {3, "rack3"}, {4, "rack3"}, {5, "rack1"}}, 12, 3, true, false},
      {"testAssignmentWith2ReplicasRackAware", six, 12, 2, true, true},
      {"testAssignmentWith2ReplicasRackAwareWith6Partitions", six, 6, 2, true, true},
      {"testAssignmentWith2ReplicasRackAwareWith6PartitionsAnd3Brokers",
       {{0, "rack1"}, {1, "rack2"}, {4, "rack3"}}, 3, 2, true, true},
      {"testLargeNumberPartitionsAssignment",
       {{0, "rack1"}, {1, "rack2"}, {2, "rack2"}, {3, "rack3"}, {4, "rack3"}, {5, "rack1"},
        {6, "rack1"}, {7, "rack2"}, {8, "rack2"}, {9, "rack3"}, {10, "rack1"}, {11, "rack3"}},
       96, 3, true, true},
  };
  const uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.kafka_test);
    for (int round = 0; round < 20; ++round) {
      auto start = random_placement_start(c.racks.size(), rng);
      ASSERT_GE(start.start_index, 0);
      ASSERT_LT(start.start_index, static_cast<int32_t>(c.racks.size()));
      ASSERT_LT(start.replica_shift, static_cast<int32_t>(c.racks.size()));
      auto r = assign_replicas_to_brokers(with_racks(c.racks), c.partitions, c.rf, start);
      ASSERT_TRUE(r.ok()) << r.message;
      check_distribution(r.assignment, c.racks, c.partitions, c.rf, c.leaders_even, c.replicas_even);
    }
  }
}

// AdminRackAwareTest.testMoreReplicasThanRacks, testLessReplicasThanRacks, testSingleRack
TEST(replica_placement, rack_counts_per_partition) {
  const std::map<int32_t, std::string> three_racks{{0, "rack1"}, {1, "rack2"}, {2, "rack2"},
                                                   {3, "rack3"}, {4, "rack3"}, {5, "rack2"}};
  for (int32_t start = 0; start < 6; ++start) {
    auto more = assign_replicas_to_brokers(with_racks(three_racks), 6, 5, {start, start});
    ASSERT_TRUE(more.ok());
    check_distribution(more.assignment, three_racks, 6, 5, false, false);  // 3 racks each
    auto less = assign_replicas_to_brokers(with_racks(three_racks), 6, 2, {start, start});
    ASSERT_TRUE(less.ok());
    check_distribution(less.assignment, three_racks, 6, 2, false, false);  // 2 racks each
  }
  const std::map<int32_t, std::string> one{{0, "rack1"}, {1, "rack1"}, {2, "rack1"},
                                           {3, "rack1"}, {4, "rack1"}, {5, "rack1"}};
  auto single = assign_replicas_to_brokers(with_racks(one), 6, 3, {4, 1});
  ASSERT_TRUE(single.ok());
  check_distribution(single.assignment, one, 6, 3, true, false);  // one leader per broker
}

// AdminRackAwareTest.testRackAwareExpansion: partitions numbered from startPartitionId.
TEST(replica_placement, numbers_partitions_from_start_partition_id) {
  const std::map<int32_t, std::string> racks{{6, "rack1"}, {7, "rack2"}, {8, "rack2"},
                                             {9, "rack3"}, {10, "rack3"}, {11, "rack1"}};
  auto r = assign_replicas_to_brokers(with_racks(racks), 12, 2, {3, 5}, 12);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.assignment.begin()->first, 12);
  EXPECT_EQ(r.assignment.rbegin()->first, 23);
  replica_assignment renumbered;
  for (const auto& [p, rs] : r.assignment) renumbered.emplace(p - 12, rs);
  check_distribution(renumbered, racks, 12, 2);
}

TEST(replica_placement, rack_aware_mode) {
  std::vector<broker_metadata> partial{{3, "r1"}, {1, {}}, {2, "r2"}};
  auto enforced = brokers_for_placement(partial, rack_aware_mode::enforced);
  EXPECT_EQ(enforced.error, placement_errc::incomplete_rack_information);
  auto safe = brokers_for_placement(partial, rack_aware_mode::safe);
  ASSERT_TRUE(safe.ok());
  EXPECT_EQ(safe.brokers, (std::vector<broker_metadata>{{1, {}}, {2, {}}, {3, {}}}));
  auto disabled = brokers_for_placement({{2, "r2"}, {1, "r1"}}, rack_aware_mode::disabled);
  EXPECT_EQ(disabled.brokers, (std::vector<broker_metadata>{{1, {}}, {2, {}}}));
  auto full = brokers_for_placement({{2, "r2"}, {1, "r1"}}, rack_aware_mode::safe);
  EXPECT_EQ(full.brokers, (std::vector<broker_metadata>{{1, "r1"}, {2, "r2"}}));
  auto none = brokers_for_placement(no_racks({2, 1}), rack_aware_mode::enforced);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.brokers, no_racks({1, 2}));
}

// CreatePartitions: adding partitions to a topic created with start index 0 continues
// Kafka's testReplicaAssignment sequence exactly (start index = position of broker 0).
TEST(replica_placement, new_partitions_continue_the_existing_sequence) {
  replica_assignment existing{{0, {0, 1, 2}}, {1, {1, 2, 3}}, {2, {2, 3, 4}}};
  auto r = assign_replicas_for_new_partitions(existing, no_racks({0, 1, 2, 3, 4}), 6);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.assignment, (replica_assignment{{3, {3, 4, 0}}, {4, {4, 0, 1}}, {5, {0, 2, 3}}}));
}

// By hand: brokers 1 3 5 7, partition 0 = [3,5] -> start index 1 (broker 3), shift 1,
// RF 2, partitions from 2, n = 4, follower index (f + 1 + (shift + 0) % 3) % 4:
//   p2: f=(2+1)%4=3 -> 7, follower (3+1+1)%4=1 -> 3          => 7 3
//   p3: f=0 -> 1, follower (0+2)%4=2 -> 5                     => 1 5
//   p4: 4 % 4 == 0 so shift 2; f=1 -> 3, (1+1+2)%4=0 -> 1     => 3 1
TEST(replica_placement, new_partitions_start_at_first_replica_of_partition_0) {
  replica_assignment existing{{0, {3, 5}}, {1, {5, 7}}};
  auto r = assign_replicas_for_new_partitions(existing, no_racks({7, 5, 3, 1}), 5);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.assignment, (replica_assignment{{2, {7, 3}}, {3, {1, 5}}, {4, {3, 1}}}));
}

TEST(replica_placement, new_partitions_errors) {
  replica_assignment existing{{0, {0, 1}}, {1, {1, 0}}};
  auto brokers = no_racks({0, 1});
  auto r = assign_replicas_for_new_partitions(existing, brokers, 2);
  EXPECT_EQ(r.error, placement_errc::invalid_partitions);
  EXPECT_EQ(r.message, "Topic already has 2 partitions.");
  r = assign_replicas_for_new_partitions(existing, brokers, 1);
  EXPECT_EQ(r.error, placement_errc::invalid_partitions);
  EXPECT_EQ(r.message, "Topic currently has 2 partitions, which is higher than the requested 1.");
  r = assign_replicas_for_new_partitions({{1, {0, 1}}}, brokers, 3);
  EXPECT_EQ(r.error, placement_errc::missing_partition_zero);
  // The replication factor of partition 0 must still fit the live brokers.
  r = assign_replicas_for_new_partitions(existing, no_racks({0}), 3);
  EXPECT_EQ(r.error, placement_errc::invalid_replication_factor);
  EXPECT_EQ(r.message, "Replication factor: 2 larger than available brokers: 1.");
}

}  // namespace
}  // namespace strata::cluster
