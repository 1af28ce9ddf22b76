#pragma once
// One function per API key; each lives in handlers/<api>.cc.
#include "broker/request_context.h"

namespace strata::broker::handlers {

void api_versions(request_context&& ctx);
void metadata(request_context&& ctx);
void produce(request_context&& ctx);
void fetch(request_context&& ctx);
void list_offsets(request_context&& ctx);
void offset_for_leader_epoch(request_context&& ctx);
void create_topics(request_context&& ctx);
void delete_topics(request_context&& ctx);
void create_partitions(request_context&& ctx);
void describe_configs(request_context&& ctx);
void alter_configs(request_context&& ctx);
void incremental_alter_configs(request_context&& ctx);
void delete_records(request_context&& ctx);
void describe_cluster(request_context&& ctx);
void describe_log_dirs(request_context&& ctx);
void alter_partition_reassignments(request_context&& ctx);
void list_partition_reassignments(request_context&& ctx);
void init_producer_id(request_context&& ctx);
void find_coordinator(request_context&& ctx);
void join_group(request_context&& ctx);
void sync_group(request_context&& ctx);
void heartbeat(request_context&& ctx);
void leave_group(request_context&& ctx);
void offset_commit(request_context&& ctx);
void offset_fetch(request_context&& ctx);
void describe_groups(request_context&& ctx);
void list_groups(request_context&& ctx);
void delete_groups(request_context&& ctx);
void offset_delete(request_context&& ctx);
void leader_and_isr(request_context&& ctx);
void stop_replica(request_context&& ctx);
void controlled_shutdown(request_context&& ctx);
void elect_leaders(request_context&& ctx);
void update_metadata(request_context&& ctx);

// ApiVersions for a version we do not support: answered at v0 with
// UNSUPPORTED_VERSION and our ranges, so the client can pick one.
void api_versions_unsupported(request_context&& ctx);

}  // namespace strata::broker::handlers
