#pragma once
// Where the group coordinator persists offsets and group metadata: records
// appended to a partition of `__consumer_offsets`. The broker implements it
// on top of the partition logs; tests can record calls.
#include <functional>
#include <optional>
#include <system_error>
#include <vector>

#include "group/errc.h"
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
  // once it is stored (synchronously or from another thread): for a
  // replicated partition, once it is committed (acks=-1). The coordinator
  // answers the request that caused the write only from `done`.
  //
  // A failure should be an `append_errc` (errc.h), which the coordinator maps
  // with Kafka's rules; an error_code of any other category counts as "the
  // write cannot be placed now" (COORDINATOR_NOT_AVAILABLE).
  virtual void append(int32_t partition, std::vector<log_record> records,
                      std::function<void(std::error_code)> done) = 0;
};

}  // namespace strata::group
