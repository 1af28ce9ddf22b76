#pragma once
// The single-node metadata store: one JSON file, `<dir>/strata-metadata.json`,
// rewritten whole on every change (write .tmp, fsync, rename, fsync the
// directory), so a crash leaves either the old or the new file. The file
// carries a version that only grows.
//
//   { "version": 1, "store_version": N, "cluster_id": "<base64 uuid>",
//     "topics": { "<name>": { "id": "<base64>", "partitions": P,
//                             "replication_factor": R, "configs": {k: v} } },
//     "broker_configs": { k: v } }
#include <mutex>
#include <string>

#include "cluster/metadata_store.h"

namespace strata::cluster {

class local_metadata_store final : public metadata_store {
 public:
  // Loads the file if present, else creates a new cluster id and writes it.
  // Throws std::runtime_error naming the file when it is unreadable or corrupt.
  explicit local_metadata_store(std::string dir);

  std::string cluster_id() const override;
  std::vector<topic_metadata> list_topics() const override;
  std::optional<topic_metadata> get_topic(const std::string& name) const override;
  std::error_code create_topic(const topic_metadata& t) override;
  std::error_code delete_topic(const std::string& name) override;
  std::error_code set_partition_count(const std::string& name, int32_t partitions,
                                      const replica_assignment& added = {}) override;
  std::error_code set_topic_configs(const std::string& name, const std::map<std::string, std::string>& c) override;
  std::map<std::string, std::string> broker_configs() const override;
  std::error_code set_broker_configs(const std::map<std::string, std::string>& c) override;

 private:
  std::error_code persist_locked();

  std::string dir_;
  std::string path_;
  mutable std::mutex mu_;
  std::string cluster_id_;
  uint64_t store_version_ = 0;
  std::map<std::string, topic_metadata> topics_;
  std::map<std::string, std::string> broker_configs_;
};

}  // namespace strata::cluster
