#pragma once
// log_manager: every partition log under one or more log directories (log.dirs), and
// the background work on them. Matches Kafka's LogManager in what it keeps on disk:
//
//   <log.dir>/recovery-point-offset-checkpoint   per-partition recovery points
//   <log.dir>/log-start-offset-checkpoint        per-partition log start offsets
//   <log.dir>/cleaner-offset-checkpoint          per compacted partition, where the
//                                                last cleaning pass got to
//   <log.dir>/.kafka_cleanshutdown               written last by shutdown(), deleted on
//                                                open: its presence means "no scan needed"
//   <log.dir>/.lock                              flock'ed while a manager owns the dir
//   <log.dir>/<topic>-<partition>/               one log each (log.h)
//   <log.dir>/<topic>-<partition>.<id>-delete/   a deleted partition, removed in the
//                                                background (and on the next start)
//
// Lifecycle: construct, open_all() (load every partition; only partitions that need it
// are recovered, so thousands of partitions open quickly after a clean shutdown; a
// partition that cannot be opened, or every partition of a log dir that cannot be read,
// is left offline (KIP-112) and the rest are served),
// start() (background threads), then get/get_or_create/delete_partition/update_config
// and flush_then from any thread; shutdown() flushes everything, writes the checkpoints
// and the clean-shutdown marker. Destroying a manager without shutdown() stops its
// threads and leaves the directories as a crash would (tests rely on that).
//
// Background threads:
//   scheduler  retention every retention_check_interval_ms, flush.ms checks,
//              recovery-point and log-start checkpoints every minute, deletion of
//              removed partitions' directories.
//   flusher    group commit and every other background fsync, up to flush_threads
//              threads syncing different logs at once (group_commit_flusher.h).
//   cleaner    compaction of cleanup.policy=compact logs every cleaner_backoff_ms
//              (log.cleaner.backoff.ms), one log at a time (log::clean).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "storage/errc.h"
#include "storage/fs/file.h"
#include "storage/group_commit_flusher.h"
#include "storage/log.h"
#include "storage/log_config.h"

namespace strata::storage {

struct log_manager_options {
  std::vector<std::string> log_dirs;   // log.dirs
  log_config default_config;           // the broker's log.* settings
  int64_t retention_check_interval_ms = 300000;          // log.retention.check.interval.ms
  int64_t flush_check_interval_ms = 1000;                // how often flush.ms is checked
  int64_t recovery_point_checkpoint_interval_ms = 60000;   // log.flush.offset.checkpoint.interval.ms
  int64_t high_watermark_checkpoint_interval_ms = 5000;    // replica.high.watermark.checkpoint.interval.ms
  int64_t log_start_offset_checkpoint_interval_ms = 60000; // log.flush.start.offset.checkpoint.interval.ms
  int recovery_threads = 2;            // threads opening/recovering logs in open_all
  int flush_threads = 8;               // strata.log.flush.threads: most concurrent fsyncs
  bool cleaner_enable = true;                              // log.cleaner.enable
  int64_t cleaner_backoff_ms = 15000;                      // log.cleaner.backoff.ms
  size_t cleaner_dedupe_buffer_bytes = size_t(128) << 20;  // log.cleaner.dedupe.buffer.size
  fs::file_system* fs = &fs::posix_file_system();
  std::function<int64_t()> clock_ms;   // wall clock in ms; the system clock when empty
};

// What open_all found.
struct open_all_result {
  std::error_code error;
  size_t logs = 0;
  size_t recovered = 0;  // logs that had to be scanned and repaired
  size_t offline = 0;    // partitions that could not be opened (offline_reason says why)
  size_t offline_dirs = 0;
};

class log_manager {
 public:
  explicit log_manager(log_manager_options cfg);
  ~log_manager();
  log_manager(const log_manager&) = delete;
  log_manager& operator=(const log_manager&) = delete;

  // Locks the directories and opens every partition in them. `config_for` gives a
  // topic's config (the default config when empty). Fails if a directory is locked by
  // another manager, or if no directory can be read. A log that cannot be opened does
  // not fail it: that partition goes offline (logged once, with the cause); a directory
  // that cannot be created or listed goes offline with every partition in it.
  open_all_result open_all(std::function<log_config(const std::string& topic)> config_for = {});
  void start();
  // Flushes and closes every log, writes the checkpoints and (if all went well) the
  // clean-shutdown markers, and releases the directories.
  std::error_code shutdown();

  std::shared_ptr<log> get(const std::string& topic, int32_t partition) const;
  // The existing log, or a new one in the online log directory with the fewest
  // partitions. An offline partition fails with errc::log_offline (offline_reason says
  // why). `is_new` false (a partition the metadata already had, at startup) does not
  // create a missing log while a log dir is offline: it may be in that dir, and goes
  // offline instead. A failed creation removes the directory it created.
  result<std::shared_ptr<log>> get_or_create(const std::string& topic, int32_t partition,
                                             const log_config& cfg, bool is_new = true);
  // Why a partition is offline, or "" when it is not.
  std::string offline_reason(const std::string& topic, int32_t partition) const;
  size_t offline_count() const;
  // The partitions of `topic` this manager knows, online or offline.
  std::vector<int32_t> partitions_of(const std::string& topic) const;
  // Retires the log (appends fail with errc::log_closed, open reads keep working),
  // renames its directory to `<topic>-<partition>.<id>-delete` and removes it in the
  // background. An offline partition's directory is renamed and removed the same way
  // (when its log dir is online), and the partition is forgotten.
  std::error_code delete_partition(const std::string& topic, int32_t partition);
  // A topic config change; applies at once to the topic's open logs (new logs take the
  // config passed to get_or_create).
  void update_config(const std::string& topic, const log_config& cfg);
  std::vector<std::shared_ptr<log>> all_logs() const;

  // Group commit (strata.log.flush.on.ack): calls done(ec) on the flusher thread once
  // every offset up to and including `last_offset` (append_result.last_offset) is
  // fsynced, or the fsync failed. Immediately, on this thread, if it already is.
  void flush_then(std::shared_ptr<log> lg, int64_t last_offset,
                  std::function<void(std::error_code)> done);

  // The background tasks, also callable directly (tests, tools).
  size_t run_retention();
  // One cleaning pass over every compacted log; returns how many were cleaned. Writes
  // cleaner-offset-checkpoint when any was.
  size_t run_cleaner();
  void flush_due_logs();
  std::error_code checkpoint_recovery_points();
  std::error_code checkpoint_high_watermarks();
  std::error_code checkpoint_log_start_offsets();
  std::error_code checkpoint_cleaner_offsets();
  void delete_pending_dirs();

  const group_commit_flusher& flusher() const { return flusher_; }

  // ---- run-time log dir failures (KIP-112, Kafka's LogDirFailureChannel)
  // One log's I/O error (log::set_failure_listener) takes its whole log directory
  // offline: every log in it goes offline (log::take_offline) and leaves the manager's
  // logs for its offline partitions (get_or_create answers errc::log_offline, no
  // checkpoint, flush or clean-shutdown marker touches the directory again), and the
  // handler is called once per directory, on the thread that hit the error, outside
  // the manager's locks. It must not block (the broker posts the rest to a worker).
  struct dir_failure {
    std::string dir;     // the log directory, as configured
    std::string reason;  // the first error, with the partition and the operation
    std::vector<std::pair<std::string, int32_t>> partitions;  // that went offline with it
    bool all_offline = false;  // no log directory is left: the broker must stop
  };
  void set_dir_failure_handler(std::function<void(const dir_failure&)> fn);
  // Takes a log directory offline as an I/O error in it would (tests, tools). False
  // when it is not one of the manager's or is offline already.
  bool fail_dir(const std::string& dir, const std::string& reason);

  struct dir_status {
    std::string path;
    std::string offline;  // why it is offline; "" when online
  };
  std::vector<dir_status> dirs() const;
  // The log directory holding a partition (online or offline), "" when unknown.
  std::string dir_of(const std::string& topic, int32_t partition) const;

 private:
  struct dir_state {
    std::string path;
    std::unique_ptr<fs::file> lock;
    std::string offline;  // why the directory is offline; "" when online
  };
  struct offline_entry {
    std::string reason;
    size_t dir;
    std::string path;  // the partition's directory; "" when unknown
  };
  struct entry {
    std::shared_ptr<log> lg;
    size_t dir;
  };
  using key = std::pair<std::string, int32_t>;

  int64_t now_ms() const;
  std::error_code lock_dir(dir_state& d, bool* locked_by_other);
  void on_log_failure(const log& lg, std::error_code ec, const std::string& what);
  bool take_dir_offline(size_t dir, const std::string& reason);
  void wire(const std::shared_ptr<log>& lg);
  // Writes `file` in every log dir with value(log) for each log; nullopt leaves a log out.
  std::error_code write_offsets(std::string_view file, std::optional<int64_t> (*value)(const log&));
  void scheduler_loop();
  void cleaner_loop();
  void stop_threads();

  log_manager_options cfg_;
  fs::file_system& fs_;
  std::vector<dir_state> dirs_;

  mutable std::mutex mu_;
  std::map<key, entry> logs_;
  std::map<key, offline_entry> offline_;
  std::vector<std::string> pending_deletes_;
  std::function<void(const dir_failure&)> on_dir_failure_;  // under mu_

  std::mutex sched_mu_;
  std::condition_variable sched_cv_;
  bool sched_stop_ = false;
  std::thread scheduler_;
  std::thread cleaner_;
  group_commit_flusher flusher_;
  bool shut_down_ = false;
};

}  // namespace strata::storage
