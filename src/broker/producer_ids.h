#pragma once
// Hands out producer ids for InitProducerId. Ids are never reused, even
// across crashes: ids are claimed in blocks of 1000 and the end of the
// current block is persisted (`<dir>/producer-id-block`, written durably)
// before any id of the block is handed out — the single-node version of
// Kafka's /latest_producer_id_block. In a cluster the blocks are claimed in
// ZooKeeper instead (set_block_source), so no two brokers hand out one id.
//
// Threading: next() is called from the reactors, under one mutex. A ZooKeeper
// claim can take as long as the ZooKeeper connection timeout, so in a cluster it
// runs on a claimer thread owned here, started when the current block is nine
// tenths used (and at once by set_block_source): a reactor never waits on
// ZooKeeper. With no block ready next() says so (not_ready), and the client
// retries, as Kafka's RPCProducerIdManager answers COORDINATOR_LOAD_IN_PROGRESS.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace strata::broker {

class producer_ids {
 public:
  using block = std::pair<int64_t, int64_t>;  // [first, last]
  using block_source = std::function<std::optional<block>()>;
  static constexpr int64_t storage_error = -1;  // the block file cannot be written
  static constexpr int64_t not_ready = -2;      // cluster: no block claimed yet (retriable)

  explicit producer_ids(std::string dir);
  ~producer_ids();
  // An id, or storage_error / not_ready.
  int64_t next();
  // Cluster mode: fn claims a block [first, last] for this broker (nullopt on
  // failure); it is called on the claimer thread. The first claim starts now.
  void set_block_source(block_source fn);
  // Back to no source; waits for a claim in flight, so fn's captures may go after.
  void clear_block_source();

 private:
  void start_claim_locked();
  int64_t next_from_file_locked();

  std::string path_;
  std::string dir_;
  std::mutex mu_;
  int64_t next_ = 0;
  int64_t block_end_ = 0;
  block_source source_;
  std::optional<block> ready_;  // claimed, not yet in use
  bool claiming_ = false;
  std::thread claimer_;
};

}  // namespace strata::broker
