// log: append, roll, truncation, flush and bookkeeping. Reads are in log_read.cc,
// retention in log_retention.cc, loading and recovery in log_loader.cc.
#include "storage/log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "base/log_limiter.h"
#include "protocol/records/batch_header.h"
#include "storage/file_names.h"
#include "storage/segment.h"

namespace strata::storage {
namespace {

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a walk over the append buffer learns before anything is written.
struct buffer_summary {
  int32_t batches = 0;
  int64_t offset_count = 0;                // records' offsets the buffer spans
  int64_t max_timestamp = -1;
  int64_t offset_delta_of_max_timestamp = 0;  // relative to the first batch
  int64_t first_batch_max_timestamp = -1;
  // Replicated batches keep their offsets: the first base offset and the last offset
  // the buffer holds, and whether each batch starts where the previous one ended (a
  // segment's offsets are contiguous: see segment::recover).
  int64_t first_base = -1;
  int64_t last_offset = -1;
  bool contiguous = true;
};

// Checks the framing the log relies on (whole batches, magic 2, sane lengths). Content
// (CRC, records) was validated by the broker before the call.
bool summarize(std::span<const uint8_t> buf, buffer_summary* s) {
  size_t pos = 0;
  while (pos < buf.size()) {
    if (buf.size() - pos < records::kBatchHeaderSize) return false;
    records::batch_header_view h(buf.data() + pos);
    if (h.magic() != 2 || h.batch_length() < int32_t(records::kBatchHeaderSize - records::kLogOverhead) ||
        uint64_t(h.total_size()) > buf.size() - pos || h.last_offset_delta() < 0) {
      return false;
    }
    int64_t ts = h.max_timestamp();
    if (s->batches == 0) {
      s->first_batch_max_timestamp = ts;
      s->first_base = h.base_offset();
    } else if (h.base_offset() != s->last_offset + 1) {
      s->contiguous = false;
    }
    if (ts > s->max_timestamp) {
      s->max_timestamp = ts;
      s->offset_delta_of_max_timestamp = s->offset_count + h.last_offset_delta();
    }
    s->offset_count += int64_t(h.last_offset_delta()) + 1;
    s->last_offset = h.base_offset() + h.last_offset_delta();
    s->batches++;
    pos += size_t(h.total_size());
  }
  return s->batches > 0;
}

}  // namespace

log::log(const log_open_options& opts)
    : fs_(*opts.fs),
      dir_(opts.dir),
      topic_(opts.topic),
      partition_(opts.partition),
      config_(opts.config),
      epochs_(*opts.fs, opts.dir + "/" + std::string(kLeaderEpochCheckpoint)) {}

log::~log() = default;

std::shared_ptr<const log::segment_list> log::snapshot() const {
  std::lock_guard lk(snap_mu_);
  return snapshot_;
}

void log::publish_locked() {
  auto s = std::make_shared<const segment_list>(segments_);
  std::lock_guard lk(snap_mu_);
  snapshot_ = std::move(s);
}

result<append_result> log::append(std::span<uint8_t> batches, int32_t leader_epoch,
                                  int64_t append_time_ms) {
  return append_impl(batches, leader_epoch, append_time_ms, /*replicated=*/false);
}

result<append_result> log::append_replicated(std::span<uint8_t> batches, int64_t append_time_ms) {
  return append_impl(batches, -1, append_time_ms, /*replicated=*/true);
}

result<append_result> log::append_impl(std::span<uint8_t> batches, int32_t leader_epoch, int64_t append_time_ms,
                                       bool replicated) {
  append_result out;
  buffer_summary sum;
  if (!summarize(batches, &sum)) return errc::invalid_batch;
  if (replicated && !sum.contiguous) return errc::invalid_batch;
  bool rolled = false;
  bool want_flush = false;
  bool epoch_changed = false;
  std::shared_ptr<const std::function<void()>> listener;
  // An I/O failure met under the lock, reported (fail_io) once the lock is released.
  std::error_code io_failure;
  const char* io_what = "";
  auto locked = [&]() -> std::error_code {
    std::lock_guard lk(mu_);
    if (closed_) return errc::log_closed;
    if (offline_.load()) return errc::log_offline;
    if (int64_t(batches.size()) > config_.segment_bytes) return errc::batch_too_large;
    const int64_t leo = leo_.load(std::memory_order_relaxed);
    // A follower keeps the leader's offsets: they continue its log end exactly (the
    // follower truncates, or restarts its log at the leader's log start, first).
    if (replicated && sum.first_base != leo) return errc::invalid_offset;
    const int64_t base = replicated ? sum.first_base : leo;
    const int64_t last = replicated ? sum.last_offset : base + sum.offset_count - 1;
    if (active_->should_roll(batches.size(), sum.max_timestamp, last, append_time_ms, config_)) {
      if (active_->size() > 0 || active_->base_offset() != base) {
        if (auto ec = roll_locked(append_time_ms)) {
          if (ec == errc::io_error || ec == errc::not_found) {
            io_failure = ec;
            io_what = "rolling a new segment";
          }
          return ec;
        }
        rolled = true;
      }
    }
    // Stamp offsets and the leader epoch in place: both are outside the CRC. Replicated
    // batches are stored as the leader wrote them.
    int64_t next = last + 1;
    if (!replicated) {
      next = base;
      for (size_t pos = 0; pos < batches.size();) {
        records::batch_header_mut h(batches.data() + pos);
        h.set_base_offset(next);
        if (leader_epoch >= 0) h.set_partition_leader_epoch(leader_epoch);
        next += int64_t(h.view().last_offset_delta()) + 1;
        pos += size_t(h.view().total_size());
      }
    }
    segment_append a{last, sum.max_timestamp, base + sum.offset_delta_of_max_timestamp,
                     sum.first_batch_max_timestamp};
    bool unrecoverable = false;
    if (auto ec = active_->append(batches, a, config_.index_interval_bytes, &unrecoverable)) {
      if (unrecoverable || ec == errc::io_error) {
        // Never acknowledged, and nothing after it either: the log (and its log
        // directory) goes offline.
        offline_.store(true);
        io_failure = ec;
        io_what = unrecoverable ? "append (the segment could not be cut back)" : "append";
      } else {
        // A full disk rejects every write: one line per 5 s, with the count.
        STRATA_LOG_LIMITED(spdlog::level::warn, "storage: {}-{}: append of {} bytes failed: {}", topic_, partition_,
                           batches.size(), ec.message());
      }
      return ec;
    }
    if (leader_epoch >= 0) epoch_changed = epochs_.assign(leader_epoch, base);
    if (replicated) {
      // A follower learns the leader's epochs from the batches (DESIGN-NOTES §6).
      for (size_t pos = 0; pos < batches.size();) {
        records::batch_header_view h(batches.data() + pos);
        const int32_t e = h.partition_leader_epoch();
        if (e >= 0 && epochs_.latest_epoch().value_or(-1) < e && epochs_.assign(e, h.base_offset()))
          epoch_changed = true;
        pos += size_t(h.total_size());
      }
    }
    leo_.store(next, std::memory_order_release);
    if (hw_follows_leo_.load(std::memory_order_relaxed)) hw_.store(next, std::memory_order_release);
    want_flush = next - recovery_point_.load(std::memory_order_relaxed) >=
                 config_.flush_interval_messages;
    listener = listener_;
    out.base_offset = base;
    out.last_offset = last;
    out.log_append_time_ms = append_time_ms;
    out.log_start_offset = log_start_.load(std::memory_order_relaxed);
    out.batches = sum.batches;
    return {};
  }();
  if (locked) {
    if (io_failure) fail_io(io_failure, io_what);
    return locked;
  }
  if (epoch_changed) {
    if (auto ec = epochs_.flush()) {
      // Kafka's LogDirFailureChannel too: the epoch cache on disk would be behind.
      if (ec != errc::no_space) fail_io(ec, "writing leader-epoch-checkpoint");
      STRATA_LOG_LIMITED(spdlog::level::warn, "storage: {}-{}: writing leader-epoch-checkpoint failed: {}", topic_,
                   partition_, ec.message());
    }
  }
  if (rolled || want_flush) request_flush();
  if (listener && *listener) (*listener)();
  return out;
}

std::error_code log::roll_locked(int64_t now_ms) {
  int64_t base = leo_.load(std::memory_order_relaxed);
  auto seg = segment::create(fs_, dir_, base, config_, now_ms);
  if (!seg) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "storage: {}-{}: rolling a new segment at {} failed: {}", topic_, partition_,
                 base, seg.error().message());
    // Do not leave a half-created segment behind for the loader to find.
    fs_.remove(dir_ + "/" + segment_file_name(base, kLogSuffix));
    fs_.remove(dir_ + "/" + segment_file_name(base, kIndexSuffix));
    fs_.remove(dir_ + "/" + segment_file_name(base, kTimeIndexSuffix));
    return seg.error();
  }
  active_->on_become_inactive();
  active_ = std::move(seg).value();
  segments_.push_back(active_);
  publish_locked();
  dir_dirty_.store(true);
  return {};
}

void log::request_flush() {
  std::shared_ptr<const std::function<void()>> sched;
  {
    std::lock_guard lk(mu_);
    sched = flush_scheduler_;
  }
  if (sched && *sched) {
    (*sched)();
  } else if (auto ec = flush()) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "storage: {}-{}: flush failed: {}", topic_, partition_, ec.message());
  }
}

void log::set_high_watermark(int64_t hw) {
  std::lock_guard lk(mu_);
  hw = std::clamp(hw, log_start_.load(), leo_.load());
  hw_.store(hw, std::memory_order_release);
}

std::error_code log::flush() {
  std::lock_guard f(flush_mu_);
  int64_t target;
  std::vector<std::pair<std::shared_ptr<segment>, bool>> todo;  // segment, finished
  {
    std::lock_guard lk(mu_);
    if (offline_.load()) return make_error_code(errc::log_offline);
    target = leo_.load(std::memory_order_relaxed);
    int64_t rp = recovery_point_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < segments_.size(); ++i) {
      bool last = i + 1 == segments_.size();
      int64_t end = last ? target : segments_[i + 1]->base_offset();
      if (end > rp || last) todo.emplace_back(segments_[i], !last);
    }
  }
  bool dir_dirty = dir_dirty_.exchange(false);
  for (auto& [seg, finished] : todo) {
    if (auto ec = seg->flush(finished)) {
      // The page cache may have dropped the data: never carry on (fsyncgate).
      fail_io(ec, "fsync");
      return ec;
    }
  }
  if (dir_dirty) {
    if (auto ec = fs_.sync_dir(dir_)) {
      dir_dirty_.store(true);
      fail_io(ec, "directory fsync");
      return ec;
    }
  }
  int64_t cur = recovery_point_.load();
  while (cur < target && !recovery_point_.compare_exchange_weak(cur, target)) {
  }
  last_flush_ms_.store(wall_clock_ms());
  return {};
}

std::error_code log::flush_if_due(int64_t now_ms) {
  int64_t interval;
  {
    std::lock_guard lk(mu_);
    interval = config_.flush_interval_ms;
  }
  if (!has_unflushed_data() || now_ms - last_flush_ms_.load() < interval) return {};
  return flush();
}

std::error_code log::truncate_to(int64_t offset) { return truncate_impl(offset, /*fully=*/false); }

std::error_code log::truncate_fully_and_start_at(int64_t offset) { return truncate_impl(offset, /*fully=*/true); }

std::error_code log::truncate_impl(int64_t offset, bool fully) {
  if (offset < 0) return make_error_code(errc::invalid_offset);
  std::error_code io_failure;
  bool nothing_to_cut = false;
  bool epochs_dropped = false;
  auto locked = [&]() -> std::error_code {
    std::lock_guard lk(mu_);
    if (closed_) return make_error_code(errc::log_closed);
    if (offline_.load()) return make_error_code(errc::log_offline);
    if (!fully && offset >= leo_.load()) {
      // No record to cut, but an epoch may start at the end with no record in it: this
      // broker led that epoch and appended nothing before it lost the leadership. The
      // leader never had that epoch; kept, it would be this log's latest epoch, the
      // follower would name it as its last fetched epoch, and the leader would answer
      // DivergingEpoch forever (Kafka's UnifiedLog.truncateTo: "always truncate epoch
      // cache since we may have a conflicting epoch entry at the end of the log").
      epochs_dropped = epochs_.truncate_from_end(leo_.load());
      nothing_to_cut = true;
      return {};
    }
    if (fully || offset < log_start_.load() || offset <= segments_.front()->base_offset()) {
      // Kafka's truncateFullyAndStartAt: nothing below the target survives. The old files
      // go first, since a segment at the target offset would have the new one's name.
      for (auto& s : segments_) s->remove_files();
      auto seg = segment::create(fs_, dir_, offset, config_, wall_clock_ms());
      if (!seg) {
        // The old segments stay listed (their descriptors still serve reads) but the
        // directory no longer matches them: refuse writes until a restart.
        offline_.store(true);
        io_failure = seg.error();
        return seg.error();
      }
      segments_.clear();
      segments_.push_back(std::move(seg).value());
      log_start_.store(offset);
      // Everything below the new start is gone, so it is all "known": a restart above
      // the old end (a follower behind the leader's log start) starts the HW there too.
      if (hw_.load() < offset) hw_.store(offset);
      if (recovery_point_.load() < offset) recovery_point_.store(offset);
      epochs_.clear();  // Kafka's truncateFullyAndStartAt clears the cache
    } else {
      // Removed under the lock: a roll right after it could reuse a removed base offset.
      while (segments_.back()->base_offset() > offset) {
        segments_.back()->remove_files();
        segments_.pop_back();
      }
      auto cut = segments_.back()->truncate_to(offset);
      if (!cut) {
        offline_.store(true);
        io_failure = cut.error();
        return cut.error();
      }
    }
    active_ = segments_.back();
    publish_locked();
    int64_t leo = active_->next_offset();
    leo_.store(leo, std::memory_order_release);
    if (hw_.load() > leo) hw_.store(leo);
    if (recovery_point_.load() > leo) recovery_point_.store(leo);
    // What was cleaned past the new end is gone; records appended there are dirty.
    if (first_dirty_.load() > leo) first_dirty_.store(leo, std::memory_order_release);
    epochs_.truncate_from_end(leo);
    return {};
  }();
  if (io_failure) fail_io(io_failure, "truncation");
  if (locked) return locked;
  if (nothing_to_cut) {
    if (epochs_dropped) flush_epochs_after_truncation();
    return {};
  }
  dir_dirty_.store(true);
  flush_epochs_after_truncation();
  return {};
}

std::error_code log::assign_leader_epoch(int32_t epoch) {
  bool changed;
  {
    std::lock_guard lk(mu_);
    changed = epochs_.assign(epoch, leo_.load());
  }
  return changed ? epochs_.flush() : std::error_code{};
}

int32_t log::epoch_for_offset(int64_t offset) const {
  return epochs_.epoch_for_offset(offset).value_or(-1);
}

std::pair<int32_t, int64_t> log::end_offset_for_epoch(int32_t epoch) const {
  return epochs_.end_offset_for(epoch, log_end_offset());
}

uint64_t log::size_bytes() const {
  uint64_t total = 0;
  for (const auto& s : *snapshot()) total += s->size();
  return total;
}

size_t log::segments_count() const { return snapshot()->size(); }

log_config log::config() const {
  std::lock_guard lk(mu_);
  return config_;
}

void log::set_config(const log_config& cfg) {
  std::lock_guard lk(mu_);
  config_ = cfg;
  for (auto& s : segments_) s->set_index_interval(cfg.index_interval_bytes);
}

void log::set_append_listener(std::function<void()> fn) {
  auto p = std::make_shared<const std::function<void()>>(std::move(fn));
  std::lock_guard lk(mu_);
  listener_ = std::move(p);
}

void log::set_failure_listener(failure_listener fn) {
  std::lock_guard lk(failure_mu_);
  failure_listener_ = std::move(fn);
}

void log::fail_io(std::error_code ec, const std::string& what) const {
  offline_.store(true);
  if (failure_reported_.exchange(true)) return;  // once: the directory is offline already
  spdlog::error("storage: {}-{}: {} failed in {}: {}; the log is offline", topic_, partition_, what, dir_,
                ec.message());
  failure_listener fn;
  {
    std::lock_guard lk(failure_mu_);
    fn = failure_listener_;
  }
  if (fn) fn(*this, ec, what);
}

void log::set_flush_scheduler(std::function<void()> fn) {
  auto p = std::make_shared<const std::function<void()>>(std::move(fn));
  std::lock_guard lk(mu_);
  flush_scheduler_ = std::move(p);
}

std::error_code log::close() {
  // An offline log may hold torn data: report it, so no clean-shutdown marker vouches
  // for it and the next start recovers it.
  std::error_code first_error =
      offline_.load() ? make_error_code(errc::log_offline) : flush();
  std::lock_guard lk(mu_);
  if (closed_) return first_error;
  closed_ = true;
  for (auto& s : segments_) {
    if (auto ec = s->close(); ec && !first_error) first_error = ec;
  }
  return first_error;
}

void log::mark_deleted() {
  std::lock_guard lk(mu_);
  closed_ = true;
}

}  // namespace strata::storage
