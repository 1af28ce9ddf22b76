#pragma once
// Group commit for `strata.log.flush.on.ack`, and the thread that runs every background
// flush of a log (after a roll, when flush.messages is reached).
//
// One thread. Callers queue (log, offset, callback) waiters; the thread takes every
// waiter queued so far, fdatasyncs each log in that batch once (one fsync covers every
// append made before it, across all of that log's waiters), and then runs all the
// callbacks with the outcome. While it syncs, new waiters pile up for the next round,
// so under load one fsync serves many acknowledgements.
//
// Callbacks run on the flusher thread and must be cheap (post to a reactor and return).
// A waiter whose offset is already below the log's recovery point is answered at once,
// on the caller's thread. Before start() and after stop(), waiters are served inline on
// the caller's thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace strata::storage {

class log;

class group_commit_flusher {
 public:
  using callback = std::function<void(std::error_code)>;

  group_commit_flusher() = default;
  ~group_commit_flusher();
  group_commit_flusher(const group_commit_flusher&) = delete;
  group_commit_flusher& operator=(const group_commit_flusher&) = delete;

  void start();
  // Serves every queued waiter, then stops the thread.
  void stop();

  // Calls done(ec) once everything below `offset` in `lg` is fsynced (ec empty) or the
  // fsync failed (ec says why). `done` may be empty: a plain background flush request.
  void flush_then(std::shared_ptr<log> lg, int64_t offset, callback done);

  uint64_t rounds() const { return rounds_.load(); }
  uint64_t fsyncs() const { return fsyncs_.load(); }

 private:
  struct waiter {
    std::shared_ptr<log> lg;
    int64_t offset;
    callback done;
  };
  void run();
  void serve(std::vector<waiter>& batch);

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<waiter> queue_;
  bool running_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<uint64_t> rounds_{0};
  std::atomic<uint64_t> fsyncs_{0};
};

}  // namespace strata::storage
