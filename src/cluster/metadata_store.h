#pragma once
// Where the cluster's metadata lives: topics (id, partition count,
// replication factor, config overrides), broker-level dynamic configs and the
// cluster id. One interface, two implementations (ARCHITECTURE.md §6): the
// local store below (single node, persisted in the data directory) and, for
// clusters, ZooKeeper with Kafka's znode layout.
//
// Concurrency: implementations are thread-safe. Mutations are durable when
// they return success.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "protocol/wire.h"

namespace strata::cluster {

// Partition -> its replicas in assignment order (the first is the preferred leader).
using replica_assignment = std::map<int32_t, std::vector<int32_t>>;

struct topic_metadata {
  std::string name;
  protocol::uuid id;
  int32_t partitions = 1;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> configs;  // overrides only
  // Cluster mode: where each partition's replicas are (empty on a single node, where
  // every partition is here).
  replica_assignment assignment;
};

enum class store_errc {
  ok = 0,
  topic_exists,
  unknown_topic,
  io_error,
  invalid_request,
};
const std::error_category& store_category();
inline std::error_code make_error_code(store_errc e) { return {static_cast<int>(e), store_category()}; }

class metadata_store {
 public:
  virtual ~metadata_store() = default;

  virtual std::string cluster_id() const = 0;
  virtual std::vector<topic_metadata> list_topics() const = 0;
  virtual std::optional<topic_metadata> get_topic(const std::string& name) const = 0;
  virtual std::error_code create_topic(const topic_metadata& t) = 0;
  virtual std::error_code delete_topic(const std::string& name) = 0;
  // Only grows the partition count; `added` places the new partitions (cluster mode).
  virtual std::error_code set_partition_count(const std::string& name, int32_t partitions,
                                              const replica_assignment& added = {}) = 0;
  virtual std::error_code set_topic_configs(const std::string& name, const std::map<std::string, std::string>& c) = 0;
  virtual std::map<std::string, std::string> broker_configs() const = 0;
  virtual std::error_code set_broker_configs(const std::map<std::string, std::string>& c) = 0;
};

}  // namespace strata::cluster

template <>
struct std::is_error_code_enum<strata::cluster::store_errc> : std::true_type {};
