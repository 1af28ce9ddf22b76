#include "group/errc.h"

#include <string>

namespace strata::group {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "strata.group"; }
  std::string message(int ev) const override { return std::string(to_string(errc(ev))); }
};

class append_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "strata.group.append"; }
  std::string message(int ev) const override {
    switch (append_errc(ev)) {
      case append_errc::ok: return "ok";
      case append_errc::unknown_partition: return "no such partition of __consumer_offsets";
      case append_errc::not_enough_replicas: return "not enough in-sync replicas";
      case append_errc::not_leader: return "not the leader of the __consumer_offsets partition";
      case append_errc::storage_error: return "the __consumer_offsets partition is offline";
      case append_errc::timed_out: return "the append was not replicated in time";
      case append_errc::record_too_large: return "the records are too large to append";
    }
    return "unknown append error";
  }
};

}  // namespace

std::string_view to_string(errc e) {
  switch (e) {
    case errc::ok: return "ok";
    case errc::invalid_group_id: return "invalid group id";
    case errc::invalid_session_timeout: return "session timeout outside the broker's limits";
    case errc::unknown_member_id: return "unknown member id";
    case errc::member_id_required: return "member id required";
    case errc::illegal_generation: return "illegal generation";
    case errc::rebalance_in_progress: return "rebalance in progress";
    case errc::inconsistent_group_protocol: return "inconsistent group protocol";
    case errc::fenced_instance_id: return "fenced group instance id";
    case errc::group_max_size_reached: return "group max size reached";
    case errc::group_id_not_found: return "group id not found";
    case errc::non_empty_group: return "group is not empty";
    case errc::group_subscribed_to_topic: return "group is subscribed to the topic";
    case errc::offset_metadata_too_large: return "offset metadata too large";
    case errc::invalid_commit_offset_size: return "commit too large to store";
    case errc::unknown_topic_or_partition: return "unknown topic or partition";
    case errc::coordinator_not_available: return "coordinator not available";
    case errc::not_coordinator: return "not the coordinator of this group";
    case errc::coordinator_load_in_progress: return "the group's partition is loading";
    case errc::request_timed_out: return "the write timed out";
    case errc::storage_failure: return "the group record cannot be stored";
  }
  return "unknown group error";
}

const std::error_category& group_category() noexcept {
  static const category c;
  return c;
}

const std::error_category& append_category() noexcept {
  static const append_category_impl c;
  return c;
}

// Kafka's GroupMetadataManager.maybeConvertOffsetCommitError.
errc offset_write_error(std::error_code append) noexcept {
  if (!append) return errc::ok;
  if (append.category() != append_category()) return errc::coordinator_not_available;
  switch (append_errc(append.value())) {
    case append_errc::ok: return errc::ok;
    case append_errc::unknown_partition:
    case append_errc::not_enough_replicas: return errc::coordinator_not_available;
    case append_errc::not_leader:
    case append_errc::storage_error: return errc::not_coordinator;
    case append_errc::timed_out: return errc::request_timed_out;
    case append_errc::record_too_large: return errc::invalid_commit_offset_size;
  }
  return errc::coordinator_not_available;
}

// Kafka's GroupMetadataManager.storeGroup callback.
errc group_write_error(std::error_code append) noexcept {
  if (!append) return errc::ok;
  if (append.category() != append_category()) return errc::coordinator_not_available;
  switch (append_errc(append.value())) {
    case append_errc::ok: return errc::ok;
    case append_errc::unknown_partition:
    case append_errc::not_enough_replicas: return errc::coordinator_not_available;
    case append_errc::not_leader:
    case append_errc::storage_error: return errc::not_coordinator;
    case append_errc::timed_out: return errc::rebalance_in_progress;
    case append_errc::record_too_large: return errc::storage_failure;
  }
  return errc::coordinator_not_available;
}

}  // namespace strata::group
