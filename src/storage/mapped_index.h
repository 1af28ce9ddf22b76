#pragma once
// The machinery shared by offset_index and time_index: a file of fixed-size entries,
// shared-mapped for its whole capacity (segment.index.bytes) and appended through the
// mapping, as Kafka's AbstractIndex does.
//
// Space: Kafka preallocates the whole file sparsely, so a page first touched when the
// disk is full turns into SIGBUS. Here blocks are reserved with fallocate in 64 KiB steps
// before the mapping is written; if the reservation fails the entry is skipped. The
// indexes are sparse hints, so a skipped entry only makes a lookup scan a little more.
//
// Deviation: Kafka trims the file to its entries when a segment rolls. Here the file
// keeps its reserved tail of zeros until the segment is closed at shutdown (or rebuilt),
// because readers may still hold the mapping and shrinking a mapped file turns their
// loads into SIGBUS. Loaders therefore end the index at the first all-zero entry, which
// no valid index contains (see offset_index.h, time_index.h).
//
// Concurrency: one writer (the log's append lock) and any number of readers. The writer
// stores an entry, then publishes the count with release; readers load the count with
// acquire and read only entries below it. Entry words are accessed with 32-bit atomic
// loads and stores, so a reader racing a truncation sees old or new words, never a
// torn word; readers validate what they find in the log anyway.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/errc.h"
#include "storage/fs/file.h"

namespace strata::storage {

inline uint32_t load_be32_relaxed(const uint8_t* p) {
  return __builtin_bswap32(__atomic_load_n(reinterpret_cast<const uint32_t*>(p), __ATOMIC_RELAXED));
}
inline void store_be32_relaxed(uint8_t* p, uint32_t v) {
  __atomic_store_n(reinterpret_cast<uint32_t*>(p), __builtin_bswap32(v), __ATOMIC_RELAXED);
}

class mapped_index {
 public:
  // Opens (creating if needed) and maps `path`. entry_size must be a multiple of 4. The
  // mapping covers max(capacity_bytes, the file's size), rounded down to whole entries.
  static result<std::unique_ptr<mapped_index>> open(fs::file_system& fs, const std::string& path,
                                                    size_t entry_size, size_t capacity_bytes);
  ~mapped_index();
  mapped_index(const mapped_index&) = delete;
  mapped_index& operator=(const mapped_index&) = delete;

  size_t entry_size() const { return entry_size_; }
  size_t entries() const { return entries_.load(std::memory_order_acquire); }
  size_t max_entries() const { return capacity_ / entry_size_; }
  bool full() const { return entries() >= max_entries(); }
  // Whole entries the file held when it was opened (before any load decision).
  size_t file_entries() const { return size_t(file_bytes_at_open_ / entry_size_); }
  const uint8_t* at(size_t i) const { return base_ + i * entry_size_; }
  bool is_zero_entry(size_t i) const;
  const std::string& path() const { return file_->path(); }
  fs::file& file() { return *file_; }

  // --- writer side (the owner's lock held) ---

  // Loader: the first n entries of the file are valid. Cuts anything after them.
  std::error_code set_loaded_entries(size_t n);
  // Appends one entry (entry_size bytes). False if the index is full or no space could
  // be reserved; the entry is then not stored.
  bool append(const uint8_t* entry);
  // Drops entries from n on, zeroing them in place (readers may hold the mapping).
  void truncate_entries(size_t n);
  // Empties the file. Only while no reader can use this index (loading, rebuilding).
  std::error_code reset();
  // Cuts the file to its entries. Only at close, when no reader can use the mapping.
  std::error_code trim();
  std::error_code sync() { return file_->datasync(); }

 private:
  mapped_index(std::unique_ptr<fs::file> f, uint8_t* base, size_t map_len, size_t entry_size,
               size_t capacity, uint64_t file_bytes);
  bool reserve(uint64_t bytes);

  std::unique_ptr<fs::file> file_;
  uint8_t* base_;
  size_t map_len_;
  size_t entry_size_;
  size_t capacity_;          // bytes, a multiple of entry_size_
  uint64_t file_bytes_at_open_;
  uint64_t allocated_;       // bytes the file currently has (all reserved)
  std::atomic<size_t> entries_{0};
};

}  // namespace strata::storage
