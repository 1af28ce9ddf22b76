#pragma once
// The group coordinator's persistence on top of the partition logs: records
// are appended to `__consumer_offsets` as ordinary v2 batches through the
// same log path as produced data (so they are recovered, retained and read
// like any topic), and replayed into the coordinator at startup.
//
// The topic is created on first use with offsets.topic.num.partitions
// partitions and cleanup.policy=compact, as Kafka does.
#include <memory>

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

 private:
  broker& b_;
};

inline constexpr const char* kOffsetsTopic = "__consumer_offsets";

}  // namespace strata::broker
