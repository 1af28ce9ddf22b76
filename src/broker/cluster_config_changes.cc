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
  // Other entities (brokers, users, clients) have no dynamic config here yet.
}

}  // namespace strata::broker
