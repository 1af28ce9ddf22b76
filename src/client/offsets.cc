#include "client/offsets.h"

#include "protocol/generated/list_offsets.h"

namespace strata::client {

std::map<topic_partition, int64_t> list_offsets(cluster_client& c,
                                                const std::map<topic_partition, int64_t>& timestamps) {
  if (timestamps.empty()) return {};
  return c.with_retries([&] {
    std::vector<std::string> topics;
    for (auto& [tp, ts] : timestamps)
      if (topics.empty() || topics.back() != tp.topic) topics.push_back(tp.topic);
    auto md = c.metadata(topics);
    std::map<topic_partition, int32_t> leader;
    for (auto& t : md.topics) {
      check(t.error_code, "listing offsets of topic '" + t.name.value_or("") + "'");
      for (auto& p : t.partitions) leader[{t.name.value_or(""), p.partition_index}] = p.leader_id;
    }
    // One request per leader, holding that leader's partitions.
    std::map<int32_t, protocol::list_offsets_request> by_leader;
    for (auto& [tp, ts] : timestamps) {
      auto it = leader.find(tp);
      if (it == leader.end())
        throw client_error("partition " + tp.topic + "-" + std::to_string(tp.partition) + " does not exist",
                           protocol::error_code::unknown_topic_or_partition);
      if (it->second < 0)
        throw client_error("partition " + tp.topic + "-" + std::to_string(tp.partition) + " has no leader",
                           protocol::error_code::leader_not_available);
      auto& req = by_leader[it->second];
      req.replica_id = -1;  // a client, not a follower
      auto& p = topic_entry(req.topics, tp.topic).partitions.emplace_back();
      p.partition_index = tp.partition;
      p.timestamp = ts;
    }
    std::map<topic_partition, int64_t> out;
    for (auto& [node, req] : by_leader) {
      req.timeout_ms = c.remaining_ms();
      auto resp = c.broker(node).call<protocol::list_offsets_response>(req, c.deadline());
      for (auto& t : resp.topics)
        for (auto& p : t.partitions) {
          check(p.error_code, "listing offsets of partition " + t.name + "-" + std::to_string(p.partition_index));
          out[{t.name, p.partition_index}] = p.offset;
        }
    }
    for (auto& [tp, ts] : timestamps)
      if (!out.count(tp))
        throw client_error("listing offsets: the broker did not answer for partition " + tp.topic + "-" +
                           std::to_string(tp.partition));
    return out;
  });
}

}  // namespace strata::client
