#include "broker/error_mapping.h"

#include "cluster/errc.h"
#include "cluster/metadata_store.h"
#include "protocol/records/errc.h"
#include "storage/errc.h"

namespace strata::broker {
namespace {

using protocol::error_code;

error_code from_storage(storage::errc e) {
  switch (e) {
    case storage::errc::success: return error_code::none;
    case storage::errc::offset_out_of_range: return error_code::offset_out_of_range;
    case storage::errc::batch_too_large: return error_code::record_list_too_large;
    // Closed by shutdown or deleted with its partition: the client looks for the
    // leader again.
    case storage::errc::log_closed: return error_code::not_leader_or_follower;
    default: return error_code::kafka_storage_error;
  }
}

error_code from_cluster(cluster::errc e) {
  switch (e) {
    case cluster::errc::success: return error_code::none;
    case cluster::errc::not_leader_or_follower: return error_code::not_leader_or_follower;
    case cluster::errc::fenced_leader_epoch: return error_code::fenced_leader_epoch;
    case cluster::errc::unknown_leader_epoch: return error_code::unknown_leader_epoch;
    case cluster::errc::not_enough_replicas: return error_code::not_enough_replicas;
    case cluster::errc::not_enough_replicas_after_append: return error_code::not_enough_replicas_after_append;
    case cluster::errc::request_timed_out: return error_code::request_timed_out;
    case cluster::errc::partition_offline: return error_code::kafka_storage_error;
    case cluster::errc::invalid_producer_epoch: return error_code::invalid_producer_epoch;
    case cluster::errc::out_of_order_sequence: return error_code::out_of_order_sequence_number;
    case cluster::errc::unknown_topic_or_partition: return error_code::unknown_topic_or_partition;
    case cluster::errc::partition_deleted: return error_code::not_leader_or_follower;
    case cluster::errc::shutting_down: return error_code::not_leader_or_follower;
  }
  return error_code::unknown_server_error;
}

error_code from_records(records::errc e) {
  switch (e) {
    case records::errc::ok: return error_code::none;
    case records::errc::batch_too_large: return error_code::message_too_large;
    case records::errc::unsupported_magic:
    case records::errc::invalid_offset_range:
    case records::errc::invalid_record_count:
    case records::errc::invalid_sequence:
    case records::errc::control_batch_from_client:
    case records::errc::missing_key:
    case records::errc::invalid_record: return error_code::invalid_record;
    case records::errc::compression_failed: return error_code::unknown_server_error;
    default: return error_code::corrupt_message;
  }
}

}  // namespace

protocol::error_code to_wire(std::error_code e) {
  if (!e) return error_code::none;
  const auto& cat = e.category();
  if (cat == cluster::cluster_category()) return from_cluster(static_cast<cluster::errc>(e.value()));
  if (cat == storage::storage_category()) return from_storage(static_cast<storage::errc>(e.value()));
  if (cat == records::records_category()) return from_records(static_cast<records::errc>(e.value()));
  if (cat == cluster::store_category()) {
    switch (static_cast<cluster::store_errc>(e.value())) {
      case cluster::store_errc::topic_exists: return error_code::topic_already_exists;
      case cluster::store_errc::unknown_topic: return error_code::unknown_topic_or_partition;
      case cluster::store_errc::invalid_request: return error_code::invalid_request;
      default: return error_code::kafka_storage_error;
    }
  }
  return error_code::kafka_storage_error;
}

}  // namespace strata::broker
