#include "cluster/leader_election.h"

#include <algorithm>

namespace strata::cluster {
namespace {

bool contains(std::span<const int32_t> ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::vector<int32_t> only_live(std::span<const int32_t> ids, std::span<const int32_t> live) {
  std::vector<int32_t> out;
  for (int32_t id : ids) {
    if (contains(live, id)) out.push_back(id);
  }
  return out;
}

leader_and_isr next_epoch(const leader_and_isr& current, int32_t leader, std::vector<int32_t> isr) {
  return leader_and_isr{leader, current.leader_epoch + 1, std::move(isr)};
}

}  // namespace

std::optional<leader_and_isr> initial_leader_and_isr(std::span<const int32_t> assignment,
                                                     std::span<const int32_t> live_brokers) {
  auto live = only_live(assignment, live_brokers);
  if (live.empty()) return std::nullopt;
  int32_t leader = live.front();
  return leader_and_isr{leader, kInitialLeaderEpoch, std::move(live)};
}

std::optional<leader_and_isr> elect_leader_for_offline_partition(
    std::span<const int32_t> assignment, const leader_and_isr& current,
    std::span<const int32_t> live_brokers, bool unclean_leader_election_enable) {
  for (int32_t id : assignment) {
    if (contains(live_brokers, id) && contains(current.isr, id)) {
      return next_epoch(current, id, only_live(current.isr, live_brokers));
    }
  }
  if (!unclean_leader_election_enable) return std::nullopt;
  for (int32_t id : assignment) {
    if (contains(live_brokers, id)) return next_epoch(current, id, {id});
  }
  return std::nullopt;
}

std::optional<leader_and_isr> elect_leader_for_controlled_shutdown(
    std::span<const int32_t> assignment, const leader_and_isr& current,
    std::span<const int32_t> live_or_shutting_down_brokers,
    std::span<const int32_t> shutting_down_brokers) {
  for (int32_t id : assignment) {
    if (contains(live_or_shutting_down_brokers, id) && contains(current.isr, id) &&
        !contains(shutting_down_brokers, id)) {
      std::vector<int32_t> isr;
      for (int32_t r : current.isr) {
        if (!contains(shutting_down_brokers, r)) isr.push_back(r);
      }
      return next_epoch(current, id, std::move(isr));
    }
  }
  return std::nullopt;
}

std::optional<leader_and_isr> elect_preferred_leader(std::span<const int32_t> assignment,
                                                     const leader_and_isr& current,
                                                     std::span<const int32_t> live_brokers) {
  if (assignment.empty()) return std::nullopt;
  int32_t preferred = assignment.front();
  if (!contains(live_brokers, preferred) || !contains(current.isr, preferred)) return std::nullopt;
  return next_epoch(current, preferred, current.isr);
}

leader_and_isr remove_replica_from_isr(const leader_and_isr& current, int32_t replica) {
  int32_t leader = current.leader == replica ? kNoLeader : current.leader;
  std::vector<int32_t> isr = current.isr;
  if (isr.size() > 1) std::erase(isr, replica);
  return next_epoch(current, leader, std::move(isr));
}

}  // namespace strata::cluster
