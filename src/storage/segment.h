#pragma once
// One segment of a partition log: `<base>.log` plus its `<base>.index` and
// `<base>.timeindex` (formats in offset_index.h and time_index.h). The .log holds record
// batches exactly as received, so a fetch can send its bytes with sendfile.
//
// Lifecycle: created empty at the log end offset when the log rolls (or opened from
// disk at load); active while it is the last segment; closed (trimmed) at shutdown;
// its files removed by retention, DeleteRecords, truncation or partition deletion.
// Shared by shared_ptr: a reader's snapshot of the segment list keeps the segment
// object alive after removal.
//
// Open files are a budget (file_cache.h): the .log descriptor and the index pair
// (descriptors and mappings) are opened on demand and closed again by the process-wide
// caches when idle. Every user takes a shared_ptr to what it uses (open_log(),
// indexes()) and keeps it for as long as it uses the descriptor or the mapping: a
// file_range holds the .log across sendfile, a lookup holds the indexes. Eviction only
// drops the cache's reference. A reopen after the files were removed fails with
// errc::not_found; EMFILE with errc::too_many_open_files.
//
// Concurrency: the writer methods (append, truncate_to, recover, ...) run under the
// owning log's append lock. Readers use size(), the indexes and the .log file through
// pread at any time; size() is published after the bytes are written.
//
// Indexes are opened lazily (indexes()), so opening thousands of partitions after
// a clean shutdown touches only each active segment's indexes.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "storage/batch_scan.h"
#include "storage/errc.h"
#include "storage/file_cache.h"
#include "storage/fs/file.h"
#include "storage/log_config.h"
#include "storage/offset_index.h"
#include "storage/time_index.h"

namespace strata::storage {

// What one append (one or more batches) adds to a segment.
struct segment_append {
  int64_t last_offset;
  int64_t max_timestamp;            // largest batch max timestamp in the append
  int64_t offset_of_max_timestamp;  // last offset of the batch that has it
  int64_t first_batch_max_timestamp;
};

// The outcome of scanning a segment's batches.
struct segment_scan {
  scan_status status = scan_status::end;  // end = every byte was a valid batch
  uint64_t valid_bytes = 0;
  int64_t next_offset = 0;  // last offset of the last valid batch + 1, or base offset
  uint64_t truncated_bytes = 0;
};

// A segment's two indexes, opened and mapped together; shared by the cache and users.
struct segment_indexes {
  std::unique_ptr<offset_index> offsets;
  std::unique_ptr<time_index> times;
};

class segment {
 public:
  // Creates the files of a new, empty segment (an existing .log is an error).
  static result<std::shared_ptr<segment>> create(fs::file_system& fs, const std::string& dir,
                                                 int64_t base_offset, const log_config& cfg,
                                                 int64_t now_ms);
  // Opens the .log of an existing segment; indexes stay closed until ensure_indexes().
  static result<std::shared_ptr<segment>> open(fs::file_system& fs, const std::string& dir,
                                               int64_t base_offset, const log_config& cfg,
                                               int64_t now_ms);
  ~segment();
  segment(const segment&) = delete;
  segment& operator=(const segment&) = delete;

  int64_t base_offset() const { return base_offset_; }
  // Bytes of whole batches readers may see.
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  // The open .log, reopened if the cache closed it. The descriptor stays open for as
  // long as the returned pointer lives (a file_range's keepalive).
  result<std::shared_ptr<fs::file>> open_log() const;
  std::string path(std::string_view suffix) const;

  // Both indexes, opened (and mapped) if the cache closed them. The first load in this
  // process checks them and rebuilds damaged ones by scanning headers. The mappings stay
  // valid for as long as the returned pointer lives. Thread-safe.
  result<std::shared_ptr<segment_indexes>> indexes();
  std::error_code ensure_indexes() {
    auto r = indexes();
    return r ? std::error_code{} : r.error();
  }
  // Builds both indexes from the .log by a header scan, replacing whatever index files
  // there are (a segment the cleaner wrote). Before the segment is published.
  std::error_code build_indexes();
  // How many index rebuilds the damage check started in this process (tests, metrics).
  static uint64_t index_rebuilds();
  // Whether each is open now (tests, metrics); never opens.
  bool log_is_open() const { return log_handle_.peek() != nullptr; }
  bool indexes_are_open() const { return idx_handle_.peek() != nullptr; }

  // Largest batch max timestamp in the segment and the last offset of its batch;
  // {-1, -1} if no batch has a timestamp. Loads the indexes.
  timestamp_offset max_timestamp();
  // Kafka's LogSegment.largestTimestamp: the max timestamp, or the file's mtime.
  int64_t largest_timestamp_for_retention();

  // The first batch whose last offset >= target, found through the index and a header
  // scan, within [0, limit). Reader side.
  scan_status find_batch(int64_t target, uint64_t limit, batch_info* out);

  // --- writer side: the owning log's append lock is held ---

  // Kafka's LogSegment.shouldRoll.
  bool should_roll(uint64_t append_bytes, int64_t append_max_timestamp, int64_t last_offset,
                   int64_t now_ms, const log_config& cfg) const;
  // Writes `data` at the end of the .log with one pwrite. On failure the file is cut back
  // to its previous size; if that fails too, *unrecoverable is set.
  std::error_code append(std::span<const uint8_t> data, const segment_append& a,
                         int32_t index_interval_bytes, bool* unrecoverable);
  // Kafka's LogSegment.recover: reads every batch (with CRC checks when verify_crc),
  // rebuilds both indexes, and cuts the .log at the first invalid byte.
  result<segment_scan> recover(int32_t index_interval_bytes, bool verify_crc,
                               const std::function<void(const batch_info&)>& on_batch);
  // Checks the batches after the last index entry (headers only) and learns the next
  // offset and max timestamp from them. status != end means the segment is damaged.
  result<segment_scan> scan_tail();
  // Removes every batch whose last offset >= offset; returns the bytes removed.
  result<uint64_t> truncate_to(int64_t offset);
  // The segment stops being the active one: write the final time-index entry.
  void on_become_inactive();
  std::error_code flush(bool with_indexes);
  // Trims the indexes to their entries (shutdown). No reader may use the segment after.
  std::error_code close();
  // Unlinks all files of the segment. Open descriptors stay valid; nothing is reopened.
  void remove_files();

  int64_t next_offset() const { return next_offset_.load(std::memory_order_acquire); }
  void set_next_offset(int64_t o) { next_offset_.store(o, std::memory_order_release); }
  void set_created_ms(int64_t ms) { created_ms_ = ms; }
  // index.interval.bytes, used when an index has to be rebuilt outside an append.
  void set_index_interval(int32_t bytes) { index_interval_.store(bytes); }
  // Whether index files were there when the segment was opened.
  bool has_index_files() const { return had_index_files_; }

 private:
  segment(fs::file_system& fs, std::string dir, int64_t base, uint64_t size, size_t index_capacity,
          int64_t now_ms);
  result<std::shared_ptr<segment_indexes>> open_indexes_locked();
  result<std::shared_ptr<segment_indexes>> load_indexes_locked();
  std::error_code rebuild_indexes_locked(segment_indexes& ix);
  void note_timestamp(int64_t ts, int64_t offset);
  void index_batch(segment_indexes& ix, const batch_info& b, int32_t interval);
  void add_index_entry(segment_indexes& ix, int64_t offset, uint32_t position);
  bool first_batch_has_timestamp(fs::file& log);

  fs::file_system& fs_;
  const std::string dir_;
  const int64_t base_offset_;
  mutable std::mutex log_open_mu_;  // one reopen of the .log at a time
  mutable cache_handle<fs::file> log_handle_{log_file_cache()};
  std::atomic<bool> removed_{false};
  std::atomic<uint64_t> size_;
  const size_t index_capacity_;
  bool had_index_files_ = true;
  std::atomic<int32_t> index_interval_{4096};

  std::mutex index_mu_;  // opening, checking and rebuilding the indexes
  cache_handle<segment_indexes> idx_handle_{index_cache()};
  bool index_checked_ = false;    // the first load in this process checked the files (index_mu_)
  std::atomic<bool> index_used_{false};   // indexes were opened in this process (close trims)
  std::atomic<bool> index_full_{false};   // an index cannot take another entry: roll

  std::mutex max_ts_mu_;
  bool max_ts_known_ = false;
  timestamp_offset max_ts_{-1, -1};

  // Writer state.
  uint64_t bytes_since_last_index_entry_ = 0;
  std::optional<int64_t> rolling_based_timestamp_;
  int64_t created_ms_;
  std::atomic<int64_t> next_offset_{-1};
};

}  // namespace strata::storage
