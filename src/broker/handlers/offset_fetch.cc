// OffsetFetch (key 9): committed offsets of one group (v0-7) or several (v8+).
// A partition with no commit answers offset -1 and no error, as Kafka does.
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/group_errors.h"
#include "broker/handlers/handlers.h"
#include "group/group_coordinator.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {
namespace {

using resp_t = protocol::offset_fetch_response;

// Committed offsets grouped by topic, in request order (or topic order for
// "all"). With an error (this broker does not coordinate the group), v0-1
// answer it on every requested partition, as Kafka's
// OffsetFetchRequest.getErrorResponse does; later versions carry it above the
// topics, which stay empty.
template <class TopicT, class PartT>
std::vector<TopicT> collect(const group::fetched_offsets& fetched,
                            const std::optional<std::vector<group::topic_partition>>& wanted, bool error_per_partition) {
  group::offset_list failed;
  if (fetched.error != group::errc::ok && error_per_partition && wanted)
    for (const auto& tp : *wanted) failed.push_back({tp, std::nullopt});
  const auto& offsets = fetched.error == group::errc::ok ? fetched.offsets : failed;
  const int16_t partition_error = group_ec(error_per_partition ? fetched.error : group::errc::ok);
  std::vector<TopicT> out;
  for (const auto& [tp, off] : offsets) {
    if (out.empty() || out.back().name != tp.topic) {
      TopicT t;
      t.name = tp.topic;
      out.push_back(std::move(t));
    }
    PartT p;
    p.partition_index = tp.partition;
    p.committed_offset = off ? off->offset : -1;
    p.committed_leader_epoch = off ? off->leader_epoch : -1;
    p.metadata = off ? off->metadata : std::string();
    p.error_code = partition_error;
    out.back().partitions.push_back(std::move(p));
  }
  return out;
}

template <class ReqTopic>
std::optional<std::vector<group::topic_partition>> wanted_of(const std::optional<std::vector<ReqTopic>>& topics) {
  if (!topics) return std::nullopt;
  std::vector<group::topic_partition> w;
  for (const auto& t : *topics)
    for (int32_t p : t.partition_indexes) w.push_back({t.name, p});
  return w;
}

}  // namespace

void offset_fetch(request_context&& ctx) {
  protocol::offset_fetch_request req;
  if (!ctx.decode(req)) return;
  auto& gc = ctx.b->groups();
  resp_t resp;
  if (ctx.api_version < 8) {
    auto wanted = wanted_of(req.topics);
    auto fetched = gc.fetch_committed(req.group_id, wanted);
    resp.topics = collect<resp_t::offset_fetch_response_topic,
                          resp_t::offset_fetch_response_topic::offset_fetch_response_partition>(
        fetched, wanted, /*error_per_partition=*/ctx.api_version < 2);
    resp.error_code = group_ec(fetched.error);
  } else {
    for (const auto& g : req.groups) {
      resp_t::offset_fetch_response_group rg;
      rg.group_id = g.group_id;
      auto wanted = wanted_of(g.topics);
      auto fetched = gc.fetch_committed(g.group_id, wanted);
      rg.topics = collect<resp_t::offset_fetch_response_group::offset_fetch_response_topics,
                          resp_t::offset_fetch_response_group::offset_fetch_response_topics::offset_fetch_response_partitions>(
          fetched, wanted, /*error_per_partition=*/false);
      rg.error_code = group_ec(fetched.error);
      resp.groups.push_back(std::move(rg));
    }
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
