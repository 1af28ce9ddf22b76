#pragma once
// One partition's log: the directory `<log.dir>/<topic>-<partition>/`, an ordered set of
// segments (segment.h) of which the last is active, the partition's offsets, and its
// leader-epoch cache (leader_epoch_cache.h).
//
// Offsets (DESIGN-NOTES §4), log_start <= high_watermark <= log_end, recovery_point <=
// log_end:
//   log_start_offset  first readable offset; moved up by retention and DeleteRecords
//   log_end_offset    next offset to assign (LEO)
//   high_watermark    readers (consumers) see offsets below it. By default it follows the
//                     LEO after every append (single node, ISR = [self]); replication
//                     turns that off and calls set_high_watermark itself
//   recovery_point    everything below it is known to be fsynced
//
// Lifecycle: open() loads (and, after a crash, recovers) the directory; appends and reads
// follow; close() flushes and trims at shutdown; mark_deleted() retires it when its
// partition is deleted. Usually owned by log_manager.
//
// Concurrency: appends, truncation, roll, retention and config changes take a short
// per-partition mutex that is held only around the in-memory bookkeeping and the one
// pwrite into the page cache (plus, on a roll, creating the new segment's files), never
// around fsync or the removal of retained segments. Readers take no
// lock: they use an immutable snapshot of the segment list plus atomics for the offsets.
// Every method is thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/errc.h"
#include "storage/fs/file.h"
#include "storage/leader_epoch_cache.h"
#include "storage/log_config.h"
#include "storage/read_result.h"

namespace strata::storage {

class segment;

// What one cleaning pass did (log::clean).
struct clean_stats {
  size_t segments_before = 0;  // segments rewritten
  size_t segments_after = 0;
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
  int64_t records_read = 0;
  int64_t records_kept = 0;
  int64_t cleaned_up_to = 0;  // the first offset the pass did not deduplicate
};

struct log_open_options {
  fs::file_system* fs = &fs::posix_file_system();
  std::string dir;  // the partition directory
  std::string topic;
  int32_t partition = 0;
  log_config config;
  // The log directory had the clean-shutdown marker: open without scanning.
  bool clean_shutdown = false;
  // From recovery-point-offset-checkpoint (0 when absent: recover everything).
  int64_t recovery_point = 0;
  // From log-start-offset-checkpoint; -1 when absent.
  int64_t log_start_offset = -1;
  // From replication-offset-checkpoint (the high watermark); -1 when absent: the HW
  // starts at the LEO (a single node, where it follows the LEO anyway).
  int64_t high_watermark = -1;
  int64_t now_ms = 0;
};

class log : public std::enable_shared_from_this<log> {
 public:
  // Opens the partition directory, creating it if needed. Recovery follows Kafka's
  // LogLoader (DESIGN-NOTES §5); see log_loader.cc for the passes.
  static result<std::shared_ptr<log>> open(const log_open_options& opts);
  ~log();
  log(const log&) = delete;
  log& operator=(const log&) = delete;

  // Appends one or more whole, already validated v2 batches. Rewrites each batch's
  // base_offset (next offsets in order) and, when leader_epoch >= 0, its
  // partition_leader_epoch, in place: both fields are outside the CRC. Then writes the
  // whole buffer with one pwrite into the active segment, so the caller's buffer (the
  // request frame) is the only copy. Rolls the segment first when Kafka would.
  // Errors: errc::invalid_batch, batch_too_large, no_space, io_error, log_offline,
  // log_closed. On any error nothing was appended: a partial write is cut off again.
  result<append_result> append(std::span<uint8_t> batches, int32_t leader_epoch, int64_t append_time_ms);
  // A follower's append (replication): the batches keep the leader's base offsets and
  // leader epochs (the epoch cache learns each new epoch from them). The first base
  // offset must be the LEO (errc::invalid_offset otherwise: the follower truncates
  // first) and each batch must start where the previous one ended (errc::invalid_batch:
  // a Strata log has no offset gaps, its cleaner writes empty batches over removed
  // runs). The LEO becomes the last batch's last offset + 1.
  result<append_result> append_replicated(std::span<uint8_t> batches, int64_t append_time_ms);

  // File ranges holding whole batches, starting at the batch that contains `offset`,
  // with offsets below max_offset (exclusive; pass the high watermark for consumers, the
  // LEO for followers), at most max_bytes in total, except that with min_one_batch the
  // first batch is returned even when it is larger (Kafka's "at least one batch").
  // Reads only the index and 61-byte batch headers. errc::offset_out_of_range if offset
  // < log start or > LEO; offset == LEO gives an empty result. errc::io_error /
  // errc::corrupt_segment when the segment cannot be read consistently (after
  // retries: then the log's directory fails, see set_failure_listener);
  // errc::log_offline once the log is offline.
  result<read_result> read(int64_t offset, int32_t max_bytes, int64_t max_offset,
                           bool min_one_batch) const;

  // ListOffsets by timestamp: the first batch (below max_offset) whose max timestamp is
  // >= ts, through the time index and a header scan. Deviation: batch granularity; the
  // offset is the batch's base offset (clamped to the log start), Kafka refines to the
  // record. nullopt if there is none.
  std::optional<timestamp_lookup> offset_for_timestamp(
      int64_t ts, int64_t max_offset = std::numeric_limits<int64_t>::max()) const;
  // ListOffsets -3 (MAX_TIMESTAMP): the largest batch max timestamp and the last offset
  // of that batch (Kafka's shallow offset); {-1, -1} when no batch has a timestamp.
  timestamp_and_offset max_timestamp_and_offset() const;
  // The leader epoch that wrote `offset` (from the leader-epoch cache), -1 if unknown.
  int32_t epoch_for_offset(int64_t offset) const;

  int64_t log_start_offset() const { return log_start_.load(std::memory_order_acquire); }
  int64_t log_end_offset() const { return leo_.load(std::memory_order_acquire); }
  int64_t high_watermark() const { return hw_.load(std::memory_order_acquire); }
  int64_t recovery_point() const { return recovery_point_.load(std::memory_order_acquire); }
  // Clamped to [log start, LEO].
  void set_high_watermark(int64_t hw);
  // Default true: every append moves the HW to the LEO (single node).
  void set_high_watermark_follows_log_end(bool on) { hw_follows_leo_.store(on); }

  // DeleteRecords: moves the log start up to `offset` (which must be <= HW, else
  // errc::offset_out_of_range) and deletes the segments wholly below it. Blocks on file
  // removal: call it off the network threads.
  std::error_code delete_records_before(int64_t offset);
  // Removes every batch whose last offset >= offset (replication). The LEO becomes the
  // end of the last kept batch (== offset when offset is a batch boundary). An offset
  // below the log start empties the log and restarts it at `offset`.
  std::error_code truncate_to(int64_t offset);
  // Kafka's truncateFullyAndStartAt: removes every segment and restarts the log empty
  // at `offset`, which may be above the LEO (a follower whose log ends below the
  // leader's log start). Log start = HW = LEO = offset; the epoch cache is cleared.
  std::error_code truncate_fully_and_start_at(int64_t offset);
  // Retention (retention.ms, retention.bytes) and log-start cleanup: deletes whole
  // segments below the HW. Returns how many were deleted. Background thread.
  result<size_t> delete_old_segments(int64_t now_ms);

  // Compaction (cleanup.policy=compact; Kafka's LogCleaner, one pass): when the part of
  // the log not yet cleaned is at least min.cleanable.dirty.ratio of the cleanable part
  // (every segment but the active one, below the HW and older than
  // min.compaction.lag.ms; or a dirty segment is older than max.compaction.lag.ms),
  // keeps only the newest record of each key (offsets stay; keyless records go;
  // tombstones go once delete.retention.ms past their batch's timestamp) and rewrites
  // those segments, merged up to segment.bytes. A new segment is written to
  // `<base>.log.cleaned`, fsynced, renamed to `.log.swap` and swapped in under the append
  // lock (the loader finishes an interrupted swap). Keys are held in memory up to
  // `map_bytes` (log.cleaner.dedupe.buffer.size); a longer dirty part is cleaned over
  // several passes. nullopt when there was nothing to do. Background thread only.
  result<std::optional<clean_stats>> clean(int64_t now_ms, size_t map_bytes);
  // Offsets below this were deduplicated by the last pass (the log start until then).
  int64_t first_dirty_offset() const;
  // At start-up, from cleaner-offset-checkpoint: where the last pass before the restart
  // got to, so cleaned segments are not deduplicated again. An offset past the log end
  // (the checkpoint is from another incarnation of the log) is ignored, as Kafka resets
  // it to the log start.
  void restore_first_dirty_offset(int64_t offset);

  // fsyncs everything up to the current LEO and moves the recovery point there. Not on
  // a network thread. A failed fsync takes the log offline (the page cache may have
  // dropped the data: never carry on).
  std::error_code flush();
  // flush() if flush.ms has passed since the last flush and there is unflushed data.
  std::error_code flush_if_due(int64_t now_ms);
  bool has_unflushed_data() const { return recovery_point() < log_end_offset(); }

  // Leader epochs (OffsetsForLeaderEpoch, becoming leader).
  // Records (epoch, LEO) when epoch is newer than the latest: call on becoming leader.
  std::error_code assign_leader_epoch(int32_t epoch);
  std::pair<int32_t, int64_t> end_offset_for_epoch(int32_t epoch) const;
  std::optional<int32_t> latest_epoch() const { return epochs_.latest_epoch(); }
  std::vector<epoch_entry> leader_epochs() const { return epochs_.entries(); }

  uint64_t size_bytes() const;
  size_t segments_count() const;
  const std::string& topic() const { return topic_; }
  int32_t partition() const { return partition_; }
  const std::string& dir() const { return dir_; }
  log_config config() const;
  // Topic config change; takes effect on the next append / retention run.
  void set_config(const log_config& cfg);
  bool offline() const { return offline_.load(); }

  // Run-time I/O failures (Kafka's LogDirFailureChannel, KIP-112). An I/O error on this
  // log's files (a failed write or cut-back, fsync, roll, truncation, leader-epoch
  // checkpoint, or a read that keeps failing) takes the log offline and calls the
  // listener once, on the thread that hit it, outside the log's locks. The log manager
  // takes the whole log directory offline from there. ENOSPC, EMFILE and mmap's ENOMEM
  // are not failures of the disk: they are returned and the log stays online.
  using failure_listener = std::function<void(const log&, std::error_code, const std::string& what)>;
  void set_failure_listener(failure_listener fn);
  // Offline without an error of its own (another log of its directory failed): appends,
  // reads, flushes and truncation fail with errc::log_offline from now on.
  void take_offline() { offline_.store(true); }
  // Whether open() had to scan and repair segments (after a crash or damage).
  bool was_recovered() const { return recovered_; }

  // Called after every successful append, outside the lock, on the appending thread
  // (the broker wakes parked long-poll fetches from it). Keep it cheap.
  void set_append_listener(std::function<void()> fn);
  // Called (outside the lock) when the log wants a background flush: after a roll
  // (Kafka flushes a rolled segment asynchronously) and when flush.messages is reached.
  // Without a scheduler the log flushes inline.
  void set_flush_scheduler(std::function<void()> fn);

  // Shutdown: flush, write the final time-index entries, trim the indexes. Appends fail
  // with errc::log_closed afterwards.
  std::error_code close();
  // The partition is being deleted: refuse appends; the files are removed by the caller.
  void mark_deleted();

 private:
  friend struct log_loader;
  using segment_list = std::vector<std::shared_ptr<segment>>;
  explicit log(const log_open_options& opts);

  std::shared_ptr<const segment_list> snapshot() const;
  result<append_result> append_impl(std::span<uint8_t> batches, int32_t leader_epoch, int64_t append_time_ms,
                                    bool replicated);
  void publish_locked();
  std::error_code roll_locked(int64_t now_ms);
  result<read_result> read_once(int64_t offset, int32_t max_bytes, int64_t max_offset, bool min_one_batch) const;
  std::vector<std::shared_ptr<segment>> take_deletable_locked(int64_t now_ms, bool retention);
  result<size_t> delete_segments(int64_t now_ms, bool retention);
  void request_flush();
  // Takes the log offline and reports the failure (once). Not under mu_.
  void fail_io(std::error_code ec, const std::string& what) const;
  void flush_epochs_after_truncation();
  std::error_code truncate_impl(int64_t offset, bool fully);
  // log_cleaner.cc: writes one cleaned group of segments and swaps it in.
  struct clean_pass;
  result<bool> clean_group(clean_pass& pass, size_t first, size_t count);
  result<bool> swap_in(const std::vector<std::shared_ptr<segment>>& group, const std::string& cleaned_path,
                       const log_config& cfg);

  fs::file_system& fs_;
  const std::string dir_;
  const std::string topic_;
  const int32_t partition_;

  mutable std::mutex mu_;  // the append lock
  log_config config_;
  segment_list segments_;
  std::shared_ptr<segment> active_;
  std::shared_ptr<const std::function<void()>> listener_;
  std::shared_ptr<const std::function<void()>> flush_scheduler_;
  bool closed_ = false;
  bool recovered_ = false;

  mutable std::mutex snap_mu_;  // guards only the pointer copy
  std::shared_ptr<const segment_list> snapshot_;

  std::atomic<int64_t> log_start_{0};
  std::atomic<int64_t> leo_{0};
  std::atomic<int64_t> hw_{0};
  std::atomic<int64_t> recovery_point_{0};
  std::atomic<bool> hw_follows_leo_{true};
  mutable std::atomic<bool> offline_{false};
  mutable std::atomic<bool> failure_reported_{false};
  mutable std::mutex failure_mu_;  // guards only the listener
  failure_listener failure_listener_;
  std::atomic<bool> dir_dirty_{false};
  std::atomic<int64_t> last_flush_ms_{0};

  std::mutex flush_mu_;  // one flush at a time
  std::mutex clean_mu_;  // one cleaning pass at a time
  std::atomic<int64_t> first_dirty_{-1};
  mutable leader_epoch_cache epochs_;
};

}  // namespace strata::storage
