#pragma once
// KIP-380's broker epoch check on the controller's requests (LeaderAndIsr,
// UpdateMetadata, StopReplica), as Kafka's KafkaApis.isBrokerEpochStale. The broker
// epoch is the czxid of this broker's registration znode. A request the controller
// sent for an earlier registration of this broker id is stale (STALE_BROKER_EPOCH).
// A later epoch is not: the controller may see a new registration, and send for it,
// before the broker has stored the epoch ZooKeeper gave it. -1 (absent: older
// request versions, or not registered yet) is never stale.
#include <cstdint>

namespace strata::cluster {

constexpr bool is_stale_broker_epoch(int64_t request_broker_epoch, int64_t current_broker_epoch) {
  return request_broker_epoch >= 0 && current_broker_epoch >= 0 && request_broker_epoch < current_broker_epoch;
}

}  // namespace strata::cluster
