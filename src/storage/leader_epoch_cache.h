#pragma once
// The leader-epoch cache of one partition: for each leader epoch, the first offset
// written in it. Persisted as `leader-epoch-checkpoint` in the partition directory
// (format in checkpoint_file.h; entries "<epoch> <start offset>").
//
// Matches Kafka's LeaderEpochFileCache (DESIGN-NOTES §6):
//  - both columns strictly increase; assigning an entry first removes entries whose
//    epoch >= the new epoch or whose start >= the new start;
//  - end_offset_for answers OffsetsForLeaderEpoch;
//  - truncate_from_end(o) drops entries starting at or after o (log truncation);
//    truncate_from_start(o) drops entries starting at or before o and puts back the last
//    dropped epoch starting at o (log start moved up).
//
// Thread-safe (internal mutex). The caller persists changes with flush(), which writes
// the checkpoint durably; Kafka writes synchronously on assign and lazily after
// truncation, which is safe because loading truncates again.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/errc.h"
#include "storage/fs/file.h"

namespace strata::storage {

struct epoch_entry {
  int32_t epoch;
  int64_t start_offset;
  bool operator==(const epoch_entry&) const = default;
};

inline constexpr int32_t kUndefinedEpoch = -1;
inline constexpr int64_t kUndefinedEpochOffset = -1;

class leader_epoch_cache {
 public:
  // Loads `path` if it exists. A damaged file is treated as empty (it is only a cache of
  // what the batches say; recovery re-adds epochs from the batches it scans).
  leader_epoch_cache(fs::file_system& fs, std::string path);

  // Kafka's assign. Returns whether the cache changed.
  bool assign(int32_t epoch, int64_t start_offset);
  std::optional<epoch_entry> latest() const;
  std::optional<int32_t> latest_epoch() const;
  // Kafka's endOffsetFor: (epoch, end offset), or (-1, -1) if undefined.
  std::pair<int32_t, int64_t> end_offset_for(int32_t requested, int64_t log_end_offset) const;
  // The epoch of the greatest entry whose start <= offset.
  std::optional<int32_t> epoch_for_offset(int64_t offset) const;
  bool truncate_from_end(int64_t end_offset);
  bool truncate_from_start(int64_t start_offset);
  std::vector<epoch_entry> entries() const;
  void clear();

  // Writes the checkpoint file (tmp, fsync, rename, fsync dir).
  std::error_code flush();

 private:
  fs::file_system& fs_;
  const std::string path_;
  mutable std::mutex mu_;
  std::vector<epoch_entry> entries_;
  std::mutex flush_mu_;
};

}  // namespace strata::storage
