#pragma once
// Where a topic's replicas go: Kafka's AdminUtils.assignReplicasToBrokers
// (server-common/.../admin/AdminUtils.java), with AdminZkClient.getBrokerMetadatas
// (rack-aware mode) and createNewPartitionsAssignment (CreatePartitions), as pure
// functions. The same inputs give Kafka's assignment, replica for replica.
//
// Goals (Kafka's): spread replicas evenly over brokers; spread the other replicas of the
// partitions led by one broker over the other brokers; and, when every broker has a
// rack, put a partition's replicas on different racks where possible.
//
// Rack-unaware, for n brokers sorted by id:
//   - the first replica of partition p is broker (p + start_index) % n;
//   - replica j+1 (j = 0..RF-2) is broker (first + 1 + (shift + j) % (n - 1)) % n;
//   - shift grows by one each time p reaches a multiple of n (p > 0), so later rounds
//     do not repeat the first round's followers.
// Rack-aware: the same round-robin over the rack-alternated broker list
// (rack_alternated_broker_list), with the follower step multiplied by the number of
// racks, skipping a broker whose rack already has a replica while some rack has none,
// or which already has a replica while some broker has none.
//
// Kafka draws start_index and shift at random (two draws of RAND.nextInt(n)) unless a
// fixed start index is given, in which case both equal it. Here both are parameters;
// random_placement_start draws them from a generator the caller seeds.
//
// No I/O, no lock.
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace strata::cluster {

struct broker_metadata {
  int32_t id = -1;
  std::optional<std::string> rack;  // broker.rack
  bool operator==(const broker_metadata&) const = default;
};

// partition id -> replica broker ids; the first replica is the preferred leader.
using replica_assignment = std::map<int32_t, std::vector<int32_t>>;

enum class placement_errc {
  ok = 0,
  invalid_partitions,           // Kafka: InvalidPartitionsException (INVALID_PARTITIONS)
  invalid_replication_factor,   // Kafka: InvalidReplicationFactorException (INVALID_REPLICATION_FACTOR)
  incomplete_rack_information,  // Kafka: AdminOperationException, some brokers lack a rack
  missing_partition_zero,       // Kafka: AdminOperationException, CreatePartitions on a
                                // topic whose existing assignment has no partition 0
};
const std::error_category& placement_category() noexcept;
inline std::error_code make_error_code(placement_errc e) noexcept {
  return {static_cast<int>(e), placement_category()};
}

// An assignment, or an error with the message Kafka gives for it (clients show it).
struct placement_result {
  replica_assignment assignment;
  std::error_code error;
  std::string message;
  bool ok() const { return !error; }
};

// Kafka's RackAwareMode: what to do when only some brokers have a rack.
enum class rack_aware_mode {
  enforced,  // refuse (the default for topic creation and CreatePartitions)
  safe,      // ignore every rack if any broker lacks one
  disabled,  // ignore racks
};

struct broker_list_result {
  std::vector<broker_metadata> brokers;  // sorted by id
  std::error_code error;
  std::string message;
  bool ok() const { return !error; }
};

// Kafka's AdminZkClient.getBrokerMetadatas: applies `mode` to the live brokers and
// sorts them by id. The enforced-mode error keeps the first sentence of Kafka's message;
// the rest of it names a kafka-topics.sh flag.
broker_list_result brokers_for_placement(std::vector<broker_metadata> brokers, rack_aware_mode mode);

struct placement_start {
  int32_t start_index = 0;    // where the first replica of partition 0 falls
  int32_t replica_shift = 0;  // Kafka's nextReplicaShift before the first partition
  bool operator==(const placement_start&) const = default;
};

// Kafka's two RAND.nextInt(broker_count) draws, from the caller's generator (seed it
// and log the seed where the result must be reproducible). {0, 0} for no brokers.
placement_start random_placement_start(std::size_t broker_count, std::mt19937& rng);

// Kafka's assignReplicasToBrokers(brokers, nPartitions, replicationFactor,
// fixedStartIndex, startPartitionId) with both draws given in `start`. Partitions are
// numbered from max(0, start_partition_id). Errors, checked in Kafka's order:
//   partitions < 1                 invalid_partitions
//   replication factor < 1         invalid_replication_factor
//   replication factor > brokers   invalid_replication_factor
//                                  ("Replication factor: 3 larger than available brokers: 2.")
//   some brokers without a rack    incomplete_rack_information
// `brokers` may come in any order: they are sorted by id first, as Kafka's callers do
// (getBrokerMetadatas); broker ids are assumed distinct.
// Kafka quirk kept: with start_partition_id > 0 the shift is not advanced for the
// partitions before it, only from start_partition_id on.
placement_result assign_replicas_to_brokers(std::span<const broker_metadata> brokers,
                                            int32_t partitions, int32_t replication_factor,
                                            placement_start start, int32_t start_partition_id = 0);

// Kafka's getRackAlternatedBrokerList: racks in name order, brokers of each rack in id
// order, taking one broker from each rack in turn until all are taken. For
// rack1: 0 1 2, rack2: 3 4 5, rack3: 6 7 8 it is 0 3 6 1 4 7 2 5 8.
std::vector<int32_t> rack_alternated_broker_list(const std::map<int32_t, std::string>& broker_racks);

// CreatePartitions without an explicit assignment (Kafka's createNewPartitionsAssignment
// and the checks of ZkAdminManager.createPartitions): places partitions
// existing.size() .. new_partition_count-1 with the replication factor of partition 0,
// starting at the first broker (by id) whose id is >= the first replica of partition 0,
// with that index as both start index and shift. `brokers` as for
// brokers_for_placement (sorted here anyway). Returns only the new partitions.
placement_result assign_replicas_for_new_partitions(const replica_assignment& existing,
                                                    std::span<const broker_metadata> brokers,
                                                    int32_t new_partition_count);

}  // namespace strata::cluster

template <>
struct std::is_error_code_enum<strata::cluster::placement_errc> : std::true_type {};
