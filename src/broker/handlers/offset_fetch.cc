// OffsetFetch (key 9): committed offsets of one group (v0-7) or several (v8+).
// A partition with no commit answers offset -1 and no error, as Kafka does.
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "group/group_coordinator.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {
namespace {

using resp_t = protocol::offset_fetch_response;

// Committed offsets grouped by topic, in request order (or topic order for "all").
template <class TopicT, class PartT>
std::vector<TopicT> collect(group::group_coordinator& gc, const std::string& group_id,
                            const std::optional<std::vector<group::topic_partition>>& wanted) {
  std::vector<TopicT> out;
  for (auto& [tp, off] : gc.fetch_offsets(group_id, wanted)) {
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
    p.error_code = ec(protocol::error_code::none);
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
    resp.topics = collect<resp_t::offset_fetch_response_topic,
                          resp_t::offset_fetch_response_topic::offset_fetch_response_partition>(
        gc, req.group_id, wanted_of(req.topics));
    resp.error_code = ec(protocol::error_code::none);
  } else {
    for (const auto& g : req.groups) {
      resp_t::offset_fetch_response_group rg;
      rg.group_id = g.group_id;
      rg.topics = collect<resp_t::offset_fetch_response_group::offset_fetch_response_topics,
                          resp_t::offset_fetch_response_group::offset_fetch_response_topics::offset_fetch_response_partitions>(
          gc, g.group_id, wanted_of(g.topics));
      rg.error_code = ec(protocol::error_code::none);
      resp.groups.push_back(std::move(rg));
    }
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
