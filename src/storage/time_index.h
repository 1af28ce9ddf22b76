#pragma once
// The time index of one segment: `<base offset>.timeindex`.
//
// On disk (matches Kafka's TimeIndex), a flat array of 12-byte entries, big-endian:
//
//   offset  field            type
//   0       timestamp        i64   largest batch max timestamp appended so far
//   8       relative_offset  u32   offset of the batch holding that timestamp (its last
//                                  offset) - segment base offset
//
// An entry is written beside each offset-index entry, and once more when the segment
// stops being active (roll, close), but only when its timestamp is greater than the last
// entry's: timestamps strictly increase, offsets never decrease. A missing or damaged
// file is rebuilt from the .log; the first all-zero entry ends the index.
//
// Lookup (Kafka's TimeIndex.lookup): the greatest entry whose timestamp is <= the target;
// every batch before its offset has a smaller max timestamp, so a scan for the first
// batch with max timestamp >= target can start there.
#include <cstdint>
#include <memory>
#include <string>

#include "storage/mapped_index.h"

namespace strata::storage {

struct timestamp_offset {
  int64_t timestamp;  // -1 = none (Kafka's RecordBatch.NO_TIMESTAMP)
  int64_t offset;     // absolute
};

class time_index {
 public:
  static constexpr size_t kEntrySize = 12;

  static result<std::unique_ptr<time_index>> open(fs::file_system& fs, const std::string& path,
                                                  int64_t base_offset, size_t capacity_bytes);

  // Validates the entries and keeps the valid prefix; false if the file is damaged.
  bool load();

  size_t entries() const { return idx_->entries(); }
  // Whole entries the file held when it was opened, zeros included.
  size_t file_entries() const { return idx_->file_entries(); }
  bool full() const { return idx_->full(); }
  timestamp_offset entry(size_t i) const;
  // The last entry, or {-1, base_offset} when empty.
  timestamp_offset last_entry() const;
  // Greatest entry with timestamp <= target; {-1, base_offset} if none.
  timestamp_offset lookup(int64_t target) const;

  // --- writer side ---
  // Appends if timestamp > the last entry's and there is room; returns whether stored.
  bool maybe_append(int64_t timestamp, int64_t offset);
  // Keeps only entries with offset < target.
  void truncate_to(int64_t target);
  std::error_code reset() { return idx_->reset(); }
  std::error_code trim() { return idx_->trim(); }
  std::error_code sync() { return idx_->sync(); }
  const std::string& path() const { return idx_->path(); }

 private:
  time_index(std::unique_ptr<mapped_index> idx, int64_t base) : idx_(std::move(idx)), base_offset_(base) {}

  std::unique_ptr<mapped_index> idx_;
  int64_t base_offset_;
};

}  // namespace strata::storage
