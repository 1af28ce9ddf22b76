#include "broker/api_table.h"

#include "broker/handlers/handlers.h"
#include "protocol/generated/api_keys.h"

namespace strata::broker {
namespace {

using protocol::api_key;
namespace h = handlers;

constexpr int16_t k(api_key a) { return static_cast<int16_t>(a); }

const api_entry kApis[] = {
    {k(api_key::produce), 3, 11, h::produce},
    {k(api_key::fetch), 4, 16, h::fetch},
    {k(api_key::list_offsets), 1, 8, h::list_offsets},
    {k(api_key::offset_for_leader_epoch), 0, 4, h::offset_for_leader_epoch},
    {k(api_key::metadata), 0, 12, h::metadata},
    {k(api_key::offset_commit), 2, 8, h::offset_commit},
    {k(api_key::offset_fetch), 1, 8, h::offset_fetch},
    {k(api_key::find_coordinator), 0, 4, h::find_coordinator},
    {k(api_key::join_group), 0, 9, h::join_group},
    {k(api_key::heartbeat), 0, 4, h::heartbeat},
    {k(api_key::leave_group), 0, 5, h::leave_group},
    {k(api_key::sync_group), 0, 5, h::sync_group},
    {k(api_key::describe_groups), 0, 5, h::describe_groups},
    {k(api_key::list_groups), 0, 5, h::list_groups},
    {k(api_key::api_versions), 0, 3, h::api_versions},
    {k(api_key::create_topics), 0, 7, h::create_topics},
    {k(api_key::delete_topics), 0, 6, h::delete_topics},
    {k(api_key::delete_records), 0, 2, h::delete_records},
    {k(api_key::init_producer_id), 0, 4, h::init_producer_id},
    {k(api_key::describe_configs), 0, 4, h::describe_configs},
    {k(api_key::alter_configs), 0, 2, h::alter_configs},
    {k(api_key::describe_log_dirs), 0, 4, h::describe_log_dirs},
    {k(api_key::create_partitions), 0, 3, h::create_partitions},
    {k(api_key::delete_groups), 0, 2, h::delete_groups},
    {k(api_key::incremental_alter_configs), 0, 1, h::incremental_alter_configs},
    {k(api_key::offset_delete), 0, 0, h::offset_delete},
    {k(api_key::describe_cluster), 0, 1, h::describe_cluster},
    {k(api_key::elect_leaders), 0, 2, h::elect_leaders},
    // To the controller (KIP-455); NOT_CONTROLLER elsewhere.
    {k(api_key::alter_partition_reassignments), 0, 0, h::alter_partition_reassignments},
    {k(api_key::list_partition_reassignments), 0, 0, h::list_partition_reassignments},
    // From the controller (ZooKeeper mode).
    {k(api_key::leader_and_isr), 0, 7, h::leader_and_isr},
    {k(api_key::stop_replica), 0, 4, h::stop_replica},
    {k(api_key::update_metadata), 0, 8, h::update_metadata},
    {k(api_key::controlled_shutdown), 0, 3, h::controlled_shutdown},
};

}  // namespace

std::span<const api_entry> supported_apis() { return kApis; }

const api_entry* find_api(int16_t key) {
  for (const auto& e : kApis)
    if (e.key == key) return &e;
  return nullptr;
}

}  // namespace strata::broker
