#pragma once
// Where the group coordinator persists offsets and group metadata: records
// appended to a partition of `__consumer_offsets`. The broker implements it
// on top of the partition logs; tests can record calls.
#include <functional>
#include <optional>
#include <system_error>
#include <vector>

#include "protocol/wire.h"

namespace strata::group {

struct log_record {
  protocol::bytes key;
  std::optional<protocol::bytes> value;  // nullopt: tombstone
};

class group_log {
 public:
  virtual ~group_log() = default;
  // Appends `records` as one batch to partition `partition` and calls `done`
  // once it is stored (synchronously or from another thread).
  virtual void append(int32_t partition, std::vector<log_record> records,
                      std::function<void(std::error_code)> done) = 0;
};

}  // namespace strata::group
