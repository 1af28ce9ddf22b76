#include "storage/group_commit_flusher.h"

#include <algorithm>
#include <pthread.h>

#include "storage/log.h"

namespace strata::storage {

group_commit_flusher::group_commit_flusher(int max_threads) : max_threads_(std::max(1, max_threads)) {}

group_commit_flusher::~group_commit_flusher() { stop(); }

void group_commit_flusher::set_max_threads(int n) {
  std::lock_guard lk(mu_);
  max_threads_ = std::max(1, n);
}

int group_commit_flusher::threads() const {
  std::lock_guard lk(mu_);
  return static_cast<int>(threads_.size());
}

void group_commit_flusher::start() {
  std::lock_guard lk(mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  spawn_locked();
}

void group_commit_flusher::spawn_locked() {
  threads_.emplace_back([this] {
    pthread_setname_np(pthread_self(), "flusher");
    worker();
  });
}

void group_commit_flusher::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lk(mu_);
    if (!running_) return;
    stopping_ = true;
    // No worker is spawned once stopping_ is set, so this is every thread.
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
  std::lock_guard lk(mu_);
  running_ = false;
}

void group_commit_flusher::flush_then(std::shared_ptr<log> lg, int64_t offset, callback done) {
  if (done && lg->recovery_point() >= offset && !lg->offline()) {
    done({});
    return;
  }
  {
    std::unique_lock lk(mu_);
    if (running_ && !stopping_) {
      log* key = lg.get();
      auto& p = pending_[key];
      if (!p.lg) p.lg = std::move(lg);
      p.waiters.push_back({offset, std::move(done)});
      // A log being synced is made ready again by its worker when the sync ends: its
      // new waiters may need data appended after that sync began.
      if (!p.ready && !p.in_flight) {
        p.ready = true;
        ready_.push_back(key);
        if (static_cast<int>(ready_.size()) > idle_ && static_cast<int>(threads_.size()) < max_threads_) {
          spawn_locked();
        } else {
          lk.unlock();
          cv_.notify_one();
        }
      }
      return;
    }
  }
  std::vector<waiter> one;
  one.push_back({offset, std::move(done)});
  serve(*lg, one);
}

void group_commit_flusher::worker() {
  std::unique_lock lk(mu_);
  for (;;) {
    ++idle_;
    cv_.wait(lk, [&] { return stopping_ || !ready_.empty(); });
    --idle_;
    // Stopping: leave only when nothing is ready. A log still in flight on another
    // worker is made ready (and served) by that worker, which loops back here.
    if (ready_.empty()) return;
    log* key = ready_.front();
    ready_.pop_front();
    auto& p = pending_.at(key);
    p.ready = false;
    p.in_flight = true;
    std::shared_ptr<log> lg = p.lg;
    std::vector<waiter> batch;
    batch.swap(p.waiters);
    int busy = ++busy_;
    int peak = peak_busy_.load(std::memory_order_relaxed);
    while (busy > peak && !peak_busy_.compare_exchange_weak(peak, busy)) {
    }
    lk.unlock();

    serve(*lg, batch);
    batch.clear();  // the callbacks' captures are released outside the lock

    lk.lock();
    --busy_;
    auto it = pending_.find(key);
    it->second.in_flight = false;
    if (it->second.waiters.empty()) {
      pending_.erase(it);
    } else {
      it->second.ready = true;
      ready_.push_back(key);
      // This worker loops and takes the head of the queue itself; no wake-up needed.
    }
  }
}

void group_commit_flusher::serve(log& lg, std::vector<waiter>& batch) {
  rounds_.fetch_add(1);
  // One fsync for the whole batch, covering the highest offset any waiter needs. Every
  // waiter's append happened before it was queued, hence before this flush starts, and
  // flush() syncs up to the log end offset it sees when it starts.
  int64_t target = 0;
  for (const auto& w : batch) target = std::max(target, w.offset);
  std::error_code ec;
  if (lg.recovery_point() < target) {
    fsyncs_.fetch_add(1);
    ec = lg.flush();
  }
  for (auto& w : batch) {
    if (w.done) w.done(ec);
  }
}

}  // namespace strata::storage
