#pragma once
// The sparse offset index of one segment: `<base offset>.index`.
//
// On disk (matches Kafka's OffsetIndex), a flat array of 8-byte entries, big-endian:
//
//   offset  field            type
//   0       relative_offset  u32   batch last offset - segment base offset
//   4       position         u32   byte position in the .log of the batch that starts
//                                  the append which ended at that offset
//
// One entry is added when more than index.interval.bytes have been appended since the
// previous one (never for the first append to a segment, so no valid entry has position
// 0). Both columns strictly increase. The file is not checksummed: if it is missing or
// fails the checks in load(), it is rebuilt from the .log. The first all-zero entry ends
// the index (see mapped_index.h for why a zero tail can be there).
//
// Lookup (Kafka's OffsetIndex.lookup): the greatest entry whose offset is <= the target
// gives a position at or before the batch holding the target; the caller scans forward.
#include <cstdint>
#include <memory>
#include <string>

#include "storage/mapped_index.h"

namespace strata::storage {

struct offset_position {
  int64_t offset;     // absolute
  uint32_t position;
};

class offset_index {
 public:
  static constexpr size_t kEntrySize = 8;

  static result<std::unique_ptr<offset_index>> open(fs::file_system& fs, const std::string& path,
                                                    int64_t base_offset, size_t capacity_bytes);

  // Validates the entries against the size of the .log and keeps the valid prefix.
  // Returns false if the index is damaged (the caller rebuilds it).
  bool load(uint64_t log_size);

  int64_t base_offset() const { return base_offset_; }
  size_t entries() const { return idx_->entries(); }
  // Whole entries the file held when it was opened, zeros included.
  size_t file_entries() const { return idx_->file_entries(); }
  bool full() const { return idx_->full(); }
  offset_position entry(size_t i) const;
  // Greatest entry with offset <= target; {base_offset, 0} if none.
  offset_position lookup(int64_t target) const;
  // Number of leading entries with offset < offset_limit and position <= position_limit
  // (both columns increase, so this is a prefix).
  size_t count_below(int64_t offset_limit, uint64_t position_limit) const;

  // --- writer side ---
  // False if the entry was not stored (full, no space, or not increasing).
  bool append(int64_t offset, uint32_t position);
  // Keeps only entries with offset < target (Kafka's OffsetIndex.truncateTo).
  void truncate_to(int64_t target);
  std::error_code reset() { return idx_->reset(); }
  std::error_code trim() { return idx_->trim(); }
  std::error_code sync() { return idx_->sync(); }
  const std::string& path() const { return idx_->path(); }

 private:
  offset_index(std::unique_ptr<mapped_index> idx, int64_t base) : idx_(std::move(idx)), base_offset_(base) {}

  std::unique_ptr<mapped_index> idx_;
  int64_t base_offset_;
};

}  // namespace strata::storage
