#include "client/reassignments.h"

#include <algorithm>
#include <map>

#include "client/errors.h"
#include "protocol/generated/alter_partition_reassignments.h"
#include "protocol/generated/list_partition_reassignments.h"

namespace strata::client {

std::vector<reassignment_outcome> alter_partition_reassignments(cluster_client& c,
                                                                const std::vector<reassignment_target>& targets) {
  return c.with_retries([&] {
    protocol::alter_partition_reassignments_request req;
    req.timeout_ms = c.remaining_ms();
    // Grouped by topic, in first-seen order; the answer is matched back by name.
    for (const auto& t : targets) {
      auto it = std::find_if(req.topics.begin(), req.topics.end(), [&](const auto& x) { return x.name == t.tp.topic; });
      if (it == req.topics.end()) {
        req.topics.emplace_back().name = t.tp.topic;
        it = std::prev(req.topics.end());
      }
      protocol::alter_partition_reassignments_request::reassignable_topic::reassignable_partition p;
      p.partition_index = t.tp.partition;
      p.replicas = t.replicas;
      it->partitions.push_back(std::move(p));
    }
    auto resp = c.controller().call<protocol::alter_partition_reassignments_response>(req, c.deadline());
    check(resp.error_code, "reassigning partitions", resp.error_message);
    std::map<topic_partition, reassignment_outcome> by_tp;
    for (const auto& tr : resp.responses)
      for (const auto& pr : tr.partitions)
        by_tp[{tr.name, pr.partition_index}] = {{tr.name, pr.partition_index}, pr.error_code, pr.error_message};
    std::vector<reassignment_outcome> out;
    for (const auto& t : targets) {
      auto it = by_tp.find(t.tp);
      if (it == by_tp.end())
        throw client_error("reassigning " + t.tp.topic + "-" + std::to_string(t.tp.partition) +
                           ": the controller's answer does not mention the partition");
      out.push_back(it->second);
    }
    return out;
  });
}

std::vector<ongoing_reassignment> list_partition_reassignments(
    cluster_client& c, const std::optional<std::vector<topic_partition>>& partitions) {
  return c.with_retries([&] {
    protocol::list_partition_reassignments_request req;
    req.timeout_ms = c.remaining_ms();
    if (partitions) {
      req.topics.emplace();
      auto sorted = *partitions;
      std::sort(sorted.begin(), sorted.end());
      for (const auto& tp : sorted) topic_entry(*req.topics, tp.topic).partition_indexes.push_back(tp.partition);
    }
    auto resp = c.controller().call<protocol::list_partition_reassignments_response>(req, c.deadline());
    check(resp.error_code, "listing partition reassignments", resp.error_message);
    std::vector<ongoing_reassignment> out;
    for (const auto& t : resp.topics)
      for (const auto& p : t.partitions)
        out.push_back({{t.name, p.partition_index}, p.replicas, p.adding_replicas, p.removing_replicas});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.tp < b.tp; });
    return out;
  });
}

}  // namespace strata::client
