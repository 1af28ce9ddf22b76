#include "cluster/metadata_cache.h"

namespace strata::cluster {

const broker_endpoint* broker_info::endpoint(const std::string& listener) const {
  for (const auto& e : endpoints)
    if (e.listener == listener) return &e;
  return nullptr;
}

const broker_info* cluster_view::broker(int32_t id) const {
  auto it = brokers.find(id);
  return it == brokers.end() ? nullptr : &it->second;
}

std::shared_ptr<const topic_info> cluster_view::topic(std::string_view name) const {
  auto it = topics.find(name);
  return it == topics.end() ? nullptr : it->second;
}

const partition_info* cluster_view::partition(std::string_view name, int32_t index) const {
  auto t = topic(name);
  if (!t || index < 0 || index >= static_cast<int32_t>(t->partitions.size())) return nullptr;
  return &t->partitions[static_cast<size_t>(index)];
}

template <class Fn>
void metadata_cache::update(Fn&& fn) {
  std::lock_guard lk(write_mu_);
  auto next = std::make_shared<cluster_view>(*snapshot());
  fn(*next);
  view_.store(std::move(next), std::memory_order_release);
  published_.notify_all();
}

bool metadata_cache::wait_until(const std::function<bool(const cluster_view&)>& ready,
                                std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lk(const_cast<std::mutex&>(write_mu_));
  return published_.wait_until(lk, deadline, [&] { return ready(*snapshot()); });
}

void metadata_cache::set_brokers(std::map<int32_t, broker_info> brokers, int32_t controller_id) {
  update([&](cluster_view& v) {
    v.brokers = std::move(brokers);
    v.controller_id = controller_id;
  });
}

void metadata_cache::upsert_topic(topic_info t) {
  auto shared = std::make_shared<const topic_info>(std::move(t));
  update([&](cluster_view& v) { v.topics[shared->name] = shared; });
}

void metadata_cache::update_partitions(const std::string& name, const protocol::uuid& id, bool internal,
                                       std::map<int32_t, partition_info> parts) {
  update([&](cluster_view& v) {
    topic_info t;
    if (auto it = v.topics.find(name); it != v.topics.end()) t = *it->second;
    t.name = name;
    if (!id.is_zero()) t.id = id;
    t.internal = internal;
    if (!parts.empty() && static_cast<int32_t>(t.partitions.size()) <= parts.rbegin()->first)
      t.partitions.resize(static_cast<size_t>(parts.rbegin()->first) + 1);
    for (auto& [i, p] : parts)
      if (i >= 0) t.partitions[static_cast<size_t>(i)] = std::move(p);
    v.topics[name] = std::make_shared<const topic_info>(std::move(t));
  });
}

void metadata_cache::remove_topic(const std::string& name) {
  update([&](cluster_view& v) { v.topics.erase(name); });
}

}  // namespace strata::cluster
