// log: deleting whole segments from the front (retention.ms, retention.bytes, and the
// log start offset moved by DeleteRecords). Matches Kafka's UnifiedLog.deleteOldSegments
// and deletableSegments.
#include <spdlog/spdlog.h>

#include "base/log_limiter.h"
#include "storage/log.h"
#include "storage/segment.h"

namespace strata::storage {

// Takes the deletable prefix of the segment list off the log. A segment is deletable if
// it lies wholly below the high watermark and one of these holds:
//   1. the next segment starts at or below the log start offset;
//   2. (retention) its newest batch is older than retention.ms;
//   3. (retention) the log minus it is still at least retention.bytes.
// The walk stops at the first segment that is not deletable. An empty active segment is
// never deleted; if every segment goes, a new empty one is rolled first so the log
// always has an active segment at its end offset.
std::vector<std::shared_ptr<segment>> log::take_deletable_locked(int64_t now_ms, bool retention) {
  const int64_t hw = hw_.load();
  const int64_t leo = leo_.load();
  const int64_t log_start = log_start_.load();
  const size_t n = segments_.size();
  int64_t size_excess = -1;
  if (retention && config_.retention_bytes >= 0) {
    int64_t total = 0;
    for (const auto& s : segments_) total += int64_t(s->size());
    size_excess = total - config_.retention_bytes;
  }
  size_t k = 0;
  for (; k < n; ++k) {
    segment& seg = *segments_[k];
    const bool last = k + 1 == n;
    const int64_t upper = last ? leo : segments_[k + 1]->base_offset();
    if (upper > hw || (last && seg.size() == 0)) break;
    bool del = !last && segments_[k + 1]->base_offset() <= log_start;
    if (!del && retention && config_.retention_ms >= 0) {
      del = now_ms - seg.largest_timestamp_for_retention() > config_.retention_ms;
    }
    if (!del && size_excess >= 0) del = size_excess - int64_t(seg.size()) >= 0;
    if (!del) break;
    if (size_excess >= 0) size_excess -= int64_t(seg.size());
  }
  if (k == 0) return {};
  if (k == n && roll_locked(now_ms)) {
    k = n - 1;  // could not roll: keep the active segment
    if (k == 0) return {};
  }
  std::vector<std::shared_ptr<segment>> removed(segments_.begin(), segments_.begin() + long(k));
  segments_.erase(segments_.begin(), segments_.begin() + long(k));
  publish_locked();
  int64_t new_start = std::max(log_start, segments_.front()->base_offset());
  log_start_.store(new_start, std::memory_order_release);
  if (hw_.load() < new_start) hw_.store(new_start);
  if (recovery_point_.load() < new_start) recovery_point_.store(new_start);
  return removed;
}

// Kafka writes the checkpoint lazily after truncation: a stale file is harmless because
// loading truncates the cache again (DESIGN-NOTES §5.6). So a failure is only logged.
void log::flush_epochs_after_truncation() {
  if (auto ec = epochs_.flush()) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "storage: {}-{}: writing leader-epoch-checkpoint failed: {}", topic_, partition_,
                 ec.message());
  }
}

result<size_t> log::delete_segments(int64_t now_ms, bool retention) {
  // Load each segment's max timestamp before taking the lock: the first call maps the
  // time index of an old segment, which should not stall appends.
  if (retention) {
    for (const auto& s : *snapshot()) s->largest_timestamp_for_retention();
  }
  std::vector<std::shared_ptr<segment>> removed;
  bool epochs_changed = false;
  {
    std::lock_guard lk(mu_);
    if (closed_) return size_t(0);
    removed = take_deletable_locked(now_ms, retention);
    if (!removed.empty()) epochs_changed = epochs_.truncate_from_start(log_start_.load());
  }
  for (auto& s : removed) {
    spdlog::info("storage: {}-{}: deleting segment {} ({})", topic_, partition_, s->base_offset(),
                 retention ? "retention" : "log start offset");
    s->remove_files();
  }
  if (epochs_changed) flush_epochs_after_truncation();
  return removed.size();
}

result<size_t> log::delete_old_segments(int64_t now_ms) { return delete_segments(now_ms, true); }

std::error_code log::delete_records_before(int64_t offset) {
  bool epochs_changed = false;
  {
    std::lock_guard lk(mu_);
    if (closed_) return make_error_code(errc::log_closed);
    if (offset < 0 || offset > hw_.load()) return make_error_code(errc::offset_out_of_range);
    if (offset > log_start_.load()) {
      log_start_.store(offset, std::memory_order_release);
      epochs_changed = epochs_.truncate_from_start(offset);
    }
  }
  // Segments first: on a full disk their removal is what makes room for the checkpoint.
  auto deleted = delete_segments(0, false);
  if (epochs_changed) flush_epochs_after_truncation();
  return deleted.error();
}

}  // namespace strata::storage
