#pragma once
// cluster::metadata_store over ZooKeeper, in Kafka's znode layout (ARCHITECTURE.md
// §6, DESIGN-NOTES §13): topics are /brokers/topics/<t> (assignment and topic id)
// with /config/topics/<t> (overrides); broker defaults are /config/brokers/<default>;
// the cluster id is /cluster/id. What the topic registry writes here the controller
// acts on: a new topic znode gets its leaders elected, a deletion request
// (/admin/delete_topics/<t>) gets the data removed from every replica.
//
// Deviation: delete_topic returns once the request is recorded, as Kafka's
// DeleteTopics in ZooKeeper mode (the controller finishes it).
//
// Threading: thread-safe (kafka_zk calls are). Calls block on ZooKeeper round trips:
// not on a reactor.
#include <string>

#include "cluster/metadata_store.h"
#include "zk/kafka_zk.h"

namespace strata::zk {

class zk_metadata_store final : public cluster::metadata_store {
 public:
  zk_metadata_store(kafka_zk& zk, std::string cluster_id) : zk_(zk), cluster_id_(std::move(cluster_id)) {}

  std::string cluster_id() const override { return cluster_id_; }
  std::vector<cluster::topic_metadata> list_topics() const override;
  std::optional<cluster::topic_metadata> get_topic(const std::string& name) const override;
  std::error_code create_topic(const cluster::topic_metadata& t) override;
  std::error_code delete_topic(const std::string& name) override;
  std::error_code set_partition_count(const std::string& name, int32_t partitions,
                                      const cluster::replica_assignment& added = {}) override;
  std::error_code set_topic_configs(const std::string& name, const std::map<std::string, std::string>& c) override;
  std::map<std::string, std::string> broker_configs() const override;
  std::error_code set_broker_configs(const std::map<std::string, std::string>& c) override;

 private:
  kafka_zk& zk_;
  const std::string cluster_id_;
};

}  // namespace strata::zk
