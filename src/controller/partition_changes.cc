// Partition state changes: elections and ISR removals decided by
// cluster/leader_election.h, written to ZooKeeper fenced, then mirrored in the
// context (Kafka's ZkPartitionStateMachine and the ISR part of
// ZkReplicaStateMachine). Event thread only.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

#include "cluster/leader_election.h"
#include "controller/controller.h"
#include "controller/zk_checks.h"

namespace strata::controller {

using namespace detail;

namespace {

// Kafka retries a partition whose znode changed under the election
// (doElectLeaderForPartitions' loop); bounded here.
constexpr int kMaxAttempts = 3;

cluster::leader_and_isr to_cluster(const zk::leader_and_isr& s) { return {s.leader, s.leader_epoch, s.isr}; }

bool contains(const std::vector<int32_t>& v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

bool controller::write_state(const partition_key& k, const cluster::leader_and_isr& next) {
  const auto* cur = ctx_.state(k);
  if (!cur) throw std::logic_error("write_state: no state for " + to_string(k));  // callers check
  zk::leader_and_isr s;
  s.leader = next.leader;
  s.leader_epoch = next.leader_epoch;
  s.isr = next.isr;
  s.controller_epoch = epoch_;
  s.partition_epoch = cur->partition_epoch;
  auto r = kzk_.update_partition_state_fenced(k.topic, k.partition, s, token_);
  if (r) {
    s.partition_epoch = r.value();
    ctx_.states[k] = s;
    return true;
  }
  if (is_fence(r.error()) || !(r.error() == zk::errc::bad_version || r.error() == zk::errc::no_node))
    fail(r.error(), "writing the state of " + to_string(k));
  // The leader changed the ISR since we read it (or the znode went): re-read.
  auto now = checked(kzk_.get_partition_state(k.topic, k.partition), "reading the state of " + to_string(k));
  if (now)
    ctx_.states[k] = *now;
  else
    ctx_.states.erase(k);
  return false;
}

bool controller::unclean_election_enabled(const std::string& topic) {
  auto c = checked(kzk_.get_entity_config("topics", topic), "reading the configs of " + topic);
  auto it = c.find("unclean.leader.election.enable");
  if (it == c.end()) return cfg_.unclean_leader_election_enable;
  return it->second == "true";
}

std::vector<partition_key> controller::elect_leaders(const std::vector<partition_key>& parts, election_kind kind) {
  std::vector<partition_key> changed;
  const auto live_all = ctx_.live_broker_ids();
  const auto live_or_shutting_all = ctx_.live_or_shutting_down_ids();
  const std::vector<int32_t> shutting(ctx_.shutting_down.begin(), ctx_.shutting_down.end());
  for (const auto& k : parts) {
    if (ctx_.being_deleted(k.topic)) continue;
    // A replica on a failed log dir (KIP-112) is not a candidate: as if its broker were down.
    const auto live = ctx_.without_offline(k, live_all);
    const auto live_or_shutting = ctx_.without_offline(k, live_or_shutting_all);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      const auto* cur = ctx_.state(k);
      if (!cur) break;
      const auto& replicas = ctx_.replicas(k);
      std::optional<cluster::leader_and_isr> next;
      bool unclean = false;
      switch (kind) {
        case election_kind::offline:
          next = cluster::elect_leader_for_offline_partition(replicas, to_cluster(*cur), live, false);
          if (!next && unclean_election_enabled(k.topic)) {
            next = cluster::elect_leader_for_offline_partition(replicas, to_cluster(*cur), live, true);
            unclean = next.has_value();
          }
          break;
        case election_kind::controlled_shutdown:
          next = cluster::elect_leader_for_controlled_shutdown(replicas, to_cluster(*cur), live_or_shutting, shutting);
          break;
        case election_kind::preferred:
          next = cluster::elect_preferred_leader(replicas, to_cluster(*cur), live);
          break;
        case election_kind::unclean:
          // Asked for by an operator (ElectLeaders): unclean if no ISR member is live.
          next = cluster::elect_leader_for_offline_partition(replicas, to_cluster(*cur), live, true);
          unclean = next && std::find(cur->isr.begin(), cur->isr.end(), next->leader) == cur->isr.end();
          break;
      }
      if (!next) {
        if (kind == election_kind::offline || kind == election_kind::unclean)
          spdlog::warn("controller: {} has no eligible leader (replicas [{}], ISR [{}]); it stays offline",
                       to_string(k), fmt::join(replicas, ","), fmt::join(cur->isr, ","));
        break;
      }
      if (write_state(k, *next)) {
        spdlog::info("controller: {}: leader {} in epoch {}, ISR [{}]{}", to_string(k), next->leader,
                     next->leader_epoch, fmt::join(next->isr, ","), unclean ? " (unclean election: data may be lost)" : "");
        changed.push_back(k);
        break;
      }
    }
  }
  return changed;
}

std::vector<partition_key> controller::initialize_partitions(const std::vector<partition_key>& parts) {
  std::map<std::string, std::map<int32_t, zk::leader_and_isr>> by_topic;
  const auto live = ctx_.live_broker_ids();
  for (const auto& k : parts) {
    if (ctx_.state(k) || ctx_.being_deleted(k.topic)) continue;
    // A controller that failed half-way may have created it already.
    auto existing = checked(kzk_.get_partition_state(k.topic, k.partition), "reading the state of " + to_string(k));
    if (existing) {
      ctx_.states[k] = *existing;
      continue;
    }
    auto init = cluster::initial_leader_and_isr(ctx_.replicas(k), live);
    if (!init) {
      spdlog::warn("controller: new partition {} has no live replica (replicas [{}]); it waits for one",
                   to_string(k), fmt::join(ctx_.replicas(k), ","));
      continue;
    }
    zk::leader_and_isr s;
    s.leader = init->leader;
    s.leader_epoch = init->leader_epoch;
    s.isr = init->isr;
    s.controller_epoch = epoch_;
    by_topic[k.topic][k.partition] = s;
  }
  std::vector<partition_key> created;
  for (auto& [topic, states] : by_topic) {
    auto r = kzk_.create_partition_states(topic, states, token_);
    if (!r && !(r.error() == zk::errc::node_exists)) fail(r.error(), "creating the partition states of " + topic);
    // On node_exists someone created some first: take what ZooKeeper holds.
    for (auto& [p, s] : states) {
      partition_key k{topic, p};
      if (r) {
        s.partition_epoch = 0;  // a new znode's version
        ctx_.states[k] = s;
        created.push_back(k);
        continue;
      }
      auto now = checked(kzk_.get_partition_state(topic, p), "reading the state of " + to_string(k));
      if (now) ctx_.states[k] = *now;
      if (now && now->same_state(s)) created.push_back(k);
    }
  }
  return created;
}

std::vector<partition_key> controller::remove_from_isr(const std::vector<partition_key>& parts, int32_t replica) {
  std::vector<partition_key> changed;
  for (const auto& k : parts) {
    if (ctx_.being_deleted(k.topic)) continue;
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      const auto* cur = ctx_.state(k);
      // Kafka's doRemoveReplicasFromIsr acts only where the replica is in the ISR.
      if (!cur || !contains(cur->isr, replica)) break;
      auto next = cluster::remove_replica_from_isr(to_cluster(*cur), replica);
      if (next.leader == cur->leader && next.isr == cur->isr) break;  // the last ISR member, already leaderless
      if (write_state(k, next)) {
        spdlog::info("controller: {}: broker {} left the ISR; leader {} in epoch {}, ISR [{}]", to_string(k), replica,
                     next.leader, next.leader_epoch, fmt::join(next.isr, ","));
        changed.push_back(k);
        break;
      }
    }
  }
  return changed;
}

void controller::add_leader_and_isr(request_batch& batch, const std::vector<partition_key>& parts, bool is_new) {
  for (const auto& k : parts) batch.leader_and_isr(ctx_.live_replicas(k), k, is_new);
}

std::vector<partition_key> controller::trigger_online_partitions(request_batch& batch) {
  std::vector<partition_key> fresh, offline;
  for (const auto& k : ctx_.all_partitions()) {
    if (!ctx_.is_offline(k)) continue;
    (ctx_.state(k) ? offline : fresh).push_back(k);
  }
  auto initialized = initialize_partitions(fresh);
  add_leader_and_isr(batch, initialized, true);
  add_leader_and_isr(batch, elect_leaders(offline, election_kind::offline));
  return initialized;
}

}  // namespace strata::controller
