#include "storage/segment.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "base/log_limiter.h"
#include "storage/file_names.h"

namespace strata::storage {

namespace {
std::atomic<uint64_t> g_index_rebuilds{0};
}  // namespace

uint64_t segment::index_rebuilds() { return g_index_rebuilds.load(std::memory_order_relaxed); }

segment::segment(fs::file_system& fs, std::string dir, int64_t base, uint64_t size, size_t index_capacity,
                 int64_t now_ms)
    : fs_(fs),
      dir_(std::move(dir)),
      base_offset_(base),
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
  std::shared_ptr<segment> s(new segment(fs, dir, base_offset, 0, size_t(cfg.segment_index_bytes), now_ms));
  s->index_interval_.store(cfg.index_interval_bytes);
  std::shared_ptr<fs::file> log_file(std::move(f).value());
  s->log_handle_.install(log_file);
  std::lock_guard lk(s->index_mu_);
  auto ix = s->open_indexes_locked();
  if (!ix) return ix.error();
  if (auto ec = ix.value()->offsets->reset()) return ec;
  if (auto ec = ix.value()->times->reset()) return ec;
  s->max_ts_known_ = true;
  s->index_checked_ = true;
  s->next_offset_.store(base_offset);
  s->idx_handle_.install(ix.value());
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
  std::shared_ptr<segment> s(
      new segment(fs, dir, base_offset, size.value(), size_t(cfg.segment_index_bytes), now_ms));
  s->index_interval_.store(cfg.index_interval_bytes);
  s->had_index_files_ = fs.exists(s->path(kIndexSuffix)) && fs.exists(s->path(kTimeIndexSuffix));
  s->log_handle_.install(std::shared_ptr<fs::file>(std::move(f).value()));
  return s;
}

result<std::shared_ptr<fs::file>> segment::open_log() const {
  if (auto p = log_handle_.get()) return p;
  std::lock_guard lk(log_open_mu_);
  if (auto p = log_handle_.get()) return p;
  // Removed files are not brought back: a reader of an old snapshot gets an error (and
  // log::read retries with a new snapshot).
  if (removed_.load(std::memory_order_acquire)) return make_error_code(errc::not_found);
  auto f = fs_.open(path(kLogSuffix), fs::open_mode::read_write);
  if (!f) {
    if (f.error() != errc::not_found) {
      STRATA_LOG_LIMITED(spdlog::level::err, "storage: reopening {} failed: {}", path(kLogSuffix),
                         f.error().message());
    }
    return f.error();
  }
  std::shared_ptr<fs::file> p(std::move(f).value());
  log_handle_.install(p);
  return p;
}

result<std::shared_ptr<segment_indexes>> segment::open_indexes_locked() {
  if (removed_.load(std::memory_order_acquire)) return make_error_code(errc::not_found);
  auto oi = offset_index::open(fs_, path(kIndexSuffix), base_offset_, index_capacity_);
  if (!oi) return oi.error();
  auto ti = time_index::open(fs_, path(kTimeIndexSuffix), base_offset_, index_capacity_);
  if (!ti) return ti.error();
  auto ix = std::make_shared<segment_indexes>();
  ix->offsets = std::move(oi).value();
  ix->times = std::move(ti).value();
  index_used_.store(true, std::memory_order_relaxed);
  return ix;
}

bool segment::first_batch_has_timestamp(fs::file& log) {
  batch_info b;
  return read_batch_header(log, 0, size(), &b) == scan_status::ok && b.max_timestamp >= 0;
}

result<std::shared_ptr<segment_indexes>> segment::load_indexes_locked() {
  auto opened = open_indexes_locked();
  if (!opened) return opened.error();
  auto ix = std::move(opened).value();
  uint64_t log_size = size();
  bool ok = ix->offsets->load(log_size) && ix->times->load();
  const char* why = "entries out of order or past the end of the log";
  if (ok && !index_checked_) {
    // Only the first load in this process checks for lost entries: after that the
    // files hold what this process wrote (an evicted index of the active segment may
    // legitimately have no entries yet). Healthy files with no entries are common: an
    // offset entry is written only once index.interval.bytes have been appended since
    // the previous one, so a segment of one append (of any size) has none. What no
    // healthy file has: a file whose bytes are all zeros (zeroed or never written back),
    // or, after the segment was closed, an empty time index beside batches that carry
    // timestamps (close and roll write the segment's max timestamp).
    if ((ix->offsets->entries() == 0 && ix->offsets->file_entries() > 0) ||
        (ix->times->entries() == 0 && ix->times->file_entries() > 0)) {
      ok = false;
      why = "the index file holds only zeros";
    } else if (ix->times->entries() == 0 && log_size > 0 && next_offset() < 0) {
      // next_offset() < 0: opened from disk, not written in this process.
      auto lf = open_log();
      if (!lf) return lf.error();
      if (first_batch_has_timestamp(*lf.value())) {
        ok = false;
        why = "the time index is empty but the batches have timestamps";
      }
    }
  }
  if (!ok) {
    g_index_rebuilds.fetch_add(1, std::memory_order_relaxed);
    STRATA_LOG_LIMITED(spdlog::level::warn, "storage: rebuilding damaged index of {} ({})", path(kLogSuffix), why);
    if (auto ec = rebuild_indexes_locked(*ix)) return ec;
  }
  index_checked_ = true;
  index_full_.store(ix->offsets->full() || ix->times->full(), std::memory_order_relaxed);
  {
    std::lock_guard m(max_ts_mu_);
    if (!max_ts_known_) {
      auto last = ix->times->last_entry();
      if (last.timestamp >= 0) max_ts_ = last;
      max_ts_known_ = true;
    }
  }
  return ix;
}

result<std::shared_ptr<segment_indexes>> segment::indexes() {
  if (auto p = idx_handle_.get()) return p;
  std::lock_guard lk(index_mu_);
  if (auto p = idx_handle_.get()) return p;
  auto ix = load_indexes_locked();
  if (!ix) {
    if (ix.error() != errc::not_found) {
      STRATA_LOG_LIMITED(spdlog::level::err, "storage: opening the indexes of {} failed: {}", path(kLogSuffix),
                         ix.error().message());
    }
    return ix.error();
  }
  idx_handle_.install(ix.value());
  return ix;
}

void segment::add_index_entry(segment_indexes& ix, int64_t offset, uint32_t position) {
  ix.offsets->append(offset, position);
  timestamp_offset m;
  {
    std::lock_guard lk(max_ts_mu_);
    m = max_ts_;
  }
  if (m.timestamp >= 0) ix.times->maybe_append(m.timestamp, m.offset);
  if (ix.offsets->full() || ix.times->full()) index_full_.store(true, std::memory_order_relaxed);
}

void segment::index_batch(segment_indexes& ix, const batch_info& b, int32_t interval) {
  note_timestamp(b.max_timestamp, b.last_offset);
  if (bytes_since_last_index_entry_ > uint64_t(std::max(interval, 0))) {
    add_index_entry(ix, b.last_offset, uint32_t(b.position));
    bytes_since_last_index_entry_ = 0;
  }
  bytes_since_last_index_entry_ += b.size;
}

std::error_code segment::build_indexes() {
  std::lock_guard lk(index_mu_);
  auto ix = idx_handle_.get();
  if (!ix) {
    auto opened = open_indexes_locked();
    if (!opened) return opened.error();
    ix = std::move(opened).value();
  }
  if (auto ec = rebuild_indexes_locked(*ix)) return ec;
  index_checked_ = true;
  index_full_.store(ix->offsets->full() || ix->times->full(), std::memory_order_relaxed);
  idx_handle_.install(ix);
  return {};
}

std::error_code segment::rebuild_indexes_locked(segment_indexes& ix) {
  if (auto ec = ix.offsets->reset()) return ec;
  if (auto ec = ix.times->reset()) return ec;
  {
    std::lock_guard m(max_ts_mu_);
    max_ts_ = {-1, -1};
    max_ts_known_ = true;
  }
  auto lf = open_log();
  if (!lf) return lf.error();
  bytes_since_last_index_entry_ = 0;
  batch_reader r(*lf.value(), 0, size(), false);
  batch_info b;
  scan_status st;
  while ((st = r.next(&b)) == scan_status::ok) index_batch(ix, b, index_interval_.load());
  if (st == scan_status::io_error) return make_error_code(errc::io_error);
  // The segment's max timestamp, as close() and a roll would write it.
  timestamp_offset m;
  {
    std::lock_guard lk(max_ts_mu_);
    m = max_ts_;
  }
  if (m.timestamp >= 0) ix.times->maybe_append(m.timestamp, m.offset);
  return {};
}

void segment::note_timestamp(int64_t ts, int64_t offset) {
  std::lock_guard lk(max_ts_mu_);
  if (ts > max_ts_.timestamp) max_ts_ = {ts, offset};
}

timestamp_offset segment::max_timestamp() {
  {
    std::lock_guard lk(max_ts_mu_);
    if (max_ts_known_) return max_ts_;
  }
  if (ensure_indexes()) return {-1, -1};
  std::lock_guard lk(max_ts_mu_);
  return max_ts_;
}

int64_t segment::largest_timestamp_for_retention() {
  auto m = max_timestamp();
  if (m.timestamp >= 0) return m.timestamp;
  auto lf = open_log();
  if (!lf) return std::numeric_limits<int64_t>::max();
  auto mt = lf.value()->modified_time_ms();
  return mt ? mt.value() : std::numeric_limits<int64_t>::max();
}

scan_status segment::find_batch(int64_t target, uint64_t limit, batch_info* out) {
  auto ix = indexes();
  if (!ix) return scan_status::io_error;
  auto lf = open_log();
  if (!lf) return scan_status::io_error;
  auto start = ix.value()->offsets->lookup(target);
  uint64_t pos = start.position;
  int64_t prev_last = -1;
  while (true) {
    auto st = read_batch_header(*lf.value(), pos, limit, out);
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
         index_full_.load(std::memory_order_relaxed) ||
         last_offset - base_offset_ > int64_t(std::numeric_limits<int32_t>::max());
}

std::error_code segment::append(std::span<const uint8_t> data, const segment_append& a,
                                int32_t index_interval_bytes, bool* unrecoverable) {
  uint64_t pos = size();
  auto lf = open_log();
  if (!lf) return lf.error();
  fs::file& log = *lf.value();
  if (auto ec = log.pwrite_all(data.data(), data.size(), pos)) {
    // Cut back whatever part of the write reached the file, so the .log still ends with
    // a whole batch. If even that fails the log cannot be trusted any more.
    if (log.truncate(pos)) *unrecoverable = true;
    return ec;
  }
  if (pos == 0) rolling_based_timestamp_ = a.first_batch_max_timestamp;
  note_timestamp(a.max_timestamp, a.offset_of_max_timestamp);
  if (bytes_since_last_index_entry_ > uint64_t(std::max(index_interval_bytes, 0))) {
    // The indexes are hints: if they cannot be opened now the entry is skipped and
    // lookups scan a little more.
    if (auto ix = indexes()) add_index_entry(*ix.value(), a.last_offset, uint32_t(pos));
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
  auto opened = idx_handle_.get();
  if (!opened) {
    auto o = open_indexes_locked();
    if (!o) return o.error();
    opened = std::move(o).value();
  }
  segment_indexes& ix = *opened;
  if (auto ec = ix.offsets->reset()) return ec;
  if (auto ec = ix.times->reset()) return ec;
  {
    std::lock_guard m(max_ts_mu_);
    max_ts_ = {-1, -1};
    max_ts_known_ = true;
  }
  bytes_since_last_index_entry_ = 0;
  rolling_based_timestamp_.reset();
  auto lf = open_log();
  if (!lf) return lf.error();
  fs::file& log = *lf.value();
  auto file_size = log.size();
  if (!file_size) return file_size.error();

  segment_scan out;
  out.next_offset = base_offset_;
  batch_reader r(log, 0, file_size.value(), verify_crc);
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
    index_batch(ix, b, index_interval_bytes);
    if (on_batch) on_batch(b);
    prev_last = b.last_offset;
    out.valid_bytes = b.position + b.size;
    out.next_offset = b.last_offset + 1;
  }
  if (out.valid_bytes < file_size.value()) {
    out.truncated_bytes = file_size.value() - out.valid_bytes;
    if (auto ec = log.truncate(out.valid_bytes)) return ec;
  }
  {
    std::lock_guard m(max_ts_mu_);
    if (max_ts_.timestamp >= 0) ix.times->maybe_append(max_ts_.timestamp, max_ts_.offset);
  }
  size_.store(out.valid_bytes, std::memory_order_release);
  next_offset_.store(out.next_offset, std::memory_order_release);
  index_checked_ = true;
  index_full_.store(ix.offsets->full() || ix.times->full(), std::memory_order_relaxed);
  idx_handle_.install(opened);
  return out;
}

result<segment_scan> segment::scan_tail() {
  auto ixr = indexes();
  if (!ixr) return ixr.error();
  auto lf = open_log();
  if (!lf) return lf.error();
  fs::file& log = *lf.value();
  const offset_index& offsets = *ixr.value()->offsets;
  segment_scan out;
  size_t n = offsets.entries();
  uint64_t pos = n > 0 ? offsets.entry(n - 1).position : 0;
  int64_t prev_last = n > 1 ? offsets.entry(n - 2).offset : base_offset_ - 1;
  out.next_offset = n > 0 ? offsets.entry(n - 1).offset + 1 : base_offset_;
  uint64_t limit = size();
  batch_info b;
  bool first_checked = false;
  if (n == 0) prev_last = base_offset_ - 1;
  while (true) {
    auto st = read_batch_header(log, pos, limit, &b);
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
        read_batch_header(log, 0, limit, &b) == scan_status::ok) {
      rolling_based_timestamp_ = b.max_timestamp;
    }
  }
  return out;
}

result<uint64_t> segment::truncate_to(int64_t offset) {
  auto ixr = indexes();
  if (!ixr) return ixr.error();
  auto ix = std::move(ixr).value();
  auto lf = open_log();
  if (!lf) return lf.error();
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
  ix->offsets->truncate_to(offset);
  ix->times->truncate_to(offset);
  index_full_.store(ix->offsets->full() || ix->times->full(), std::memory_order_relaxed);
  if (auto ec = lf.value()->truncate(cut)) return ec;
  size_.store(cut, std::memory_order_release);
  if (cut == 0) rolling_based_timestamp_.reset();
  {
    std::lock_guard m(max_ts_mu_);
    max_ts_ = ix->times->last_entry();
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
  auto ix = indexes();
  if (!ix) return;
  timestamp_offset m;
  {
    std::lock_guard lk(max_ts_mu_);
    m = max_ts_;
  }
  if (m.timestamp >= 0) ix.value()->times->maybe_append(m.timestamp, m.offset);
}

std::error_code segment::flush(bool with_indexes) {
  // fdatasync through any descriptor of the file writes back what was written through
  // descriptors closed meanwhile (the page cache is per file).
  auto lf = open_log();
  if (!lf) return lf.error();
  if (auto ec = lf.value()->datasync()) return ec;
  // Index pages of an unmapped index stay in the page cache and are written back by
  // the kernel; the indexes are rebuilt by recovery after a crash anyway.
  if (with_indexes) {
    if (auto ix = idx_handle_.peek()) {
      if (auto ec = ix->offsets->sync()) return ec;
      if (auto ec = ix->times->sync()) return ec;
    }
  }
  return {};
}

std::error_code segment::close() {
  // Indexes never opened in this process are as the last close left them.
  if (!index_used_.load(std::memory_order_relaxed) || removed_.load()) return {};
  auto ix = indexes();
  if (!ix) return ix.error();
  on_become_inactive();
  if (auto ec = ix.value()->offsets->trim()) return ec;
  auto ec = ix.value()->times->trim();
  // Done with this segment: give the budget back.
  idx_handle_.drop();
  log_handle_.drop();
  return ec;
}

void segment::remove_files() {
  removed_.store(true, std::memory_order_release);
  fs_.remove(path(kLogSuffix));
  fs_.remove(path(kIndexSuffix));
  fs_.remove(path(kTimeIndexSuffix));
  fs_.remove(path(kTxnIndexSuffix));
  // What is open stays open (as the cache allows) so readers of an older snapshot keep
  // reading while the log publishes its new segment list; nothing removed is reopened,
  // and the segment's destruction gives the budget back.
}

}  // namespace strata::storage
