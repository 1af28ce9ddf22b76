#pragma once
// Errors of the replication layer (partitions, the replica manager): an enum
// registered as a std::error_category, so results carry storage, records and
// cluster errors alike in one std::error_code. broker/error_mapping.h turns
// any of them into a Kafka error code, in one place.
#include <system_error>

namespace strata::cluster {

enum class errc : int {
  success = 0,
  not_leader_or_follower,            // this broker does not lead (or follow) the partition
  fenced_leader_epoch,               // the request's leader epoch is older than ours
  unknown_leader_epoch,              // the request's leader epoch is newer than ours
  not_enough_replicas,               // acks=all: ISR smaller than min.insync.replicas before the append
  not_enough_replicas_after_append,  // acks=all: appended, but the ISR shrank below the minimum
  request_timed_out,                 // acks=all: timeout_ms passed before the ISR had the batch
  partition_offline,                 // the partition's log could not be opened (KIP-112)
  invalid_producer_epoch,            // idempotence: an older producer epoch
  out_of_order_sequence,             // idempotence: a gap in the producer's sequence numbers
  unknown_topic_or_partition,
  partition_deleted,                 // deleted while a request waited on it
  shutting_down,                     // the broker is stopping
};

const std::error_category& cluster_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), cluster_category()}; }

}  // namespace strata::cluster

template <>
struct std::is_error_code_enum<strata::cluster::errc> : std::true_type {};
