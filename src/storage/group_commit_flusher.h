#pragma once
// Group commit for `strata.log.flush.on.ack`, and the threads that run every background
// flush of a log (after a roll, when flush.messages is reached).
//
// Callers queue (log, offset, callback) waiters. Waiters are grouped per log: a log with
// waiters is "ready"; a worker thread takes a ready log together with all of its waiters
// queued so far, fdatasyncs it once (one fsync covers every append made before it), runs
// those callbacks, and, if more waiters arrived meanwhile, makes the log ready again.
// While a log is being synced its new waiters pile up for its next sync, so under load
// one fsync serves many acknowledgements.
//
// Several workers (up to `max_threads`) sync different logs at the same time, never the
// same log twice at once. Why: a produce request touching 64 partitions waits for 64
// syncs; one after another that is the sum of their latencies, concurrently it is close
// to the longest one (the disk queues them together, and ext4's journal commits the
// metadata of all of them in one transaction). Workers are started on demand, when a log
// becomes ready and no worker is idle, so an idle broker keeps one thread.
//
// Guarantee: a callback with an empty error code runs only after a flush of its log
// that began after its append (the log's recovery point covers its offset).
//
// Callbacks run on a worker thread, concurrently with other workers' callbacks, and must
// be cheap and thread-safe (post to a reactor, count down an atomic). A waiter whose
// offset is already below the log's recovery point is answered at once, on the caller's
// thread. Before start() and after stop(), waiters are served inline on the caller's
// thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

namespace strata::storage {

class log;

class group_commit_flusher {
 public:
  using callback = std::function<void(std::error_code)>;

  explicit group_commit_flusher(int max_threads = 8);
  ~group_commit_flusher();
  group_commit_flusher(const group_commit_flusher&) = delete;
  group_commit_flusher& operator=(const group_commit_flusher&) = delete;

  // Applies to workers started from now on (call before start()).
  void set_max_threads(int n);
  void start();
  // Serves every queued waiter, then stops the threads.
  void stop();

  // Calls done(ec) once everything below `offset` in `lg` is fsynced (ec empty) or the
  // fsync failed (ec says why). `done` may be empty: a plain background flush request.
  void flush_then(std::shared_ptr<log> lg, int64_t offset, callback done);

  // Passes: one per (log, sync attempt), i.e. batches of waiters served together.
  uint64_t rounds() const { return rounds_.load(); }
  // log::flush calls made (a pass whose log was already durable makes none).
  uint64_t fsyncs() const { return fsyncs_.load(); }
  // Most passes that were running at the same moment (tests, diagnostics).
  int peak_concurrency() const { return peak_busy_.load(); }
  int threads() const;

 private:
  struct waiter {
    int64_t offset;
    callback done;
  };
  struct pending {
    std::shared_ptr<log> lg;
    std::vector<waiter> waiters;
    bool ready = false;      // in ready_
    bool in_flight = false;  // a worker is syncing it
  };
  void worker();
  // Syncs `lg` if needed and answers `batch`; no lock held.
  void serve(log& lg, std::vector<waiter>& batch);
  void spawn_locked();

  int max_threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<log*, pending> pending_;
  std::deque<log*> ready_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  int busy_ = 0;
  bool running_ = false;
  bool stopping_ = false;
  std::atomic<uint64_t> rounds_{0};
  std::atomic<uint64_t> fsyncs_{0};
  std::atomic<int> peak_busy_{0};
};

}  // namespace strata::storage
