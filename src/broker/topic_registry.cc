#include "broker/topic_registry.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

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

// Every append to the log (produce, group commits) wakes the fetches parked
// on the partition. The listener holds the partition weakly: the partition
// owns the log.
std::shared_ptr<partition> make_partition(const std::string& topic, int32_t index, std::shared_ptr<storage::log> log) {
  // Becoming leader records (epoch, log end offset) in the leader-epoch cache
  // at once, as Kafka's Partition.makeLeader does. Doing it here, when the
  // partition is created or loaded, keeps that checkpoint's fsync off the
  // first produce.
  if (!log->latest_epoch()) {
    if (auto ec = log->assign_leader_epoch(0)) spdlog::warn("{}-{}: cannot record leader epoch: {}", topic, index, ec.message());
  }
  auto p = std::make_shared<partition>(topic, index, log);
  std::weak_ptr<partition> weak = p;
  log->set_append_listener([weak] {
    if (auto pp = weak.lock()) pp->wake_all();
  });
  return p;
}

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
                               storage::log_manager& logs)
    : cfg_(cfg), store_(store), logs_(logs), topics_(std::make_shared<const topic_map>()) {}

std::shared_ptr<topic_state> topic_registry::build_state(const cluster::topic_metadata& md) const {
  auto t = std::make_shared<topic_state>();
  t->name = md.name;
  t->id = md.id;
  t->replication_factor = md.replication_factor;
  t->internal = is_internal_topic(md.name);
  t->overrides = md.configs;
  t->cfg = config::resolve_topic_config(cfg_, md.configs);
  auto lc = to_log_config(t->cfg);
  for (int32_t p = 0; p < md.partitions; ++p) {
    auto log = logs_.get_or_create(md.name, p, lc);
    if (!log) {
      throw std::runtime_error(
          fmt::format("cannot open log for {}-{}: {}", md.name, p, log.error().message()));
    }
    t->partitions.push_back(make_partition(md.name, p, log.value()));
  }
  return t;
}

void topic_registry::load() {
  std::lock_guard lk(write_mu_);
  auto m = std::make_shared<topic_map>();
  for (const auto& md : store_.list_topics()) (*m)[md.name] = build_state(md);
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
                                   const config::topic_overrides& overrides, bool validate_only, bool internal) {
  if (auto bad = check_topic_name(name)) return err(protocol::error_code::invalid_topic_exception, *bad);
  if (!internal && is_internal_topic(name))
    return err(protocol::error_code::invalid_topic_exception, fmt::format("'{}' is an internal topic", name));
  if (partitions <= 0)
    return err(protocol::error_code::invalid_partitions,
               fmt::format("number of partitions must be at least 1, got {}", partitions));
  if (replication_factor <= 0)
    return err(protocol::error_code::invalid_replication_factor,
               fmt::format("replication factor must be at least 1, got {}", replication_factor));
  if (replication_factor > 1)
    return err(protocol::error_code::invalid_replication_factor,
               fmt::format("replication factor {} is larger than the number of brokers (1)", replication_factor));
  if (auto bad = config::validate_topic_overrides(overrides))
    return err(protocol::error_code::invalid_config, *bad);

  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  if (snap->count(name)) return err(protocol::error_code::topic_already_exists, fmt::format("topic '{}' already exists", name));
  if (validate_only) return {};
  cluster::topic_metadata md;
  md.name = name;
  md.id = protocol::uuid::random();
  md.partitions = partitions;
  md.replication_factor = replication_factor;
  md.configs = overrides;
  if (auto ec = store_.create_topic(md)) {
    if (ec == cluster::store_errc::topic_exists)
      return err(protocol::error_code::topic_already_exists, fmt::format("topic '{}' already exists", name));
    return err(protocol::error_code::kafka_storage_error, ec.message());
  }
  std::shared_ptr<topic_state> state;
  try {
    state = build_state(md);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return err(protocol::error_code::kafka_storage_error, e.what());
  }
  auto next = std::make_shared<topic_map>(*snap);
  (*next)[name] = std::move(state);
  publish(std::move(next));
  return {};
}

topic_error topic_registry::remove(const std::string& name) {
  std::lock_guard lk(write_mu_);
  auto snap = snapshot();
  auto it = snap->find(name);
  if (it == snap->end())
    return err(protocol::error_code::unknown_topic_or_partition, fmt::format("topic '{}' does not exist", name));
  if (auto ec = store_.delete_topic(name)) return err(protocol::error_code::kafka_storage_error, ec.message());
  auto victim = it->second;
  auto next = std::make_shared<topic_map>(*snap);
  next->erase(name);
  publish(std::move(next));
  for (const auto& p : victim->partitions) {
    p->wake_all();
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
  if (validate_only) return {};
  if (auto ec = store_.set_partition_count(name, new_total))
    return err(protocol::error_code::kafka_storage_error, ec.message());
  auto state = std::make_shared<topic_state>(cur);
  auto lc = to_log_config(state->cfg);
  for (int32_t p = have; p < new_total; ++p) {
    auto log = logs_.get_or_create(name, p, lc);
    if (!log) return err(protocol::error_code::kafka_storage_error, log.error().message());
    state->partitions.push_back(make_partition(name, p, log.value()));
  }
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
