#include "client/leader_election.h"

#include "client/errors.h"
#include "protocol/generated/elect_leaders.h"

namespace strata::client {

using protocol::error_code;

std::vector<election_outcome> elect_leaders(cluster_client& c, election_type type,
                                            const std::optional<std::vector<topic_partition>>& partitions) {
  return c.with_retries([&] {
    auto& conn = c.controller();
    const int16_t v = conn.version_for(protocol::elect_leaders_request::api_key);
    if (v < 0) throw client_error("the controller does not support ElectLeaders");
    if (v == 0 && type != election_type::preferred)
      throw client_error("the controller supports preferred elections only (ElectLeaders v0)");
    protocol::elect_leaders_request req;
    req.election_type = static_cast<int8_t>(type);
    req.timeout_ms = c.remaining_ms();
    if (!partitions) {
      req.topic_partitions.reset();
    } else {
      for (const auto& tp : *partitions) {
        auto& topics = *req.topic_partitions;
        if (topics.empty() || topics.back().topic != tp.topic) topics.emplace_back().topic = tp.topic;
        topics.back().partitions.push_back(tp.partition);
      }
    }
    auto resp = conn.call_at<protocol::elect_leaders_response>(req, v, c.deadline());
    check(resp.error_code, "electing leaders");
    std::vector<election_outcome> out;
    for (const auto& t : resp.replica_election_results) {
      for (const auto& p : t.partition_result) {
        // The controller moved: ask the new one (with_retries looks it up again).
        if (p.error_code == static_cast<int16_t>(error_code::not_controller))
          throw client_error("not the controller", error_code::not_controller);
        out.push_back({{t.topic, p.partition_id}, p.error_code,
                       p.error_code ? error_text(p.error_code, p.error_message) : std::string()});
      }
    }
    return out;
  });
}

}  // namespace strata::client
