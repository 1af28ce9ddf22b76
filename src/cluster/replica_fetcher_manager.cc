#include "cluster/replica_fetcher_manager.h"

#include <spdlog/spdlog.h>

#include <functional>

namespace strata::cluster {

replica_fetcher_manager::replica_fetcher_manager(replica_manager& rm, fetcher_config cfg)
    : rm_(rm), cfg_(std::move(cfg)) {}

replica_fetcher_manager::~replica_fetcher_manager() { shutdown(); }

int replica_fetcher_manager::fetcher_id_for(const std::string& topic, int32_t partition) const {
  // Kafka's getFetcherId: abs(31 * topic.hashCode + partition) % num.replica.fetchers.
  const int n = std::max(1, cfg_.num_fetchers);
  const uint64_t h = std::hash<std::string>{}(topic)*31 + static_cast<uint64_t>(static_cast<uint32_t>(partition));
  return static_cast<int>(h % static_cast<uint64_t>(n));
}

void replica_fetcher_manager::add_partitions(const source_broker& source,
                                             const std::vector<std::shared_ptr<partition>>& parts) {
  std::vector<follower_partition> fps;
  fps.reserve(parts.size());
  for (const auto& p : parts) fps.push_back({p, {}});
  add_partitions(source, fps);
}

void replica_fetcher_manager::add_partitions(const source_broker& source,
                                             const std::vector<follower_partition>& parts) {
  std::lock_guard lk(mu_);
  if (shut_down_) return;
  // Off any fetcher they are on now (another leader, or a fresh start on this one).
  std::vector<topic_partition> tps;
  tps.reserve(parts.size());
  for (const auto& fp : parts) tps.emplace_back(fp.p->topic(), fp.p->index());
  remove_locked(tps);

  std::map<int, std::vector<follower_partition>> by_fetcher;
  for (const auto& fp : parts) by_fetcher[fetcher_id_for(fp.p->topic(), fp.p->index())].push_back(fp);
  for (auto& [id, group] : by_fetcher) {
    auto& f = fetchers_[{source.id, id}];
    if (f && !(f->source() == source)) {
      // The broker moved (new host or port): a new fetcher takes over what the old had.
      spdlog::info("replica fetcher {}-{}: broker {} is now at {}:{}", source.id, id, source.id, source.host,
                   source.port);
      auto moved = f->remove_all();
      f->shutdown();
      f.reset();
      group.insert(group.end(), moved.begin(), moved.end());
    }
    if (!f) f = std::make_unique<replica_fetcher>(rm_, cfg_, source, id);
    f->add_partitions(group);
  }
  shutdown_idle_locked();
}

void replica_fetcher_manager::remove_partitions(const std::vector<topic_partition>& tps) {
  std::lock_guard lk(mu_);
  remove_locked(tps);
  shutdown_idle_locked();
}

void replica_fetcher_manager::remove_locked(const std::vector<topic_partition>& tps) {
  for (auto& [key, f] : fetchers_) f->remove_partitions(tps);
}

void replica_fetcher_manager::shutdown_idle_locked() {
  for (auto it = fetchers_.begin(); it != fetchers_.end();) {
    if (it->second->partition_count() == 0) {
      it->second->shutdown();
      it = fetchers_.erase(it);
    } else {
      ++it;
    }
  }
}

void replica_fetcher_manager::shutdown() {
  std::map<fetcher_key, std::unique_ptr<replica_fetcher>> fetchers;
  {
    std::lock_guard lk(mu_);
    shut_down_ = true;
    fetchers.swap(fetchers_);
  }
  // Destroying a fetcher shuts it down; each one's exchange is interrupted.
  fetchers.clear();
}

std::vector<partition_fetch_state> replica_fetcher_manager::fetch_states() const {
  std::lock_guard lk(mu_);
  std::vector<partition_fetch_state> out;
  for (const auto& [key, f] : fetchers_) {
    auto s = f->fetch_states();
    out.insert(out.end(), std::make_move_iterator(s.begin()), std::make_move_iterator(s.end()));
  }
  return out;
}

size_t replica_fetcher_manager::fetcher_count() const {
  std::lock_guard lk(mu_);
  return fetchers_.size();
}

}  // namespace strata::cluster
