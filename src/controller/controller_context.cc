#include "controller/controller_context.h"

#include <algorithm>
#include <set>

namespace strata::controller {

std::string to_string(const partition_key& k) { return k.topic + "-" + std::to_string(k.partition); }

std::vector<int32_t> controller_context::live_broker_ids() const {
  std::vector<int32_t> ids;
  for (const auto& [id, reg] : live_brokers)
    if (!shutting_down.count(id)) ids.push_back(id);
  return ids;
}

std::vector<int32_t> controller_context::live_or_shutting_down_ids() const {
  std::vector<int32_t> ids;
  for (const auto& [id, reg] : live_brokers) ids.push_back(id);
  return ids;
}

int64_t controller_context::broker_epoch(int32_t id) const {
  auto it = live_brokers.find(id);
  return it == live_brokers.end() ? -1 : it->second.broker_epoch;
}

const std::vector<int32_t>& controller_context::replicas(const partition_key& k) const {
  static const std::vector<int32_t> none;
  auto t = topics.find(k.topic);
  if (t == topics.end()) return none;
  auto p = t->second.partitions.find(k.partition);
  return p == t->second.partitions.end() ? none : p->second;
}

replica_assignment controller_context::assignment(const partition_key& k) const {
  replica_assignment a;
  auto t = topics.find(k.topic);
  if (t == topics.end()) return a;
  auto get = [&](const zk::replica_map& m) {
    auto it = m.find(k.partition);
    return it == m.end() ? std::vector<int32_t>{} : it->second;
  };
  a.replicas = get(t->second.partitions);
  a.adding = get(t->second.adding);
  a.removing = get(t->second.removing);
  return a;
}

void controller_context::set_assignment(const partition_key& k, const replica_assignment& a) {
  auto t = topics.find(k.topic);
  if (t == topics.end()) return;
  t->second.partitions[k.partition] = a.replicas;
  auto put = [&](zk::replica_map& m, const std::vector<int32_t>& v) {
    if (v.empty())
      m.erase(k.partition);
    else
      m[k.partition] = v;
  };
  put(t->second.adding, a.adding);
  put(t->second.removing, a.removing);
}

std::vector<partition_key> controller_context::partitions_being_reassigned() const {
  std::set<partition_key> out;
  for (const auto& [name, t] : topics) {
    for (const auto& [p, r] : t.adding)
      if (!r.empty()) out.insert({name, p});
    for (const auto& [p, r] : t.removing)
      if (!r.empty()) out.insert({name, p});
  }
  return {out.begin(), out.end()};
}

const zk::leader_and_isr* controller_context::state(const partition_key& k) const {
  auto it = states.find(k);
  return it == states.end() ? nullptr : &it->second;
}

std::vector<partition_key> controller_context::all_partitions() const {
  std::vector<partition_key> out;
  for (const auto& [name, t] : topics)
    for (const auto& [p, r] : t.partitions) out.push_back({name, p});
  return out;
}

std::vector<partition_key> controller_context::partitions_of(const std::string& topic) const {
  std::vector<partition_key> out;
  auto t = topics.find(topic);
  if (t == topics.end()) return out;
  for (const auto& [p, r] : t->second.partitions) out.push_back({topic, p});
  return out;
}

std::vector<partition_key> controller_context::partitions_on(int32_t broker) const {
  std::vector<partition_key> out;
  for (const auto& [name, t] : topics)
    for (const auto& [p, r] : t.partitions)
      if (std::find(r.begin(), r.end(), broker) != r.end()) out.push_back({name, p});
  return out;
}

bool controller_context::is_offline(const partition_key& k) const {
  if (being_deleted(k.topic)) return false;
  const auto* s = state(k);
  return !s || s->leader < 0 || !is_live_or_shutting_down(s->leader) || replica_offline(s->leader, k);
}

bool controller_context::replica_offline(int32_t broker, const partition_key& k) const {
  auto it = offline_replicas.find(broker);
  return it != offline_replicas.end() && it->second.count(k) > 0;
}

std::vector<int32_t> controller_context::without_offline(const partition_key& k, std::vector<int32_t> ids) const {
  std::erase_if(ids, [&](int32_t b) { return replica_offline(b, k); });
  return ids;
}

int32_t controller_context::offline_partition_count() const {
  int32_t n = 0;
  for (const auto& k : all_partitions())
    if (is_offline(k)) ++n;
  return n;
}

std::vector<int32_t> controller_context::live_replicas(const partition_key& k) const {
  std::vector<int32_t> out;
  for (int32_t r : replicas(k))
    if (replica_online(r, k)) out.push_back(r);
  return out;
}

void controller_context::remove_topic(const std::string& topic) {
  for (const auto& k : partitions_of(topic)) states.erase(k);
  topics.erase(topic);
  deletions.erase(topic);
}

controller_snapshot controller_context::snapshot() const {
  controller_snapshot s;
  for (const auto& [id, reg] : live_brokers)
    s.brokers.push_back({id, reg.broker_epoch, reg.endpoints, reg.rack, shutting_down.count(id) > 0});
  for (const auto& k : all_partitions()) {
    partition_view v;
    v.topic = k.topic;
    v.partition = k.partition;
    v.replicas = replicas(k);
    if (const auto* st = state(k)) {
      v.leader = st->leader;
      v.leader_epoch = st->leader_epoch;
      v.partition_epoch = st->partition_epoch;
      v.isr = st->isr;
    }
    v.online = !is_offline(k) && !being_deleted(k.topic);
    const auto a = assignment(k);
    v.adding_replicas = a.adding;
    v.removing_replicas = a.removing;
    s.partitions.push_back(std::move(v));
  }
  for (const auto& [t, d] : deletions) s.topics_being_deleted.push_back(t);
  s.offline_partitions = offline_partition_count();
  return s;
}

}  // namespace strata::controller
