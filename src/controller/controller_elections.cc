// ElectLeaders (KIP-460) on the controller: Kafka's KafkaController.electLeaders and
// processReplicaLeaderElection, ZooKeeper mode. The periodic preferred-leader check
// (auto.leader.rebalance.enable) is in controller_events.cc; both elect through
// elect_leaders() in partition_changes.cc.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "controller/controller.h"

namespace strata::controller {

const char* to_string(election_error e) {
  switch (e) {
    case election_error::none: return "none";
    case election_error::not_controller: return "not the controller";
    case election_error::unknown_topic_or_partition: return "unknown topic or partition";
    case election_error::topic_being_deleted: return "the topic is being deleted";
    case election_error::election_not_needed: return "election not needed";
    case election_error::preferred_leader_not_available:
      return "the preferred replica is not live or not in the ISR";
    case election_error::eligible_leaders_not_available: return "no live replica to elect";
    case election_error::timed_out: return "timed out";
  }
  return "?";
}

std::vector<election_result> controller::do_elect_leaders(election_type type,
                                                          const std::optional<std::vector<partition_key>>& parts) {
  std::vector<election_result> out;
  if (!active_) {
    if (parts)
      for (const auto& k : *parts) out.push_back({k, election_error::not_controller});
    return out;
  }
  const std::vector<partition_key> asked = parts ? *parts : ctx_.all_partitions();
  std::set<partition_key> seen;
  std::vector<partition_key> electable;
  for (const auto& k : asked) {
    if (!seen.insert(k).second) continue;  // named twice: one answer
    const auto* s = ctx_.state(k);
    if (ctx_.replicas(k).empty() || !s) {
      out.push_back({k, election_error::unknown_topic_or_partition});
    } else if (ctx_.being_deleted(k.topic)) {
      out.push_back({k, election_error::topic_being_deleted});
    } else if (type == election_type::preferred ? s->leader == ctx_.replicas(k).front()
                                                : s->leader >= 0 && ctx_.is_live(s->leader)) {
      // Kafka's alreadyValidLeader: asked for every partition, these are left out.
      if (parts) out.push_back({k, election_error::election_not_needed});
    } else {
      electable.push_back(k);
    }
  }
  if (electable.empty()) return out;
  request_batch batch = new_batch();
  const auto changed = elect_leaders(electable, type == election_type::preferred ? election_kind::preferred
                                                                                 : election_kind::unclean);
  add_leader_and_isr(batch, changed);
  send(batch);
  const std::set<partition_key> done(changed.begin(), changed.end());
  for (const auto& k : electable) {
    if (done.count(k)) {
      out.push_back({k, election_error::none});
    } else {
      out.push_back({k, type == election_type::preferred ? election_error::preferred_leader_not_available
                                                         : election_error::eligible_leaders_not_available});
    }
  }
  spdlog::info("controller: {} election asked for {} partition(s): {} elected, {} could not be",
               type == election_type::preferred ? "preferred" : "unclean", parts ? asked.size() : electable.size(),
               changed.size(), electable.size() - changed.size());
  return out;
}

}  // namespace strata::controller
