// group_coordinator: ownership of __consumer_offsets partitions -- loading a
// partition's groups by replaying its records, and unloading them when its
// leadership moves (Kafka's GroupMetadataManager.loadGroupsAndOffsets and
// removeGroupsAndOffsets, GroupCoordinator.onGroupUnloaded).
#include <spdlog/spdlog.h>

#include "group/group_coordinator.h"

namespace strata::group {

errc group_coordinator::check_owner(const std::string& group_id) const {
  // Kafka's GroupCoordinator.validateGroupStatus, after the group id check.
  if (stopping_) return errc::coordinator_not_available;
  switch (partitions_[partition_for(group_id)].state) {
    case partition_state::owned: return errc::ok;
    case partition_state::loading: return errc::coordinator_load_in_progress;
    case partition_state::not_owned: return errc::not_coordinator;
  }
  return errc::not_coordinator;
}

bool group_coordinator::owns(int32_t partition, uint64_t generation) const {
  const auto& p = partitions_[partition];
  return p.state == partition_state::owned && p.generation == generation;
}

bool group_coordinator::is_coordinator(const std::string& group_id) {
  std::lock_guard lk(mu_);
  return partitions_[partition_for(group_id)].state == partition_state::owned;
}

bool group_coordinator::begin_loading(int32_t partition) {
  std::lock_guard lk(mu_);
  if (partition < 0 || partition >= static_cast<int32_t>(partitions_.size())) return false;
  auto& p = partitions_[partition];
  if (p.state != partition_state::not_owned) return false;
  p.state = partition_state::loading;
  ++p.generation;
  spdlog::info("group coordinator: loading partition {} of __consumer_offsets", partition);
  return true;
}

void group_coordinator::load(int32_t partition, const decoded_record& r) {
  std::lock_guard lk(mu_);
  if (partition < 0 || partition >= static_cast<int32_t>(partitions_.size())) return;
  if (partitions_[partition].state != partition_state::loading) return;
  const std::string& gid = std::visit([](const auto& k) -> const std::string& { return k.group; }, r.key);
  // Only the groups this partition coordinates: a stray record of another
  // group would be served by a partition this broker may not own.
  if (partition_for(gid) != partition) return;
  apply_record(r);
}

void group_coordinator::load(const decoded_record& r) {
  std::lock_guard lk(mu_);
  const std::string& gid = std::visit([](const auto& k) -> const std::string& { return k.group; }, r.key);
  if (partitions_[partition_for(gid)].state == partition_state::not_owned) return;
  apply_record(r);
}

bool group_coordinator::finish_loading(int32_t partition, int32_t coordinator_epoch) {
  actions out;
  bool loaded = false;
  {
    std::lock_guard lk(mu_);
    if (partition < 0 || partition >= static_cast<int32_t>(partitions_.size())) return false;
    auto& p = partitions_[partition];
    if (p.state != partition_state::loading) return false;  // unload cancelled this load
    if (coordinator_epoch < p.coordinator_epoch) {
      // A newer leadership of this partition was seen (Kafka's
      // maybeUpdateCoordinatorEpoch): this load is stale.
      spdlog::info("group coordinator: discarding the load of partition {} at epoch {} (epoch {} seen)", partition,
                   coordinator_epoch, p.coordinator_epoch);
      drop_partition_groups(partition, out);
      p.state = partition_state::not_owned;
      ++p.generation;
    } else {
      p.coordinator_epoch = coordinator_epoch;
      p.state = partition_state::owned;
      size_t n = 0;
      // Members of loaded groups get a fresh session to come back (Kafka's
      // onGroupLoaded schedules their heartbeat expiration).
      for (auto& [id, g] : groups_) {
        if (g.partition != partition) continue;
        ++n;
        for (auto& [mid, m] : g.members) reset_session(m);
      }
      spdlog::info("group coordinator: partition {} of __consumer_offsets loaded at epoch {}: {} group(s)", partition,
                   coordinator_epoch, n);
      loaded = true;
    }
  }
  cv_.notify_all();
  run(out);
  return loaded;
}

void group_coordinator::unload(int32_t partition, std::optional<int32_t> coordinator_epoch) {
  actions out;
  {
    std::lock_guard lk(mu_);
    if (partition < 0 || partition >= static_cast<int32_t>(partitions_.size())) return;
    auto& p = partitions_[partition];
    if (coordinator_epoch) {
      if (*coordinator_epoch < p.coordinator_epoch) {
        spdlog::info("group coordinator: not unloading partition {} at epoch {} (epoch {} seen)", partition,
                     *coordinator_epoch, p.coordinator_epoch);
        return;
      }
      p.coordinator_epoch = *coordinator_epoch;
    }
    const size_t n = drop_partition_groups(partition, out);
    if (p.state != partition_state::not_owned)
      spdlog::info("group coordinator: unloaded partition {} of __consumer_offsets: {} group(s)", partition, n);
    p.state = partition_state::not_owned;
    ++p.generation;
  }
  cv_.notify_all();  // the housekeeper recomputes its deadlines without these members
  run(out);
}

size_t group_coordinator::drop_partition_groups(int32_t partition, actions& out) {
  // Kafka's onGroupUnloaded: parked JoinGroup and SyncGroup requests learn
  // that this broker no longer coordinates the group; clients look it up again.
  size_t n = 0;
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (it->second.partition != partition) {
      ++it;
      continue;
    }
    for (auto& [mid, m] : it->second.members) fail_pending(m, errc::not_coordinator, out);
    it = groups_.erase(it);
    ++n;
  }
  return n;
}

// Last write wins: an offset or group record replaces what was loaded before;
// a tombstone removes it.
void group_coordinator::apply_record(const decoded_record& r) {
  if (auto* ok = std::get_if<offset_key>(&r.key)) {
    if (r.value) {
      group& g = get_or_create(ok->group);
      g.offsets[{ok->topic, ok->partition}] = std::get<committed_offset>(*r.value);
    } else if (auto* g = find(ok->group)) {
      g->offsets.erase({ok->topic, ok->partition});
    }
    return;
  }
  const auto& gk = std::get<group_key>(r.key);
  if (!r.value) {
    // Tombstone: the group was deleted; offsets written before it are gone too.
    groups_.erase(gk.group);
    return;
  }
  const auto& rec = std::get<group_record>(*r.value);
  group& g = get_or_create(gk.group);
  g.protocol_type = rec.protocol_type;
  g.generation = rec.generation;
  g.protocol_name = rec.protocol;
  g.leader_id = rec.leader;
  g.state_timestamp_ms = rec.current_state_timestamp;
  g.members.clear();
  g.static_members.clear();
  for (const auto& mr : rec.members) {
    member m;
    m.id = mr.member_id;
    m.instance_id = mr.group_instance_id;
    m.client_id = mr.client_id;
    m.client_host = mr.client_host;
    m.rebalance_timeout_ms = mr.rebalance_timeout_ms;
    m.session_timeout_ms = mr.session_timeout_ms;
    m.protocol_type = rec.protocol_type;
    if (rec.protocol) m.protocols.push_back({*rec.protocol, mr.subscription});
    m.assignment = mr.assignment;
    if (m.instance_id) g.static_members[*m.instance_id] = m.id;
    g.members.emplace(m.id, std::move(m));
  }
  // A group stored with members was stable when written; its members get a
  // fresh session to come back and heartbeat (Kafka does the same on load).
  g.state = g.members.empty() ? group_state::empty : group_state::stable;
}

}  // namespace strata::group
