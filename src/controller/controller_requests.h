#pragma once
// The controller's three requests to brokers (DESIGN-NOTES §9): LeaderAndIsr (4),
// UpdateMetadata (6) and StopReplica (5), and request_batch, which collects what one
// event decided and turns it into at most one request of each kind per broker
// (Kafka's ControllerBrokerRequestBatch / AbstractControllerBrokerRequestBatch).
//
// Requests are built in their newest shape (grouped by topic, topic ids, per-partition
// delete flags); shape_for_version() moves the same content into the fields an older
// version encodes, once the channel knows which version the broker speaks.
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <variant>

#include "controller/controller_context.h"
#include "protocol/generated/leader_and_isr.h"
#include "protocol/generated/stop_replica.h"
#include "protocol/generated/update_metadata.h"

namespace strata::controller {

using controller_request =
    std::variant<protocol::leader_and_isr_request, protocol::update_metadata_request, protocol::stop_replica_request>;
using controller_response =
    std::variant<protocol::leader_and_isr_response, protocol::update_metadata_response, protocol::stop_replica_response>;

int16_t api_key_of(const controller_request& r);
const char* api_name_of(const controller_request& r);

// Kafka's LeaderAndIsr.LeaderDuringDelete: the leader UpdateMetadata shows for a
// partition of a topic being deleted (brokers then drop it from their cache).
inline constexpr int32_t kLeaderDuringDelete = -2;

// Moves the content of a request built in the newest shape into the fields that
// `version` encodes: ungrouped partition states for LeaderAndIsr v0-1 and
// UpdateMetadata v0-4 (and v0's single host/port), topic lists for StopReplica v1-2,
// ungrouped partitions for StopReplica v0 (whose delete flag is request-wide: the
// request carries it, see request_batch).
void shape_for_version(protocol::leader_and_isr_request& r, int16_t version);
void shape_for_version(protocol::update_metadata_request& r, int16_t version);
void shape_for_version(protocol::stop_replica_request& r, int16_t version);

// Kafka's SecurityProtocol ids, as UpdateMetadata carries them (PLAINTEXT 0, SSL 1,
// SASL_PLAINTEXT 2, SASL_SSL 3); -1 for a name it does not know.
int16_t security_protocol_id(const std::string& name);

// The endpoint of `reg` on `listener` ("" = the first one). nullptr when there is none.
const zk::endpoint* inter_broker_endpoint(const zk::broker_registration& reg, const std::string& listener);

// Receives the requests of a batch, one broker at a time.
using request_sink = std::function<void(int32_t broker, controller_request req)>;

// Collects one event's requests. Everything is built from the context at send(), so
// a partition changed twice in one event goes out once, in its final state.
//
// Not thread-safe: lives on the controller's event thread for one event.
class request_batch {
 public:
  request_batch(const controller_context& ctx, int32_t controller_id, int32_t controller_epoch,
                std::string inter_broker_listener)
      : ctx_(ctx),
        controller_id_(controller_id),
        controller_epoch_(controller_epoch),
        listener_(std::move(inter_broker_listener)) {}

  // LeaderAndIsr for `k` to each of `brokers` (live ones only); also puts `k` in the
  // UpdateMetadata to every live broker, as Kafka's addLeaderAndIsrRequestForBrokers.
  void leader_and_isr(const std::vector<int32_t>& brokers, const partition_key& k, bool is_new = false);
  // UpdateMetadata with `partitions` to `brokers`. An empty partition list still
  // sends the live broker list (a broker came or went).
  void update_metadata(const std::vector<int32_t>& brokers, const std::vector<partition_key>& partitions);
  void update_metadata_all_partitions(const std::vector<int32_t>& brokers);
  // StopReplica for `k` to `broker`. Deleting and non-deleting stops go in separate
  // requests (StopReplica v0-2 has one delete flag per request).
  void stop_replica(int32_t broker, const partition_key& k, bool delete_partition);

  bool empty() const { return lai_.empty() && um_brokers_.empty() && stop_.empty(); }

  // Builds and hands over, per broker: LeaderAndIsr, then UpdateMetadata, then
  // StopReplica (Kafka's order). Leaves the batch empty.
  void send(const request_sink& sink);

 private:
  protocol::leader_and_isr_request build_leader_and_isr(int32_t broker,
                                                        const std::map<partition_key, bool>& parts) const;
  protocol::update_metadata_request build_update_metadata(int32_t broker,
                                                          const std::set<partition_key>& parts) const;

  const controller_context& ctx_;
  int32_t controller_id_;
  int32_t controller_epoch_;
  std::string listener_;
  std::map<int32_t, std::map<partition_key, bool>> lai_;  // broker -> partition -> is_new
  std::map<int32_t, std::set<partition_key>> um_brokers_;
  std::map<std::pair<int32_t, bool>, std::set<partition_key>> stop_;  // (broker, delete) -> partitions
};

}  // namespace strata::controller
