#pragma once
// Hands out producer ids for InitProducerId. Ids are never reused, even
// across crashes: ids are claimed in blocks of 1000 and the end of the
// current block is persisted (`<dir>/producer-id-block`, written durably)
// before any id of the block is handed out — the single-node version of
// Kafka's /latest_producer_id_block.
#include <cstdint>
#include <mutex>
#include <string>

namespace strata::broker {

class producer_ids {
 public:
  explicit producer_ids(std::string dir);
  // -1 when the block file cannot be written.
  int64_t next();

 private:
  std::string path_;
  std::string dir_;
  std::mutex mu_;
  int64_t next_ = 0;
  int64_t block_end_ = 0;
};

}  // namespace strata::broker
