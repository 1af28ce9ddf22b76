#pragma once
// Outcomes of the group coordinator, in its own terms (STYLE 2.4): every
// request path returns a `group::errc`, and broker/handlers/group_errors.cc
// maps it to the Kafka wire code in one switch. The column on the right is
// what that mapping answers, so it stays mechanical.
//
// A second, smaller vocabulary, `append_errc`, is what a group_log may report
// from an append (group_log.h). The coordinator turns it into an `errc` with
// Kafka's rules, which differ between offset commits and group-metadata writes
// (GroupMetadataManager.maybeConvertOffsetCommitError and storeGroup):
//
//   append failure               OffsetCommit / deletes        group metadata (SyncGroup, static rejoin)
//   unknown_partition            coordinator_not_available     coordinator_not_available
//   not_enough_replicas          coordinator_not_available     coordinator_not_available
//   not_leader                   not_coordinator               not_coordinator
//   storage_error                not_coordinator               not_coordinator
//   timed_out                    request_timed_out             rebalance_in_progress
//   record_too_large             invalid_commit_offset_size    unknown_server_error (logged)
//   anything else                coordinator_not_available     coordinator_not_available
//
// "Anything else" is an error_code of another category, which is what the
// single-node offsets_log reports today (storage and errno codes); it keeps
// the COORDINATOR_NOT_AVAILABLE those writes always answered. Deviation: Kafka
// passes an unknown append error through unchanged; the coordinator has no
// wire code to pass, and a retriable coordinator error is what clients handle.
#include <cstdint>
#include <string_view>
#include <system_error>

namespace strata::group {

enum class errc : uint8_t {
  ok = 0,
  // Request validation.
  invalid_group_id,             // empty group id                                   INVALID_GROUP_ID
  invalid_session_timeout,      // outside group.{min,max}.session.timeout.ms       INVALID_SESSION_TIMEOUT
  // Membership and generations.
  unknown_member_id,            // no such member (or group)                        UNKNOWN_MEMBER_ID
  member_id_required,           // KIP-394: rejoin with the id handed out           MEMBER_ID_REQUIRED
  illegal_generation,           // the request's generation is not the group's      ILLEGAL_GENERATION
  rebalance_in_progress,        // rejoin first                                     REBALANCE_IN_PROGRESS
  inconsistent_group_protocol,  // no protocol (or type) shared with the group      INCONSISTENT_GROUP_PROTOCOL
  fenced_instance_id,           // the group.instance.id belongs to another member  FENCED_INSTANCE_ID
  group_max_size_reached,       // group.max.size                                   GROUP_MAX_SIZE_REACHED
  // Group administration.
  group_id_not_found,           // DeleteGroups/OffsetDelete of an unknown group    GROUP_ID_NOT_FOUND
  non_empty_group,              // DeleteGroups of a group with members             NON_EMPTY_GROUP
  group_subscribed_to_topic,    // OffsetDelete of a topic a member consumes        GROUP_SUBSCRIBED_TO_TOPIC
  // Offsets.
  offset_metadata_too_large,    // offset.metadata.max.bytes                        OFFSET_METADATA_TOO_LARGE
  invalid_commit_offset_size,   // the commit's records are too large to append     INVALID_COMMIT_OFFSET_SIZE
  unknown_topic_or_partition,   // committing to a partition that does not exist    UNKNOWN_TOPIC_OR_PARTITION
  // Ownership of the group's partition of __consumer_offsets.
  coordinator_not_available,    // stopped, or the write cannot be placed now       COORDINATOR_NOT_AVAILABLE
  not_coordinator,              // another broker leads the group's partition       NOT_COORDINATOR
  coordinator_load_in_progress, // the group's partition is being replayed          COORDINATOR_LOAD_IN_PROGRESS
  // Writes.
  request_timed_out,            // a commit was not replicated in time              REQUEST_TIMED_OUT
  storage_failure,              // the group record cannot be stored (too large)    UNKNOWN_SERVER_ERROR
};

std::string_view to_string(errc e);
const std::error_category& group_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {int(e), group_category()}; }

// What a group_log may report from an append (see the table above).
enum class append_errc : uint8_t {
  ok = 0,
  unknown_partition,    // the log has no such partition         (Kafka: UNKNOWN_TOPIC_OR_PARTITION)
  not_enough_replicas,  // fewer in-sync replicas than min.insync (NOT_ENOUGH_REPLICAS[_AFTER_APPEND])
  not_leader,           // this broker no longer leads it         (NOT_LEADER_OR_FOLLOWER)
  storage_error,        // the log is offline                     (KAFKA_STORAGE_ERROR)
  timed_out,            // not replicated in time                 (REQUEST_TIMED_OUT)
  record_too_large,     // the batch exceeds the log's limits     (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE)
};

const std::error_category& append_category() noexcept;
inline std::error_code make_error_code(append_errc e) noexcept { return {int(e), append_category()}; }

// The coordinator's answer for a failed append of offset commits (and of
// offset or group tombstones), and for a failed group-metadata write. `ok`
// for a success (an empty error_code).
errc offset_write_error(std::error_code append) noexcept;
errc group_write_error(std::error_code append) noexcept;

}  // namespace strata::group

template <>
struct std::is_error_code_enum<strata::group::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<strata::group::append_errc> : std::true_type {};
