#pragma once
// The group coordinator's persistence on top of the partition logs: records
// are appended to `__consumer_offsets` as ordinary v2 batches through the
// same log path as produced data (so they are recovered, retained and read
// like any topic), and replayed into the coordinator at startup.
//
// The topic is created on first use with offsets.topic.num.partitions
// partitions and cleanup.policy=compact, as Kafka does.
#include <functional>
#include <memory>

#include "cluster/partition.h"

#include "group/group_coordinator.h"
#include "group/group_log.h"

namespace strata::broker {

class broker;

class offsets_log final : public group::group_log {
 public:
  explicit offsets_log(broker& b) : b_(b) {}

  void append(int32_t partition, std::vector<group::log_record> records,
              std::function<void(std::error_code)> done) override;

  // Creates the topic if it does not exist; false if that failed.
  bool ensure_topic();
  // Replays every record of the topic into `coordinator`; returns the number
  // of records read.
  size_t replay(group::group_coordinator& coordinator);
  // Cluster mode: this broker became (or stopped being) the leader of `part`, a
  // partition of the topic, and so the coordinator of its groups: loads them by
  // replaying it, or unloads them (ARCHITECTURE.md §8). On the broker's
  // group-loader thread, in the order the controller's requests came.
  void leadership_changed(const std::shared_ptr<cluster::partition>& part, bool leader);

 private:
  size_t replay_partition(cluster::partition& part, const std::function<void(const group::decoded_record&)>& apply);
  broker& b_;
};

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

}  // namespace strata::broker
