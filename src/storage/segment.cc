#include "storage/segment.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "storage/file_names.h"

namespace strata::storage {

segment::segment(fs::file_system& fs, std::string dir, int64_t base, std::shared_ptr<fs::file> log,
                 uint64_t size, size_t index_capacity, int64_t now_ms)
    : fs_(fs),
      dir_(std::move(dir)),
      base_offset_(base),
      log_(std::move(log)),
      size_(size),
      index_capacity_(index_capacity),
      created_ms_(now_ms) {}

segment::~segment() = default;

std::string segment::path(std::string_view suffix) const {
  return dir_ + "/" + segment_file_name(base_offset_, suffix);
}

result<std::shared_ptr<segment>> segment::create(fs::file_system& fs, const std::string& dir,
                                                 int64_t base_offset, const log_config& cfg,
                                                 int64_t now_ms) {
  std::string log_path = dir + "/" + segment_file_name(base_offset, kLogSuffix);
  auto f = fs.open(log_path, fs::open_mode::read_write_create);
  if (!f) return f.error();
  auto size = f.value()->size();
  if (!size) return size.error();
  // A leftover file at this base offset (from a truncation that crashed half way) holds
  // nothing we still want: the log end offset says where valid data ends.
  if (size.value() != 0) {
    if (auto ec = f.value()->truncate(0)) return ec;
  }
  std::shared_ptr<segment> s(new segment(fs, dir, base_offset, std::move(f).value(), 0,
                                         size_t(cfg.segment_index_bytes), now_ms));
  s->index_interval_.store(cfg.index_interval_bytes);
  std::lock_guard lk(s->index_mu_);
  if (auto ec = s->open_indexes_locked()) return ec;
  if (auto ec = s->offsets_->reset()) return ec;
  if (auto ec = s->times_->reset()) return ec;
  s->max_ts_known_ = true;
  s->next_offset_.store(base_offset);
  s->indexes_ready_.store(true, std::memory_order_release);
  return s;
}

result<std::shared_ptr<segment>> segment::open(fs::file_system& fs, const std::string& dir,
                                               int64_t base_offset, const log_config& cfg,
                                               int64_t now_ms) {
  std::string log_path = dir + "/" + segment_file_name(base_offset, kLogSuffix);
  auto f = fs.open(log_path, fs::open_mode::read_write);
  if (!f) return f.error();
  auto size = f.value()->size();
  if (!size) return size.error();
  std::shared_ptr<segment> s(new segment(fs, dir, base_offset, std::move(f).value(), size.value(),
                                         size_t(cfg.segment_index_bytes), now_ms));
  s->index_interval_.store(cfg.index_interval_bytes);
  s->had_index_files_ = fs.exists(s->path(kIndexSuffix)) && fs.exists(s->path(kTimeIndexSuffix));
  return s;
}

std::error_code segment::open_indexes_locked() {
  if (offsets_) return {};
  auto oi = offset_index::open(fs_, path(kIndexSuffix), base_offset_, index_capacity_);
  if (!oi) return oi.error();
  auto ti = time_index::open(fs_, path(kTimeIndexSuffix), base_offset_, index_capacity_);
  if (!ti) return ti.error();
  offsets_ = std::move(oi).value();
  times_ = std::move(ti).value();
  return {};
}

std::error_code segment::ensure_indexes() {
  if (indexes_ready_.load(std::memory_order_acquire)) return {};
  std::lock_guard lk(index_mu_);
  if (indexes_ready_.load(std::memory_order_relaxed)) return {};
  if (auto ec = open_indexes_locked()) return ec;
  uint64_t log_size = size();
  bool ok = offsets_->load(log_size) && times_->load();
  // An empty offset index over a .log of several index intervals (possible only when
  // the last batch alone is larger than an interval), or an empty time index beside a
  // non-empty offset index, was probably zeroed or lost: rebuilding is a header scan.
  if (ok && offsets_->entries() == 0 &&
      log_size > 2 * uint64_t(std::max(index_interval_.load(), 1))) {
    ok = false;
  }
  if (ok && offsets_->entries() > 0 && times_->entries() == 0) ok = false;
  if (!ok) {
    spdlog::warn("storage: rebuilding damaged index of {}", path(kLogSuffix));
    if (auto ec = rebuild_indexes_locked()) return ec;
  }
  {
    std::lock_guard m(max_ts_mu_);
    if (!max_ts_known_) {
      auto last = times_->last_entry();
      if (last.timestamp >= 0) max_ts_ = last;
      max_ts_known_ = true;
    }
  }
  indexes_ready_.store(true, std::memory_order_release);
  return {};
}

void segment::index_batch(const batch_info& b, int32_t interval) {
  note_timestamp(b.max_timestamp, b.last_offset);
  if (bytes_since_last_index_entry_ > uint64_t(std::max(interval, 0))) {
    offsets_->append(b.last_offset, uint32_t(b.position));
    timestamp_offset m;
    {
      std::lock_guard lk(max_ts_mu_);
      m = max_ts_;
    }
    if (m.timestamp >= 0) times_->maybe_append(m.timestamp, m.offset);
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += b.size;
}

std::error_code segment::build_indexes() {
  std::lock_guard lk(index_mu_);
  if (!indexes_ready_.load(std::memory_order_relaxed)) {
    if (auto ec = open_indexes_locked()) return ec;
  }
  if (auto ec = rebuild_indexes_locked()) return ec;
  indexes_ready_.store(true, std::memory_order_release);
  return {};
}

std::error_code segment::rebuild_indexes_locked() {
  if (auto ec = offsets_->reset()) return ec;
  if (auto ec = times_->reset()) return ec;
  {
    std::lock_guard m(max_ts_mu_);
    max_ts_ = {-1, -1};
    max_ts_known_ = true;
  }
  bytes_since_last_index_entry_ = 0;
  batch_reader r(*log_, 0, size(), false);
  batch_info b;
  scan_status st;
  while ((st = r.next(&b)) == scan_status::ok) index_batch(b, index_interval_.load());
  if (st == scan_status::io_error) return make_error_code(errc::io_error);
  return {};
}

void segment::note_timestamp(int64_t ts, int64_t offset) {
  std::lock_guard lk(max_ts_mu_);
  if (ts > max_ts_.timestamp) max_ts_ = {ts, offset};
}

timestamp_offset segment::max_timestamp() {
  if (ensure_indexes()) return {-1, -1};
  std::lock_guard lk(max_ts_mu_);
  return max_ts_;
}

int64_t segment::largest_timestamp_for_retention() {
  auto m = max_timestamp();
  if (m.timestamp >= 0) return m.timestamp;
  auto mt = log_->modified_time_ms();
  return mt ? mt.value() : std::numeric_limits<int64_t>::max();
}

scan_status segment::find_batch(int64_t target, uint64_t limit, batch_info* out) {
  if (ensure_indexes()) return scan_status::io_error;
  auto start = offsets_->lookup(target);
  uint64_t pos = start.position;
  int64_t prev_last = -1;
  while (true) {
    auto st = read_batch_header(*log_, pos, limit, out);
    if (st != scan_status::ok) return st;
    // Offsets must increase; anything else is a concurrent truncation or damage.
    if (out->base_offset <= prev_last) return scan_status::corrupt;
    if (out->last_offset >= target) return scan_status::ok;
    prev_last = out->last_offset;
    pos += out->size;
  }
}

bool segment::should_roll(uint64_t append_bytes, int64_t append_max_timestamp,
                          int64_t last_offset, int64_t now_ms, const log_config& cfg) const {
  uint64_t sz = size();
  int64_t waited = rolling_based_timestamp_ ? append_max_timestamp - *rolling_based_timestamp_
                                            : now_ms - created_ms_;
  bool reached_roll_ms = sz > 0 && waited > cfg.segment_ms;
  return int64_t(sz) > cfg.segment_bytes - int64_t(append_bytes) || reached_roll_ms ||
         offsets_->full() || times_->full() ||
         last_offset - base_offset_ > int64_t(std::numeric_limits<int32_t>::max());
}

std::error_code segment::append(std::span<const uint8_t> data, const segment_append& a,
                                int32_t index_interval_bytes, bool* unrecoverable) {
  uint64_t pos = size();
  if (auto ec = log_->pwrite_all(data.data(), data.size(), pos)) {
    // Cut back whatever part of the write reached the file, so the .log still ends with
    // a whole batch. If even that fails the log cannot be trusted any more.
    if (log_->truncate(pos)) *unrecoverable = true;
    return ec;
  }
  if (pos == 0) rolling_based_timestamp_ = a.first_batch_max_timestamp;
  note_timestamp(a.max_timestamp, a.offset_of_max_timestamp);
  if (bytes_since_last_index_entry_ > uint64_t(std::max(index_interval_bytes, 0))) {
    offsets_->append(a.last_offset, uint32_t(pos));
    timestamp_offset m;
    {
      std::lock_guard lk(max_ts_mu_);
      m = max_ts_;
    }
    if (m.timestamp >= 0) times_->maybe_append(m.timestamp, m.offset);
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += data.size();
  size_.store(pos + data.size(), std::memory_order_release);
  next_offset_.store(a.last_offset + 1, std::memory_order_release);
  return {};
}

result<segment_scan> segment::recover(int32_t index_interval_bytes, bool verify_crc,
                                      const std::function<void(const batch_info&)>& on_batch) {
  std::lock_guard lk(index_mu_);
  if (auto ec = open_indexes_locked()) return ec;
  if (auto ec = offsets_->reset()) return ec;
  if (auto ec = times_->reset()) return ec;
  {
    std::lock_guard m(max_ts_mu_);
    max_ts_ = {-1, -1};
    max_ts_known_ = true;
  }
  bytes_since_last_index_entry_ = 0;
  rolling_based_timestamp_.reset();
  auto file_size = log_->size();
  if (!file_size) return file_size.error();

  segment_scan out;
  out.next_offset = base_offset_;
  batch_reader r(*log_, 0, file_size.value(), verify_crc);
  batch_info b;
  int64_t prev_last = base_offset_ - 1;
  while (true) {
    auto st = r.next(&b);
    if (st == scan_status::io_error) return make_error_code(errc::io_error);
    // Offsets must continue exactly where the previous batch ended (the first batch
    // starts at the base offset) and fit the segment's relative offsets. Deviation:
    // Kafka only asks for increasing offsets, because its compaction leaves gaps.
    // Strata's cleaner writes an empty batch over each run of removed batches instead
    // (log_cleaner.cc), so exact continuity holds and also catches a damaged
    // base_offset, which the CRC does not cover.
    if (st == scan_status::ok &&
        (b.base_offset != prev_last + 1 ||
         b.last_offset - base_offset_ > int64_t(std::numeric_limits<int32_t>::max()))) {
      st = scan_status::corrupt;
    }
    if (st != scan_status::ok) {
      out.status = st;
      break;
    }
    if (b.position == 0) rolling_based_timestamp_ = b.max_timestamp;
    index_batch(b, index_interval_bytes);
    if (on_batch) on_batch(b);
    prev_last = b.last_offset;
    out.valid_bytes = b.position + b.size;
    out.next_offset = b.last_offset + 1;
  }
  if (out.valid_bytes < file_size.value()) {
    out.truncated_bytes = file_size.value() - out.valid_bytes;
    if (auto ec = log_->truncate(out.valid_bytes)) return ec;
  }
  {
    std::lock_guard m(max_ts_mu_);
    if (max_ts_.timestamp >= 0) times_->maybe_append(max_ts_.timestamp, max_ts_.offset);
  }
  size_.store(out.valid_bytes, std::memory_order_release);
  next_offset_.store(out.next_offset, std::memory_order_release);
  indexes_ready_.store(true, std::memory_order_release);
  return out;
}

result<segment_scan> segment::scan_tail() {
  if (auto ec = ensure_indexes()) return ec;
  segment_scan out;
  size_t n = offsets_->entries();
  uint64_t pos = n > 0 ? offsets_->entry(n - 1).position : 0;
  int64_t prev_last = n > 1 ? offsets_->entry(n - 2).offset : base_offset_ - 1;
  out.next_offset = n > 0 ? offsets_->entry(n - 1).offset + 1 : base_offset_;
  uint64_t limit = size();
  batch_info b;
  bool first_checked = false;
  if (n == 0) prev_last = base_offset_ - 1;
  while (true) {
    auto st = read_batch_header(*log_, pos, limit, &b);
    if (st == scan_status::io_error) return make_error_code(errc::io_error);
    // Past the first batch the offsets must be contiguous, as in recover().
    bool contiguous = (pos == 0 || first_checked) ? b.base_offset == prev_last + 1
                                                  : b.base_offset > prev_last;
    if (st == scan_status::ok && !contiguous) st = scan_status::corrupt;
    if (st != scan_status::ok) {
      out.status = st;
      break;
    }
    first_checked = true;
    if (pos == 0) rolling_based_timestamp_ = b.max_timestamp;
    note_timestamp(b.max_timestamp, b.last_offset);
    prev_last = b.last_offset;
    pos += b.size;
    out.next_offset = b.last_offset + 1;
  }
  out.valid_bytes = pos;
  if (out.status == scan_status::end) {
    next_offset_.store(out.next_offset, std::memory_order_release);
    if (!rolling_based_timestamp_ && limit > 0 &&
        read_batch_header(*log_, 0, limit, &b) == scan_status::ok) {
      rolling_based_timestamp_ = b.max_timestamp;
    }
  }
  return out;
}

result<uint64_t> segment::truncate_to(int64_t offset) {
  if (auto ec = ensure_indexes()) return ec;
  uint64_t old_size = size();
  batch_info b;
  uint64_t cut = old_size;
  auto st = find_batch(offset, old_size, &b);
  if (st == scan_status::ok) {
    cut = b.position;
  } else if (st == scan_status::io_error) {
    return make_error_code(errc::io_error);
  }
  if (cut == old_size) {
    // Nothing to remove. A segment opened after a clean shutdown that was never active
    // does not know its next offset yet; it is about to become the active one.
    if (next_offset() < 0) {
      auto tail = scan_tail();
      if (!tail) return tail.error();
      if (tail->status != scan_status::end) return make_error_code(errc::corrupt_segment);
    }
    return uint64_t(0);
  }
  offsets_->truncate_to(offset);
  times_->truncate_to(offset);
  if (auto ec = log_->truncate(cut)) return ec;
  size_.store(cut, std::memory_order_release);
  if (cut == 0) rolling_based_timestamp_.reset();
  {
    std::lock_guard m(max_ts_mu_);
    max_ts_ = times_->last_entry();
    if (max_ts_.timestamp < 0) max_ts_ = {-1, -1};
  }
  bytes_since_last_index_entry_ = 0;
  // Relearn the next offset and max timestamp from the batches after the last entry.
  auto tail = scan_tail();
  if (!tail) return tail.error();
  if (tail->status != scan_status::end) return make_error_code(errc::corrupt_segment);
  return old_size - cut;
}

void segment::on_become_inactive() {
  if (ensure_indexes()) return;
  timestamp_offset m;
  {
    std::lock_guard lk(max_ts_mu_);
    m = max_ts_;
  }
  if (m.timestamp >= 0) times_->maybe_append(m.timestamp, m.offset);
}

std::error_code segment::flush(bool with_indexes) {
  if (auto ec = log_->datasync()) return ec;
  if (with_indexes && indexes_ready_.load(std::memory_order_acquire)) {
    if (auto ec = offsets_->sync()) return ec;
    if (auto ec = times_->sync()) return ec;
  }
  return {};
}

std::error_code segment::close() {
  if (!indexes_ready_.load(std::memory_order_acquire)) return {};
  on_become_inactive();
  if (auto ec = offsets_->trim()) return ec;
  return times_->trim();
}

void segment::remove_files() {
  fs_.remove(path(kLogSuffix));
  fs_.remove(path(kIndexSuffix));
  fs_.remove(path(kTimeIndexSuffix));
  fs_.remove(path(kTxnIndexSuffix));
}

}  // namespace strata::storage
