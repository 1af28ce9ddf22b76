#pragma once
// Hands out producer ids for InitProducerId. Ids are never reused, even
// across crashes: ids are claimed in blocks of 1000 and the end of the
// current block is persisted (`<dir>/producer-id-block`, written durably)
// before any id of the block is handed out — the single-node version of
// Kafka's /latest_producer_id_block. In a cluster the blocks are claimed in
// ZooKeeper instead (set_block_source), so no two brokers hand out one id.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace strata::broker {

class producer_ids {
 public:
  explicit producer_ids(std::string dir);
  // -1 when the block file cannot be written (or ZooKeeper cannot be reached).
  int64_t next();
  // Cluster mode: claims a block [first, last] for this broker, nullopt on failure.
  void set_block_source(std::function<std::optional<std::pair<int64_t, int64_t>>()> fn) {
    std::lock_guard lk(mu_);
    source_ = std::move(fn);
  }

 private:
  std::string path_;
  std::string dir_;
  std::mutex mu_;
  int64_t next_ = 0;
  int64_t block_end_ = 0;
  std::function<std::optional<std::pair<int64_t, int64_t>>()> source_;
};

}  // namespace strata::broker
