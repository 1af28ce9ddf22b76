#include "zk/zk_metadata_store.h"

#include <spdlog/spdlog.h>

#include "zk/errc.h"

namespace strata::zk {
namespace {

using cluster::store_errc;

std::error_code store_error(const error& e, const char* what) {
  spdlog::warn("zookeeper: {}: {}", what, e.message());
  if (e.code == kafka_errc::topic_exists || e.code == errc::node_exists) return store_errc::topic_exists;
  if (e.code == kafka_errc::unknown_topic || e.code == errc::no_node) return store_errc::unknown_topic;
  return store_errc::io_error;
}

cluster::topic_metadata to_metadata(const std::string& name, const topic_assignment& a, config_map configs) {
  cluster::topic_metadata t;
  t.name = name;
  if (auto id = protocol::uuid::from_base64(a.topic_id)) t.id = *id;
  t.partitions = static_cast<int32_t>(a.partitions.size());
  t.replication_factor =
      a.partitions.empty() ? int16_t{1} : static_cast<int16_t>(a.partitions.begin()->second.size());
  t.configs = std::move(configs);
  t.assignment = a.partitions;
  return t;
}

}  // namespace

std::vector<cluster::topic_metadata> zk_metadata_store::list_topics() const {
  std::vector<cluster::topic_metadata> out;
  auto names = zk_.list_topics();
  if (!names) {
    spdlog::warn("zookeeper: listing topics: {}", names.error().message());
    return out;
  }
  for (const auto& name : names.value())
    if (auto t = get_topic(name)) out.push_back(std::move(*t));
  return out;
}

std::optional<cluster::topic_metadata> zk_metadata_store::get_topic(const std::string& name) const {
  auto a = zk_.get_topic(name);
  if (!a || !a.value()) return std::nullopt;
  auto c = zk_.get_entity_config("topics", name);
  return to_metadata(name, *a.value(), c ? c.value() : config_map{});
}

std::error_code zk_metadata_store::create_topic(const cluster::topic_metadata& t) {
  topic_assignment a;
  a.topic_id = t.id.to_base64();
  a.partitions = t.assignment;
  config_map configs(t.configs.begin(), t.configs.end());
  if (auto r = zk_.create_topic(t.name, a, configs); !r) return store_error(r.error(), "creating a topic");
  return {};
}

std::error_code zk_metadata_store::delete_topic(const std::string& name) {
  if (auto r = zk_.request_topic_deletion(name); !r) return store_error(r.error(), "requesting a topic deletion");
  return {};
}

std::error_code zk_metadata_store::set_partition_count(const std::string& name, int32_t,
                                                       const cluster::replica_assignment& added) {
  if (auto r = zk_.add_partitions(name, added, -1); !r) return store_error(r.error(), "adding partitions");
  return {};
}

std::error_code zk_metadata_store::set_topic_configs(const std::string& name,
                                                     const std::map<std::string, std::string>& c) {
  if (auto r = zk_.set_entity_config("topics", name, config_map(c.begin(), c.end())); !r)
    return store_error(r.error(), "writing topic configs");
  return {};
}

std::map<std::string, std::string> zk_metadata_store::broker_configs() const {
  auto c = zk_.get_entity_config("brokers", default_broker_entity);
  if (!c) return {};
  return {c.value().begin(), c.value().end()};
}

std::error_code zk_metadata_store::set_broker_configs(const std::map<std::string, std::string>& c) {
  if (auto r = zk_.set_entity_config("brokers", default_broker_entity, config_map(c.begin(), c.end())); !r)
    return store_error(r.error(), "writing broker configs");
  return {};
}

}  // namespace strata::zk
