#include "broker/topic_registry.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/log_limiter.h"
#include <random>

#include "cluster/replica_placement.h"
#include "storage/log_manager.h"

namespace strata::broker {
namespace {

storage::log_config to_log_config(const config::topic_config& tc) {
  storage::log_config lc;
  lc.segment_bytes = tc.segment_bytes;
  lc.segment_ms = tc.segment_ms;
  lc.index_interval_bytes = static_cast<int32_t>(tc.index_interval_bytes);
  lc.segment_index_bytes = static_cast<int32_t>(tc.segment_index_bytes);
  lc.retention_ms = tc.remove_on_retention ? tc.retention_ms : -1;
  lc.retention_bytes = tc.remove_on_retention ? tc.retention_bytes : -1;
  lc.flush_interval_messages = tc.flush_messages;
  lc.flush_interval_ms = tc.flush_ms;
  lc.compact = tc.compact;
  lc.min_cleanable_dirty_ratio = tc.min_cleanable_dirty_ratio;
  lc.min_compaction_lag_ms = tc.min_compaction_lag_ms;
  lc.max_compaction_lag_ms = tc.max_compaction_lag_ms;
  lc.delete_retention_ms = tc.delete_retention_ms;
  return lc;
}

topic_error err(protocol::error_code c, std::string msg) { return {c, std::move(msg)}; }

}  // namespace

bool is_internal_topic(std::string_view name) { return name == "__consumer_offsets" || name == "__transaction_state"; }

std::optional<std::string> check_topic_name(std::string_view name) {
  if (name.empty()) return "topic name is empty";
  if (name == "." || name == "..") return fmt::format("topic name cannot be '{}'", name);
  if (name.size() > 249) return fmt::format("topic name is longer than 249 characters ({})", name.size());
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return fmt::format("topic name '{}' contains a character other than [a-zA-Z0-9._-]", name);
  }
  return std::nullopt;
}

topic_registry::topic_registry(config::broker_config& cfg, cluster::metadata_store& store,
                               storage::log_manager& logs, cluster::replica_manager& replicas,
                               cluster::metadata_cache& cache)
    : cfg_(cfg),
      store_(store),
      logs_(logs),
      replicas_(replicas),
      cache_(cache),
      cluster_mode_(!cfg.get("zookeeper.connect").empty()),
      topics_(std::make_shared<const topic_map>()) {}

cluster::topic_info topic_registry::describe(const topic_state& t) const {
  cluster::topic_info out;
  out.name = t.name;
  out.id = t.id;
  out.internal = t.internal;
  out.partitions.reserve(t.partitions.size());
  for (const auto& p : t.partitions) {
    if (!p) {  // cluster mode (the cache is fed by the controller there)
      out.partitions.emplace_back();
      continue;
    }
    auto st = p->state();
    cluster::partition_info pi;
    pi.leader = st.leader;
    pi.leader_epoch = st.leader_epoch;
    pi.replicas = std::move(st.replicas);
    pi.isr = std::move(st.isr);
    if (!p->online()) pi.offline_replicas = {replicas_.local_broker_id()};
    out.partitions.push_back(std::move(pi));
  }
  return out;
}

std::shared_ptr<topic_state> topic_registry::new_state(const cluster::topic_metadata& md) const {
  auto t = std::make_shared<topic_state>();
  t->name = md.name;
  t->id = md.id;
  t->replication_factor = md.replication_factor;
  t->internal = is_internal_topic(md.name);
  t->overrides = md.configs;
  t->cfg = config::resolve_topic_config(cfg_, md.configs);
  t->assignment = md.assignment;
  // Cluster mode: the replicas held here arrive with LeaderAndIsr.
  if (cluster_mode_) t->partitions.resize(static_cast<size_t>(md.partitions));
  return t;
}

std::shared_ptr<topic_state> topic_registry::load_state(const cluster::topic_metadata& md) const {
  auto t = new_state(md);
  if (cluster_mode_) return t;
  auto lc = to_log_config(t->cfg);
  t->partitions.reserve(static_cast<size_t>(md.partitions));
  for (int32_t p = 0; p < md.partitions; ++p) {
    // A partition that cannot be opened goes offline (KIP-112); the others are served.
    // log_manager::open_all already logged the ones it could not open.
    auto log = logs_.get_or_create(md.name, p, lc, /*is_new=*/false);
    if (!log) {
      std::string reason = logs_.offline_reason(md.name, p);
      if (reason.empty()) {
        reason = fmt::format("cannot create log: {}", log.error().message());
        spdlog::error("partition {}-{} is offline: {}", md.name, p, reason);
      }
      t->partitions.push_back(replicas_.add_offline(md.name, p, std::move(reason), replicas_.single_node_state()));
      continue;
    }
    t->partitions.push_back(replicas_.add(md.name, p, log.value(), replicas_.single_node_state()));
  }
  return t;
}

topic_error topic_registry::create_logs(topic_state& t, int32_t from, int32_t to) {
  auto lc = to_log_config(t.cfg);
  t.partitions.reserve(static_cast<size_t>(to));
  for (int32_t p = from; p < to; ++p) {
    auto log = logs_.get_or_create(t.name, p, lc);
    if (!log) {
      auto msg = fmt::format("cannot create the log of partition {}-{} ({} of {} new partitions): {}", t.name, p,
                             p - from + 1, to - from, log.error().message());
      STRATA_LOG_LIMITED(spdlog::level::warn, "{}; the topic is left as it was", msg);
      // The partitions go first, so their logs (and file descriptors) are released
      // as drop_logs retires them.
      t.partitions.resize(static_cast<size_t>(from));
      drop_logs(t.name, from, p);
      return err(protocol::error_code::kafka_storage_error, std::move(msg));
    }
    t.partitions.push_back(replicas_.add(t.name, p, log.value(), replicas_.single_node_state()));
  }
  return {};
}

void topic_registry::drop_logs(const std::string& name, int32_t from, int32_t to) {
  for (int32_t p = from; p < to; ++p) {
    replicas_.remove(name, p);
    if (auto ec = logs_.delete_partition(name, p))
      spdlog::warn("removing the log of {}-{} after a failed creation: {}", name, p, ec.message());
  }
}

int64_t topic_registry::partition_count() const {
  int64_t n = 0;
  for (const auto& [_, t] : *snapshot()) n += static_cast<int64_t>(t->partitions.size());
  return n;
}

topic_error topic_registry::check_broker_limit(int64_t have, int64_t more) const {
  const int64_t max = cfg_.get_int("max.broker.partitions");
  if (more > max - have)
    return err(protocol::error_code::policy_violation,
               fmt::format("max.broker.partitions is {}: this broker holds {} partitions and {} more were asked for",
                           max, have, more));
  return {};
}

topic_error topic_registry::check_request_limit(int64_t requested) const {
  const int64_t max = cfg_.get_int("strata.create.partitions.max.per.request");
  if (requested > max)
    return err(protocol::error_code::policy_violation,
               fmt::format("strata.create.partitions.max.per.request is {}: this request asks for {} partitions",
                           max, requested));
  return {};
}

void topic_registry::load() {
  std::lock_guard lk(write_mu_);
  auto m = std::make_shared<topic_map>();
  const int64_t max = cfg_.get_int("max.broker.partitions");
  int64_t held = 0;
  for (const auto& md : store_.list_topics()) {
    // A metadata file written before the limits existed may name a count no broker can
    // hold: that topic is left out (and can be deleted) rather than bringing the broker down.
    if (md.partitions <= 0 || md.partitions > max - held) {
      spdlog::error("topic '{}' is not loaded: it has {} partitions and max.broker.partitions is {} ({} already "
                    "loaded); delete it or raise the limit",
                    md.name, md.partitions, max, held);
      unloaded_.insert(md.name);
      continue;
    }
    held += md.partitions;
    auto state = load_state(md);
    if (!cluster_mode_) cache_.upsert_topic(describe(*state));
    (*m)[md.name] = std::move(state);
  }
  publish(std::move(m));
}

std::shared_ptr<const topic_state> topic_registry::find(std::string_view name) const {
  auto snap = snapshot();
  auto it = snap->find(name);
  return it == snap->end() ? nullptr : it->second;
}

std::shared_ptr<const topic_state> topic_registry::find(const protocol::uuid& id) const {
  if (id.is_zero()) return nullptr;
  auto snap = snapshot();
  for (const auto& [n, t] : *snap)
    if (t->id == id) return t;
  return nullptr;
}

std::shared_ptr<partition> topic_registry::find_partition(std::string_view topic, int32_t index) const {
  auto t = find(topic);
  return t ? t->partition_at(index) : nullptr;
}

topic_error topic_registry::create(const std::string& name, int32_t partitions, int16_t replication_factor,
                                   const config::topic_overrides& overrides, bool validate_only, bool internal,
                                   const cluster::replica_assignment* manual) {
  if (auto bad = check_topic_name(name)) return err(protocol::error_code::invalid_topic_exception, *bad);
  if (!internal && is_internal_topic(name))
    return err(protocol::error_code::invalid_topic_exception, fmt::format("'{}' is an internal topic", name));
  if (partitions <= 0)
    return err(protocol::error_code::invalid_partitions,
               fmt::format("number of partitions must be at least 1, got {}", partitions));
  if (replication_factor <= 0)
    return err(protocol::error_code::invalid_replication_factor,
               fmt::format("replication factor must be at least 1, got {}", replication_factor));
  if (replication_factor > 1 && !cluster_mode_)
    return err(protocol::error_code::invalid_replication_factor,
               fmt::format("replication factor {} is larger than the number of brokers (1)", replication_factor));
  if (auto bad = config::validate_topic_overrides(overrides))
    return err(protocol::error_code::invalid_config, *bad);

  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  if (snap->count(name)) return err(protocol::error_code::topic_already_exists, fmt::format("topic '{}' already exists", name));
  if (auto e = check_broker_limit(partition_count(), partitions)) return e;
  cluster::topic_metadata md;
  md.name = name;
  md.id = protocol::uuid::random();
  md.partitions = partitions;
  md.replication_factor = replication_factor;
  md.configs = overrides;
  if (cluster_mode_) {
    if (manual)
      md.assignment = *manual;
    else if (auto e = place(partitions, replication_factor, md.assignment))
      return e;
    if (validate_only) return {};
    // The controller sees the new topic znode, elects leaders and sends LeaderAndIsr
    // to the replicas, which create the logs (ensure_replica).
    if (auto ec = store_.create_topic(md)) {
      if (ec == cluster::store_errc::topic_exists)
        return err(protocol::error_code::topic_already_exists, fmt::format("topic '{}' already exists", name));
      return err(protocol::error_code::unknown_server_error,
                 fmt::format("cannot record topic '{}' in ZooKeeper: {}", name, ec.message()));
    }
    auto next = std::make_shared<topic_map>(*snap);
    (*next)[name] = new_state(md);
    publish(std::move(next));
    return {};
  }
  if (validate_only) return {};
  // All or nothing: the metadata first (so a crash part way leaves a topic whose
  // missing logs are created at the next start), then the logs; if one cannot be
  // created, the ones that were and the metadata entry are removed.
  if (auto ec = store_.create_topic(md)) {
    if (ec == cluster::store_errc::topic_exists)
      return err(protocol::error_code::topic_already_exists, fmt::format("topic '{}' already exists", name));
    return err(protocol::error_code::kafka_storage_error, fmt::format("cannot record topic '{}': {}", name, ec.message()));
  }
  auto state = new_state(md);
  if (auto e = create_logs(*state, 0, partitions)) {
    if (auto ec = store_.delete_topic(name))
      spdlog::error("topic '{}': cannot remove its metadata after a failed creation: {}", name, ec.message());
    return e;
  }
  cache_.upsert_topic(describe(*state));
  auto next = std::make_shared<topic_map>(*snap);
  (*next)[name] = std::move(state);
  publish(std::move(next));
  return {};
}

topic_error topic_registry::remove(const std::string& name) {
  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  auto it = snap->find(name);
  if (cluster_mode_) {
    // The controller removes the data from every replica (StopReplica) and the topic's
    // znodes; Kafka answers once the request is recorded.
    if (it == snap->end() && !refresh_locked(name))
      return err(protocol::error_code::unknown_topic_or_partition, fmt::format("topic '{}' does not exist", name));
    if (auto ec = store_.delete_topic(name))
      return err(protocol::error_code::unknown_server_error, fmt::format("cannot delete '{}': {}", name, ec.message()));
    auto next = std::make_shared<topic_map>(*snapshot());
    next->erase(name);
    publish(std::move(next));
    return {};
  }
  if (it == snap->end()) {
    // A topic left out at startup (over max.broker.partitions) can still be deleted:
    // its metadata and whatever logs it has.
    if (!unloaded_.count(name))
      return err(protocol::error_code::unknown_topic_or_partition, fmt::format("topic '{}' does not exist", name));
    if (auto ec = store_.delete_topic(name)) return err(protocol::error_code::kafka_storage_error, ec.message());
    unloaded_.erase(name);
    for (int32_t p : logs_.partitions_of(name)) {
      if (auto ec = logs_.delete_partition(name, p)) spdlog::warn("deleting log {}-{}: {}", name, p, ec.message());
    }
    return {};
  }
  if (auto ec = store_.delete_topic(name)) return err(protocol::error_code::kafka_storage_error, ec.message());
  auto victim = it->second;
  auto next = std::make_shared<topic_map>(*snap);
  next->erase(name);
  publish(std::move(next));
  cache_.remove_topic(name);
  for (const auto& p : victim->partitions) {
    if (!p) continue;
    replicas_.remove(name, p->index());
    if (auto ec = logs_.delete_partition(name, p->index()))
      spdlog::warn("deleting log {}-{}: {}", name, p->index(), ec.message());
  }
  return {};
}

topic_error topic_registry::add_partitions(const std::string& name, int32_t new_total, bool validate_only) {
  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  auto it = snap->find(name);
  if (it == snap->end())
    return err(protocol::error_code::unknown_topic_or_partition, fmt::format("topic '{}' does not exist", name));
  const auto& cur = *it->second;
  int32_t have = static_cast<int32_t>(cur.partitions.size());
  if (new_total <= have)
    return err(protocol::error_code::invalid_partitions,
               fmt::format("topic '{}' has {} partitions; the new count {} must be larger", name, have, new_total));
  if (auto e = check_broker_limit(partition_count(), int64_t(new_total) - have)) return e;
  if (cluster_mode_) {
    std::vector<cluster::broker_metadata> brokers;
    for (const auto& [id, b] : cache_.snapshot()->brokers) brokers.push_back({id, b.rack});
    auto placed = cluster::assign_replicas_for_new_partitions(cur.assignment, brokers, new_total);
    if (!placed.ok())
      return err(placed.error == cluster::placement_errc::invalid_replication_factor
                     ? protocol::error_code::invalid_replication_factor
                     : protocol::error_code::invalid_partitions,
                 placed.message);
    if (validate_only) return {};
    if (auto ec = store_.set_partition_count(name, new_total, placed.assignment))
      return err(protocol::error_code::unknown_server_error,
                 fmt::format("cannot add partitions to '{}': {}", name, ec.message()));
    auto state = std::make_shared<topic_state>(cur);
    state->partitions.resize(static_cast<size_t>(new_total));
    for (auto& [p, replicas] : placed.assignment) state->assignment[p] = replicas;
    auto next = std::make_shared<topic_map>(*snap);
    (*next)[name] = std::move(state);
    publish(std::move(next));
    return {};
  }
  if (validate_only) return {};
  // All or nothing: the new logs first, then the count in the metadata; a failure of
  // either removes the new logs and leaves the topic as it was.
  auto state = std::make_shared<topic_state>(cur);
  if (auto e = create_logs(*state, have, new_total)) return e;
  if (auto ec = store_.set_partition_count(name, new_total)) {
    state->partitions.resize(static_cast<size_t>(have));
    drop_logs(name, have, new_total);
    return err(protocol::error_code::kafka_storage_error,
               fmt::format("cannot record the partition count of '{}': {}", name, ec.message()));
  }
  cache_.upsert_topic(describe(*state));
  auto next = std::make_shared<topic_map>(*snap);
  (*next)[name] = std::move(state);
  publish(std::move(next));
  return {};
}

topic_error topic_registry::set_overrides(const std::string& name, const config::topic_overrides& overrides,
                                          bool validate_only) {
  if (auto bad = config::validate_topic_overrides(overrides))
    return err(protocol::error_code::invalid_config, *bad);
  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  auto it = snap->find(name);
  if (it == snap->end())
    return err(protocol::error_code::unknown_topic_or_partition, fmt::format("topic '{}' does not exist", name));
  if (validate_only) return {};
  if (auto ec = store_.set_topic_configs(name, overrides))
    return err(protocol::error_code::kafka_storage_error, ec.message());
  auto state = std::make_shared<topic_state>(*it->second);
  state->overrides = overrides;
  state->cfg = config::resolve_topic_config(cfg_, overrides);
  logs_.update_config(name, to_log_config(state->cfg));
  auto next = std::make_shared<topic_map>(*snap);
  (*next)[name] = std::move(state);
  publish(std::move(next));
  return {};
}

bool topic_registry::reload_overrides(const std::string& name) {
  auto md = store_.get_topic(name);
  if (!md) return false;  // deleted meanwhile
  if (auto bad = config::validate_topic_overrides(md->configs)) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "topic '{}': ignoring its configs in the cluster's store: {}", name, *bad);
    return false;
  }
  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  auto it = snap->find(name);
  if (it == snap->end() || it->second->overrides == md->configs) return false;
  auto state = std::make_shared<topic_state>(*it->second);
  state->overrides = md->configs;
  state->cfg = config::resolve_topic_config(cfg_, md->configs);
  logs_.update_config(name, to_log_config(state->cfg));
  auto next = std::make_shared<topic_map>(*snap);
  (*next)[name] = std::move(state);
  publish(std::move(next));
  return true;
}

topic_error topic_registry::place(int32_t partitions, int16_t replication_factor,
                                  cluster::replica_assignment& out) const {
  std::vector<cluster::broker_metadata> live;
  for (const auto& [id, b] : cache_.snapshot()->brokers) live.push_back({id, b.rack});
  auto usable = cluster::brokers_for_placement(std::move(live), cluster::rack_aware_mode::enforced);
  if (!usable.ok()) return err(protocol::error_code::invalid_replication_factor, usable.message);
  static thread_local std::mt19937 rng{std::random_device{}()};
  auto placed = cluster::assign_replicas_to_brokers(usable.brokers, partitions, replication_factor,
                                                    cluster::random_placement_start(usable.brokers.size(), rng));
  if (!placed.ok()) {
    auto code = placed.error == cluster::placement_errc::invalid_partitions
                    ? protocol::error_code::invalid_partitions
                    : protocol::error_code::invalid_replication_factor;
    return err(code, placed.message);
  }
  out = std::move(placed.assignment);
  return {};
}

std::shared_ptr<topic_state> topic_registry::refresh_locked(const std::string& name) {
  auto md = store_.get_topic(name);
  if (!md) return nullptr;
  auto snap = snapshot();
  auto state = new_state(*md);
  // Keep the replicas already held here.
  if (auto it = snap->find(name); it != snap->end() && it->second->id == state->id) {
    for (size_t i = 0; i < it->second->partitions.size() && i < state->partitions.size(); ++i)
      state->partitions[i] = it->second->partitions[i];
  }
  auto next = std::make_shared<topic_map>(*snap);
  (*next)[name] = state;
  publish(std::move(next));
  return state;
}

std::shared_ptr<const topic_state> topic_registry::refresh(const std::string& name) {
  std::lock_guard lk(write_mu_);
  return refresh_locked(name);
}

void topic_registry::partitions_went_offline(const std::vector<std::pair<std::string, int32_t>>& parts) {
  if (cluster_mode_) return;
  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  std::set<std::string> done;
  for (const auto& [topic, index] : parts) {
    if (!done.insert(topic).second) continue;
    if (auto it = snap->find(topic); it != snap->end()) cache_.upsert_topic(describe(*it->second));
  }
}

std::shared_ptr<partition> topic_registry::ensure_replica(const std::string& topic, int32_t index, topic_error& e,
                                                          bool is_new) {
  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  std::shared_ptr<const topic_state> t;
  if (auto it = snap->find(topic); it != snap->end()) t = it->second;
  if (!t || !t->has_index(index)) t = refresh_locked(topic);
  if (!t || !t->has_index(index)) {
    e = err(protocol::error_code::unknown_topic_or_partition,
            fmt::format("partition {}-{} is not in ZooKeeper", topic, index));
    return nullptr;
  }
  if (auto p = t->partition_at(index)) return p;
  auto lg = logs_.get_or_create(topic, index, to_log_config(t->cfg), is_new);
  if (!lg) {
    e = err(protocol::error_code::kafka_storage_error,
            fmt::format("cannot create the log of {}-{}: {}", topic, index, lg.error().message()));
    return nullptr;
  }
  // Added without a role: the caller's transition (become leader or follower) starts
  // the fetcher or the leadership.
  auto p = replicas_.add(topic, index, lg.value(), cluster::partition_state{});
  auto next_state = std::make_shared<topic_state>(*t);
  next_state->partitions[static_cast<size_t>(index)] = p;
  auto next = std::make_shared<topic_map>(*snapshot());
  (*next)[topic] = std::move(next_state);
  publish(std::move(next));
  return p;
}

void topic_registry::drop_replica(const std::string& topic, int32_t index, bool delete_log) {
  std::lock_guard lk(write_mu_);
  replicas_.remove(topic, index);
  auto snap = snapshot();
  if (auto it = snap->find(topic); it != snap->end() && it->second->partition_at(index)) {
    auto state = std::make_shared<topic_state>(*it->second);
    state->partitions[static_cast<size_t>(index)] = nullptr;
    auto next = std::make_shared<topic_map>(*snap);
    (*next)[topic] = std::move(state);
    publish(std::move(next));
  }
  if (delete_log) {
    if (auto ec = logs_.delete_partition(topic, index))
      spdlog::warn("deleting the log of {}-{}: {}", topic, index, ec.message());
  }
}

void topic_registry::refresh_configs() {
  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  auto next = std::make_shared<topic_map>();
  for (const auto& [name, t] : *snap) {
    auto state = std::make_shared<topic_state>(*t);
    state->cfg = config::resolve_topic_config(cfg_, state->overrides);
    logs_.update_config(name, to_log_config(state->cfg));
    (*next)[name] = std::move(state);
  }
  publish(std::move(next));
}

}  // namespace strata::broker
