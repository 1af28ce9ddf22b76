#include "group/group.h"

#include <algorithm>

namespace strata::group {

std::string_view state_name(group_state s) {
  switch (s) {
    case group_state::empty: return "Empty";
    case group_state::preparing_rebalance: return "PreparingRebalance";
    case group_state::completing_rebalance: return "CompletingRebalance";
    case group_state::stable: return "Stable";
    case group_state::dead: return "Dead";
  }
  return "Unknown";
}

const protocol::bytes* member::metadata_for(const std::string& protocol) const {
  for (const auto& [name, meta] : protocols)
    if (name == protocol) return &meta;
  return nullptr;
}

bool group::all_members_joined() const {
  if (!pending_members.empty()) return false;
  for (const auto& [id, m] : members)
    if (!m.awaiting_join) return false;
  return true;
}

bool group::every_member_supports(const std::string& protocol) const {
  return std::all_of(members.begin(), members.end(),
                     [&protocol](const auto& kv) { return kv.second.metadata_for(protocol) != nullptr; });
}

std::optional<std::string> group::select_protocol() const {
  if (members.empty()) return std::nullopt;
  // Candidates: protocols every member supports.
  std::vector<std::string> candidates;
  for (const auto& [name, meta] : members.begin()->second.protocols) {
    if (every_member_supports(name)) candidates.push_back(name);
  }
  if (candidates.empty()) return std::nullopt;
  // Each member votes for its most preferred candidate; most votes wins,
  // ties go to the first candidate in the first member's order.
  std::map<std::string, int> votes;
  for (const auto& [id, m] : members) {
    for (const auto& [name, meta] : m.protocols) {
      if (std::find(candidates.begin(), candidates.end(), name) != candidates.end()) {
        ++votes[name];
        break;
      }
    }
  }
  std::string best = candidates.front();
  for (const auto& c : candidates)
    if (votes[c] > votes[best]) best = c;
  return best;
}

bool group::supports_protocols(const std::string& type,
                               const std::vector<std::pair<std::string, protocol::bytes>>& protocols) const {
  if (protocols.empty() || type.empty()) return false;
  if (members.empty()) return true;
  if (type != protocol_type) return false;
  for (const auto& [name, meta] : protocols) {
    if (every_member_supports(name)) return true;
  }
  return false;
}

int32_t group::max_rebalance_timeout_ms() const {
  int32_t t = 0;
  for (const auto& [id, m] : members) t = std::max(t, m.rebalance_timeout_ms);
  return t;
}

group_record group::to_record() const {
  group_record r;
  r.protocol_type = protocol_type;
  r.generation = generation;
  r.protocol = protocol_name;
  r.leader = leader_id;
  r.current_state_timestamp = state_timestamp_ms;
  for (const auto& [id, m] : members) {
    member_record mr;
    mr.member_id = id;
    mr.group_instance_id = m.instance_id;
    mr.client_id = m.client_id;
    mr.client_host = m.client_host;
    mr.rebalance_timeout_ms = m.rebalance_timeout_ms;
    mr.session_timeout_ms = m.session_timeout_ms;
    if (protocol_name)
      if (const auto* meta = m.metadata_for(*protocol_name)) mr.subscription = *meta;
    mr.assignment = m.assignment;
    r.members.push_back(std::move(mr));
  }
  return r;
}

}  // namespace strata::group
