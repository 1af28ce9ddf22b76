#include "storage/group_commit_flusher.h"

#include <unordered_map>

#include "storage/log.h"

namespace strata::storage {

group_commit_flusher::~group_commit_flusher() { stop(); }

void group_commit_flusher::start() {
  std::lock_guard lk(mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void group_commit_flusher::stop() {
  {
    std::lock_guard lk(mu_);
    if (!running_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
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
      queue_.push_back({std::move(lg), offset, std::move(done)});
      lk.unlock();
      cv_.notify_one();
      return;
    }
  }
  std::vector<waiter> one;
  one.push_back({std::move(lg), offset, std::move(done)});
  serve(one);
}

void group_commit_flusher::run() {
  std::vector<waiter> batch;
  while (true) {
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);
    }
    serve(batch);
    batch.clear();
  }
}

void group_commit_flusher::serve(std::vector<waiter>& batch) {
  rounds_.fetch_add(1);
  // One fsync per log, covering the highest offset any of its waiters needs.
  std::unordered_map<log*, std::pair<int64_t, std::error_code>> per_log;
  for (const auto& w : batch) {
    auto& e = per_log[w.lg.get()];
    e.first = std::max(e.first, w.offset);
  }
  for (auto& [lg, e] : per_log) {
    if (lg->recovery_point() >= e.first) continue;
    fsyncs_.fetch_add(1);
    e.second = lg->flush();
  }
  for (auto& w : batch) {
    if (w.done) w.done(per_log[w.lg.get()].second);
  }
}

}  // namespace strata::storage
