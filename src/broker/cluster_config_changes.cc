// Config changes made through any broker of the cluster (Kafka's
// ZkConfigChangeListener and ConfigChangeNotificationHandler, ZooKeeper mode):
// IncrementalAlterConfigs / AlterConfigs on one broker writes /config/<type>/<name>
// and a sequential /config/changes/config_change_<seq>; every broker watches the
// notifications and reloads the entity each new one names.
#include <spdlog/spdlog.h>

#include <set>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/cluster_member.h"

namespace strata::broker {

void cluster_member::watch_config_changes() {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
  }
  // The watch is one-shot: it queues the next listing, which sets it again.
  auto names = kzk_->list_config_changes([this](zk::watch_event, const std::string&) {
    config_worker_.run([this] { watch_config_changes(); });
  });
  if (!names) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "listing config change notifications in ZooKeeper: {}; retrying",
                       names.error().message());
    config_watch_armed_ = false;  // the tasks thread queues another try
    return;
  }
  config_watch_armed_ = true;
  // Sequence numbers are zero-padded: name order is creation order. Several
  // notifications for one entity need one reload.
  std::set<std::pair<std::string, std::string>> entities;
  for (const auto& n : names.value()) {
    if (!last_config_change_.empty() && n <= last_config_change_) continue;
    auto change = kzk_->get_config_change(n);
    if (!change) continue;  // purged meanwhile
    entities.insert({change.value().entity_type, change.value().entity_name});
  }
  if (!names.value().empty()) last_config_change_ = names.value().back();
  for (const auto& [type, name] : entities) apply_config_change(type, name);
}

void cluster_member::apply_config_change(const std::string& entity_type, const std::string& entity_name) {
  if (entity_type == "topics") {
    if (b_->topics().reload_overrides(entity_name))
      spdlog::info("topic '{}': configs changed in the cluster, now in force here", entity_name);
  }
  if (entity_type == "brokers" &&
      (entity_name == zk::default_broker_entity || entity_name == std::to_string(cfg_.broker_id())))
    reload_broker_configs();
  // Other entities (users, clients) have no dynamic config here yet.
}

bool cluster_member::is_dynamic_broker_config(const std::string& name) {
  return name == "leader.replication.throttled.rate" || name == "follower.replication.throttled.rate";
}

std::map<std::string, cluster_member::dynamic_value> cluster_member::dynamic_broker_configs() const {
  std::lock_guard lk(dynamic_mu_);
  return dynamic_;
}

zk::result<zk::config_map> cluster_member::broker_entity_configs(const std::string& entity) {
  return kzk_->get_entity_config("brokers", entity);
}

zk::result<void> cluster_member::set_broker_entity_configs(const std::string& entity, const zk::config_map& c) {
  return kzk_->set_entity_config("brokers", entity, c);
}

void cluster_member::reload_broker_configs() {
  auto defaults = kzk_->get_entity_config("brokers", zk::default_broker_entity);
  auto own = kzk_->get_entity_config("brokers", std::to_string(cfg_.broker_id()));
  if (!defaults || !own) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "reading dynamic broker configs from ZooKeeper: {}",
                       (!defaults ? defaults.error() : own.error()).message());
    return;
  }
  std::map<std::string, dynamic_value> next;
  for (const auto& [k, v] : defaults.value())
    if (is_dynamic_broker_config(k)) next[k] = {v, false};
  for (const auto& [k, v] : own.value())
    if (is_dynamic_broker_config(k)) next[k] = {v, true};
  // A value that does not parse (written by another tool) counts as absent.
  auto limit = [&](const std::string& key) {
    if (auto it = next.find(key); it != next.end()) {
      try {
        size_t used = 0;
        const int64_t v = std::stoll(it->second.value, &used);
        if (v >= 0 && used == it->second.value.size()) return static_cast<int64_t>(v);
      } catch (const std::exception&) {
      }
      STRATA_LOG_LIMITED(spdlog::level::warn, "ignoring {}={} from ZooKeeper: not a byte rate", key, it->second.value);
      next.erase(it);
    }
    return static_cast<int64_t>(cfg_.get_int(key));
  };
  const int64_t leader = limit("leader.replication.throttled.rate");
  const int64_t follower = limit("follower.replication.throttled.rate");
  auto& rm = b_->replicas();
  if (rm.leader_quota().limit() != leader || rm.follower_quota().limit() != follower) {
    auto show = [](int64_t v) {
      return v == cluster::replication_quota::kUnlimited ? std::string("unlimited") : std::to_string(v) + " B/s";
    };
    spdlog::info("replication throttle: leader {}, follower {}", show(leader), show(follower));
  }
  rm.leader_quota().set_limit(leader);
  rm.follower_quota().set_limit(follower);
  std::lock_guard lk(dynamic_mu_);
  dynamic_ = std::move(next);
}

}  // namespace strata::broker
