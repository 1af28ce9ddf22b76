#pragma once
// Partition reassignment rules (KIP-455) as pure functions, the part of Kafka's
// ReplicaAssignment and KafkaController (validateReplicas, maybeBuildReassignment,
// isReassignmentComplete, PartitionLeaderElectionAlgorithms.reassignPartitionLeaderElection)
// that needs no ZooKeeper and no brokers. controller_reassign.cc applies them.
//
// Words, as Kafka's KafkaController.onPartitionReassignment uses them:
//   ORS  original replicas (the assignment before the move)
//   TRS  target replicas
//   RS   the full replica set while moving: ORS + (TRS - ORS), ORS first
//   AR   adding replicas = TRS - ORS
//   RR   removing replicas = ORS - TRS
// A partition is being reassigned while AR or RR is non-empty; then ORS = RS - AR and
// TRS = RS - RR can be recovered from what the topic znode stores.
//
// No lock, no I/O.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace strata::controller {

// Kafka's ReplicaAssignment: one partition's replicas with its adding and removing
// lists (the topic znode's "partitions", "adding_replicas", "removing_replicas").
struct replica_assignment {
  std::vector<int32_t> replicas;  // RS (or the plain assignment when not moving)
  std::vector<int32_t> adding;    // AR
  std::vector<int32_t> removing;  // RR

  bool being_reassigned() const { return !adding.empty() || !removing.empty(); }
  std::vector<int32_t> origin_replicas() const;  // RS - AR, in RS order
  std::vector<int32_t> target_replicas() const;  // RS - RR, in RS order
  // Kafka's reassignTo: RS = target + (origin - target), in that order, so the
  // target's first replica is the preferred leader from the start; AR = RS - origin,
  // RR = RS - target. A target equal to the origin gives a plain assignment (no AR,
  // no RR): that is a cancellation.
  replica_assignment reassign_to(std::span<const int32_t> target) const;

  bool operator==(const replica_assignment&) const = default;
};

// ---- the controller's reassignment API (controller::alter_reassignments and
// list_reassignments); the broker maps the errors to wire codes.

// not_controller -> NOT_CONTROLLER (41), timed_out -> REQUEST_TIMED_OUT (7),
// unknown_topic_or_partition -> UNKNOWN_TOPIC_OR_PARTITION (3),
// invalid_replica_assignment -> INVALID_REPLICA_ASSIGNMENT (39),
// no_reassignment_in_progress -> NO_REASSIGNMENT_IN_PROGRESS (85),
// failed -> UNKNOWN_SERVER_ERROR (-1).
enum class reassign_error {
  none,
  not_controller,
  timed_out,
  unknown_topic_or_partition,
  invalid_replica_assignment,
  no_reassignment_in_progress,
  failed,
};

// One partition of an AlterPartitionReassignments request: nullopt target cancels.
struct reassignment_request {
  std::string topic;
  int32_t partition = 0;
  std::optional<std::vector<int32_t>> target;
};

struct reassignment_result {
  std::string topic;
  int32_t partition = 0;
  reassign_error error = reassign_error::none;
  std::string message;  // empty when none
};

struct alter_reassignments_result {
  reassign_error error = reassign_error::none;  // not_controller / timed_out: the whole request
  std::vector<reassignment_result> partitions;  // in request order
};

// A partition being reassigned, as ListPartitionReassignments shows it.
struct ongoing_reassignment {
  std::string topic;
  int32_t partition = 0;
  replica_assignment assignment;
};

struct list_reassignments_result {
  reassign_error error = reassign_error::none;
  std::vector<ongoing_reassignment> partitions;  // sorted by topic, partition
};

// Kafka's validateReplicas, for a non-null target: empty, duplicate ids, a negative id
// or an adding replica that is not a live broker make INVALID_REPLICA_ASSIGNMENT.
// Returns the error message, or nullopt when the target is acceptable. Replicas kept
// from the current assignment may be on dead brokers (only new ones must be live).
std::optional<std::string> validate_target(std::span<const int32_t> target, const replica_assignment& current,
                                           std::span<const int32_t> live_brokers);

// Kafka's maybeBuildReassignment: the assignment a request for one partition asks
// for. `target` nullopt cancels: back to the origin replicas. nullopt when there is
// nothing to do (cancelling a partition that is not moving: NO_REASSIGNMENT_IN_PROGRESS).
// A partition already moving is reassigned from its origin replicas: the new target
// replaces the old one, and adding replicas it no longer needs are dropped.
std::optional<replica_assignment> build_reassignment(const replica_assignment& current,
                                                     const std::optional<std::vector<int32_t>>& target);

// Kafka's isReassignmentComplete: not moving, or every target replica is in the ISR.
bool reassignment_complete(const replica_assignment& a, std::span<const int32_t> isr);

// Replicas of `before` that `after` no longer has (Kafka's unneededReplicas when a
// new reassignment replaces an old one, and RR at completion), in `before` order.
std::vector<int32_t> replicas_dropped(std::span<const int32_t> before, std::span<const int32_t> after);

// Kafka's reassignPartitionLeaderElection: the first target replica (in target order)
// that is live and in the ISR; nullopt when none is.
std::optional<int32_t> reassign_partition_leader(std::span<const int32_t> target, std::span<const int32_t> isr,
                                                 std::span<const int32_t> live_brokers);

// The ISR once the move completes: the ISR members that are target replicas, in ISR order.
std::vector<int32_t> isr_after_reassignment(std::span<const int32_t> isr, std::span<const int32_t> target);

}  // namespace strata::controller
