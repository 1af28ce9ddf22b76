#pragma once
// Test support: a broker_sender that records every request the controller sends,
// per broker id, and answers as a healthy broker would (no errors; StopReplica lists
// each partition). It stands where the brokers' network side will be; the
// end-to-end tests with real brokers are tests/integration's.
//
// A broker can be made unreachable: its sends throw, so the channel retries.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controller/controller_channel.h"

namespace strata::test {

struct sent_request {
  int32_t broker = -1;
  controller::controller_request req;
};

class request_log {
 public:
  void record(int32_t broker, const controller::controller_request& req);
  std::vector<sent_request> all() const;
  // True when pred(all requests) held within `timeout`.
  bool wait_for(const std::function<bool(const std::vector<sent_request>&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(15));
  void set_unreachable(int32_t broker, bool unreachable);
  bool unreachable(int32_t broker) const;
  // KIP-112: the broker answers LeaderAndIsr with KAFKA_STORAGE_ERROR for these
  // replicas (a failed log dir), as cluster_member does for an offline partition.
  void set_offline_replicas(int32_t broker, std::set<std::pair<std::string, int32_t>> parts);
  bool replica_offline(int32_t broker, const std::string& topic, int32_t partition) const;
  void clear();
  // Makes recording senders writing to this log (which must outlive them).
  controller::sender_factory factory();

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<sent_request> items_;
  std::set<int32_t> unreachable_;
  std::map<int32_t, std::set<std::pair<std::string, int32_t>>> offline_;
};

// ---- helpers over recorded requests

template <class T>
std::vector<T> requests_to(const std::vector<sent_request>& all, int32_t broker) {
  std::vector<T> out;
  for (const auto& s : all)
    if (s.broker == broker)
      if (const auto* r = std::get_if<T>(&s.req)) out.push_back(*r);
  return out;
}

// The last LeaderAndIsr partition state for topic-partition sent to broker.
const protocol::leader_and_isr_request::leader_and_isr_partition_state* last_leader_and_isr(
    const std::vector<sent_request>& all, int32_t broker, const std::string& topic, int32_t partition,
    const protocol::leader_and_isr_request** req = nullptr);
// The last UpdateMetadata partition state for topic-partition sent to broker.
const protocol::update_metadata_request::update_metadata_partition_state* last_update_metadata(
    const std::vector<sent_request>& all, int32_t broker, const std::string& topic, int32_t partition,
    const protocol::update_metadata_request** req = nullptr);
// Whether broker got StopReplica for topic-partition with this delete flag.
bool got_stop_replica(const std::vector<sent_request>& all, int32_t broker, const std::string& topic,
                      int32_t partition, bool delete_partition);

}  // namespace strata::test
