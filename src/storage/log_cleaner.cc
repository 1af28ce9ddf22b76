// log: compaction (cleanup.policy=compact), one pass of Kafka's LogCleaner.
//
//   1. Which segments: every segment but the active one whose end is at or below the
//      HW and whose newest batch is at least min.compaction.lag.ms old, from the front
//      up to the first that is not. The "dirty" part starts at first_dirty_ (what the
//      last pass deduplicated up to). Clean if dirty bytes / cleanable bytes >=
//      min.cleanable.dirty.ratio, or the first dirty segment is older than
//      max.compaction.lag.ms.
//   2. The offset map: key -> newest offset, over the dirty part, bounded by
//      `map_bytes`; if the bound is hit the map ends at that batch and the pass
//      deduplicates only up to there.
//   3. Rewrite: the cleanable segments in groups of consecutive segments that fit in
//      segment.bytes (and an index's 32-bit relative offsets). A record is dropped when
//      the map holds a newer offset for its key, when it has no key, or when it is a
//      tombstone older than delete.retention.ms. Batches that keep every record are
//      copied as they are; others are rebuilt with their base offset, last offset
//      delta, producer fields and codec; a run of batches that keep nothing becomes
//      one empty batch over the same offsets (Kafka leaves gaps; Strata's recovery
//      takes a gap in the offsets for lost data, and clients skip empty batches).
//   4. Swap: the group's replacement is written to `<base>.log.cleaned` and fsynced,
//      renamed to `<base>.log.swap` (the directory synced), and then, under the append
//      lock, the old segments' files are removed and the swap file renamed to
//      `<base>.log`. A crash between the two leaves a .swap file that the loader
//      completes (log_loader.cc). Readers holding the old segments keep reading their
//      open descriptors.
//
// Offsets, the log start, the LEO and the HW do not move. Not done (no transactions in
// Strata yet): aborted transactions, transaction markers, the delete horizon of KIP-534.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>

#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_header.h"
#include "protocol/records/record_iterator.h"
#include "storage/batch_scan.h"
#include "storage/file_names.h"
#include "storage/log.h"
#include "storage/segment.h"

namespace strata::storage {

namespace {

// Bytes one entry of the offset map is counted as: the key, its offset, and what an
// unordered_map node and bucket cost besides.
size_t map_entry_bytes(size_t key_size) { return key_size + 64; }

std::string key_string(const records::bytes_view& k) {
  return std::string(reinterpret_cast<const char*>(k.data()), k.size());
}

}  // namespace

struct log::clean_pass {
  log_config cfg;
  int64_t now_ms = 0;
  std::vector<std::shared_ptr<segment>> segs;  // the cleanable segments, in order
  std::vector<uint64_t> sizes;                  // their sizes when the pass began
  std::unordered_map<std::string, int64_t> newest;  // key -> newest offset in the map
  int64_t map_end = 0;                              // the map covers offsets below this
  clean_stats stats;
  std::vector<uint8_t> scratch, out;
  std::vector<records::record> retained;
  std::vector<records::record_header> headers;
};

int64_t log::first_dirty_offset() const {
  return std::max(first_dirty_.load(std::memory_order_acquire), log_start_offset());
}

void log::restore_first_dirty_offset(int64_t offset) {
  if (offset > log_end_offset()) {
    spdlog::warn("storage: {}-{}: cleaner checkpoint {} is past the log end {}; cleaning from the log start",
                 topic(), partition(), offset, log_end_offset());
    return;
  }
  first_dirty_.store(offset, std::memory_order_release);
}

result<std::optional<clean_stats>> log::clean(int64_t now_ms, size_t map_bytes) {
  std::lock_guard clean_lock(clean_mu_);
  clean_pass pass;
  pass.cfg = config();
  pass.now_ms = now_ms;
  if (!pass.cfg.compact || offline()) return std::optional<clean_stats>();

  // 1. The cleanable segments and how dirty they are.
  const auto snap = snapshot();
  const int64_t hw = high_watermark();
  const int64_t first_dirty = first_dirty_offset();
  for (size_t i = 0; i + 1 < snap->size(); ++i) {
    segment& s = *(*snap)[i];
    if ((*snap)[i + 1]->base_offset() > hw) break;
    if (pass.cfg.min_compaction_lag_ms > 0 &&
        now_ms - s.largest_timestamp_for_retention() < pass.cfg.min_compaction_lag_ms)
      break;
    pass.segs.push_back((*snap)[i]);
    pass.sizes.push_back(s.size());
  }
  const size_t n = pass.segs.size();
  uint64_t clean_bytes = 0, dirty_bytes = 0;
  size_t first_dirty_seg = n;
  for (size_t i = 0; i < n; ++i) {
    const int64_t end = i + 1 < n ? pass.segs[i + 1]->base_offset() : (*snap)[n]->base_offset();
    if (end <= first_dirty) {
      clean_bytes += pass.sizes[i];
    } else {
      if (first_dirty_seg == n) first_dirty_seg = i;
      dirty_bytes += pass.sizes[i];
    }
  }
  if (first_dirty_seg == n || dirty_bytes == 0) return std::optional<clean_stats>();
  const double ratio = double(dirty_bytes) / double(clean_bytes + dirty_bytes);
  const bool overdue = now_ms - pass.segs[first_dirty_seg]->largest_timestamp_for_retention() >
                       pass.cfg.max_compaction_lag_ms;
  if (ratio < pass.cfg.min_cleanable_dirty_ratio && !overdue) return std::optional<clean_stats>();
  const auto started = std::chrono::steady_clock::now();

  // 2. The offset map over the dirty part.
  size_t used = 0;
  bool full = false;
  pass.map_end = (*snap)[n]->base_offset();
  for (size_t i = first_dirty_seg; i < n && !full; ++i) {
    segment& s = *pass.segs[i];
    auto lf = s.open_log();
    if (!lf) return lf.error();
    batch_reader reader(*lf.value(), 0, pass.sizes[i], true);
    batch_info b;
    scan_status st;
    while ((st = reader.next(&b)) == scan_status::ok) {
      if (b.last_offset < first_dirty) continue;
      records::record_iterator it(reader.batch_bytes(), pass.scratch);
      if (it.header().is_control()) continue;
      // Whole batches only: if this one might not fit, the map ends before it.
      if (used + map_entry_bytes(0) * size_t(std::max(it.header().records_count(), 0)) +
              b.size > map_bytes &&
          !pass.newest.empty()) {
        pass.map_end = b.base_offset;
        full = true;
        break;
      }
      records::record r;
      while (it.next(r)) {
        if (!r.key) continue;
        auto [pos, inserted] = pass.newest.try_emplace(key_string(*r.key), it.offset_of(r));
        if (inserted) used += map_entry_bytes(r.key->size());
        else pos->second = it.offset_of(r);
      }
      if (!it.ok()) return make_error_code(errc::corrupt_segment);
    }
    if (full) break;
    if (st == scan_status::io_error) return make_error_code(errc::io_error);
    if (st != scan_status::end) return make_error_code(errc::corrupt_segment);
  }

  // 3 and 4. Rewrite and swap in, group by group: the segments that start below the
  // map's end (the rest cannot lose a record to this map).
  size_t rewrite = 0;
  while (rewrite < n && pass.segs[rewrite]->base_offset() < pass.map_end) ++rewrite;
  size_t i = 0;
  bool completed = true;
  while (i < rewrite) {
    size_t count = 1;
    uint64_t bytes = pass.sizes[i];
    while (i + count < rewrite) {
      const int64_t end = i + count + 1 < n ? pass.segs[i + count + 1]->base_offset()
                                            : (*snap)[n]->base_offset();
      if (bytes + pass.sizes[i + count] > uint64_t(pass.cfg.segment_bytes) ||
          end - 1 - pass.segs[i]->base_offset() > std::numeric_limits<int32_t>::max())
        break;
      bytes += pass.sizes[i + count];
      ++count;
    }
    auto swapped = clean_group(pass, i, count);
    if (!swapped) return swapped.error();
    if (!swapped.value()) {  // the log changed underneath: try again next time
      completed = false;
      break;
    }
    i += count;
  }
  if (completed) first_dirty_.store(std::max(first_dirty_.load(), pass.map_end), std::memory_order_release);
  pass.stats.cleaned_up_to = pass.map_end;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started).count();
  spdlog::info("storage: {}-{}: cleaned up to offset {} in {} ms: {} segments -> {}, {} -> {} bytes, "
               "{} of {} records kept",
               topic_, partition_, pass.map_end, ms, pass.stats.segments_before,
               pass.stats.segments_after, pass.stats.bytes_before, pass.stats.bytes_after,
               pass.stats.records_kept, pass.stats.records_read);
  return std::optional<clean_stats>(pass.stats);
}

// Writes the cleaned form of pass.segs[first, first+count) and swaps it in. Returns
// false (and changes nothing) when the log no longer holds those segments as they were.
result<bool> log::clean_group(clean_pass& pass, size_t first, size_t count) {
  const int64_t base = pass.segs[first]->base_offset();
  const std::string cleaned_path = dir_ + "/" + segment_file_name(base, std::string(kLogSuffix) + std::string(kCleanedSuffix));
  fs_.remove(cleaned_path);
  auto opened = fs_.open(cleaned_path, fs::open_mode::read_write_create);
  if (!opened) return opened.error();
  std::unique_ptr<fs::file> out = std::move(opened).value();
  uint64_t written = 0;
  auto flush_out = [&]() -> std::error_code {
    if (pass.out.empty()) return {};
    if (auto ec = out->pwrite_all(pass.out.data(), pass.out.size(), written)) return ec;
    written += pass.out.size();
    pass.out.clear();
    return {};
  };
  auto fail = [&](std::error_code ec) -> result<bool> {
    out.reset();
    fs_.remove(cleaned_path);
    return ec;
  };
  const int64_t tombstone_horizon = pass.now_ms - pass.cfg.delete_retention_ms;
  uint64_t bytes_before = 0;
  int64_t read = 0, kept = 0;
  // A run of batches that lost every record becomes one empty batch over the same
  // offsets, so the segment's batches stay contiguous (recovery takes a gap for lost
  // data) for 61 bytes a run.
  struct {
    int64_t first = -1, last = -1, base_timestamp = -1, max_timestamp = -1;
    int32_t epoch = -1;
  } gap;
  auto end_gap = [&]() -> bool {
    if (gap.first < 0) return true;
    records::batch_options o;
    o.base_offset = gap.first;
    o.partition_leader_epoch = gap.epoch;
    o.last_offset_delta = int32_t(gap.last - gap.first);
    records::batch_builder builder(o);
    const size_t at = pass.out.size();
    if (builder.finish(pass.out) != records::errc::ok) return false;
    uint8_t* p = pass.out.data() + at;
    records::store_be64(p + records::off::base_timestamp, uint64_t(gap.base_timestamp));
    records::store_be64(p + records::off::max_timestamp, uint64_t(gap.max_timestamp));
    records::update_batch_crc({p, pass.out.size() - at});
    gap.first = -1;
    return true;
  };
  for (size_t k = first; k < first + count; ++k) {
    segment& s = *pass.segs[k];
    bytes_before += pass.sizes[k];
    auto lf = s.open_log();
    if (!lf) return lf.error();
    batch_reader reader(*lf.value(), 0, pass.sizes[k], true);
    batch_info b;
    scan_status st;
    while ((st = reader.next(&b)) == scan_status::ok) {
      const auto bytes = reader.batch_bytes();
      records::record_iterator it(bytes, pass.scratch);
      const records::batch_header_view h = it.header();
      bool keep_all = true;
      int32_t keep_count = 0;
      pass.retained.clear();
      if (!h.is_control()) {
        records::record r;
        while (it.next(r)) {
          ++read;
          bool keep = r.key.has_value();
          if (keep && it.offset_of(r) < pass.map_end) {
            auto pos = pass.newest.find(key_string(*r.key));
            if (pos != pass.newest.end() && pos->second > it.offset_of(r)) keep = false;
          }
          if (keep && !r.value && h.max_timestamp() < tombstone_horizon) keep = false;
          if (keep) {
            pass.retained.push_back(r);
            ++keep_count;
          } else {
            keep_all = false;
          }
        }
        if (!it.ok()) return fail(make_error_code(errc::corrupt_segment));
      }
      kept += keep_count;
      if (keep_count == 0 && !keep_all) {
        if (gap.first < 0) {
          gap.first = h.base_offset();
          gap.base_timestamp = h.base_timestamp();
        }
        gap.last = h.last_offset();
        gap.max_timestamp = std::max(gap.max_timestamp, h.max_timestamp());
        gap.epoch = h.partition_leader_epoch();
        continue;
      }
      if (!end_gap()) return fail(make_error_code(errc::corrupt_segment));
      if (keep_all) {
        pass.out.insert(pass.out.end(), bytes.begin(), bytes.end());
      } else {
        records::batch_options o;
        o.codec = h.codec();
        o.base_offset = h.base_offset();
        o.partition_leader_epoch = h.partition_leader_epoch();
        o.producer_id = h.producer_id();
        o.producer_epoch = h.producer_epoch();
        o.base_sequence = h.base_sequence();
        o.transactional = h.is_transactional();
        o.last_offset_delta = h.last_offset_delta();
        if (h.is_log_append_time()) o.log_append_time = h.max_timestamp();
        records::batch_builder builder(o);
        for (const auto& r : pass.retained) {
          pass.headers.assign(r.headers.begin(), r.headers.end());
          builder.add_at(r.offset_delta, {it.timestamp_of(r), r.key, r.value, pass.headers});
        }
        if (builder.finish(pass.out) != records::errc::ok) return fail(make_error_code(errc::corrupt_segment));
      }
      if (pass.out.size() >= (1u << 20)) {
        if (auto ec = flush_out()) return fail(ec);
      }
    }
    if (st == scan_status::io_error) return fail(make_error_code(errc::io_error));
    if (st != scan_status::end) return fail(make_error_code(errc::corrupt_segment));
  }
  if (!end_gap()) return fail(make_error_code(errc::corrupt_segment));
  if (auto ec = flush_out()) return fail(ec);
  if (count == 1 && written == bytes_before) {
    // Nothing was dropped from a segment that stays alone: leave it as it is.
    out.reset();
    fs_.remove(cleaned_path);
    pass.stats.records_read += read;
    pass.stats.records_kept += kept;
    return true;
  }
  if (auto ec = out->datasync()) return fail(ec);
  out.reset();
  std::vector<std::shared_ptr<segment>> group(pass.segs.begin() + long(first),
                                              pass.segs.begin() + long(first + count));
  for (size_t k = first; k < first + count; ++k) {
    // Readers that still hold an old segment must keep its own index mappings: load
    // them before the files go and new index files with the same names appear.
    if (auto ec = pass.segs[k]->ensure_indexes()) {
      fs_.remove(cleaned_path);
      return ec;
    }
    if (pass.segs[k]->size() != pass.sizes[k]) {
      fs_.remove(cleaned_path);
      return false;
    }
  }
  auto swapped = swap_in(group, cleaned_path, pass.cfg);
  if (!swapped || !swapped.value()) return swapped;
  pass.stats.segments_before += count;
  pass.stats.segments_after += 1;
  pass.stats.bytes_before += bytes_before;
  pass.stats.bytes_after += written;
  pass.stats.records_read += read;
  pass.stats.records_kept += kept;
  return true;
}

result<bool> log::swap_in(const std::vector<std::shared_ptr<segment>>& group, const std::string& cleaned_path,
                          const log_config& cfg) {
  const int64_t base = group.front()->base_offset();
  const std::string swap_path = dir_ + "/" + segment_file_name(base, std::string(kLogSuffix) + std::string(kSwapSuffix));
  if (auto ec = fs_.rename(cleaned_path, swap_path)) {
    fs_.remove(cleaned_path);
    return ec;
  }
  if (auto ec = fs_.sync_dir(dir_)) {
    fs_.remove(swap_path);
    return ec;
  }
  {
    std::lock_guard lk(mu_);
    // The group must still be in the log, in place and inactive (retention,
    // DeleteRecords, truncation or deletion may have run since the pass began).
    auto at = std::find(segments_.begin(), segments_.end(), group.front());
    bool intact = !closed_ && at != segments_.end() && size_t(segments_.end() - at) > group.size();
    for (size_t k = 0; intact && k < group.size(); ++k) intact = *(at + long(k)) == group[k];
    if (!intact) {
      fs_.remove(swap_path);
      return false;
    }
    // Segments are contiguous and a cleaned group keeps its last batch, so the group
    // still ends where the segment after it begins.
    const int64_t next = (*(at + long(group.size())))->base_offset();
    for (const auto& s : group) s->remove_files();
    if (auto ec = fs_.rename(swap_path, dir_ + "/" + segment_file_name(base, kLogSuffix))) {
      // The old files are gone and the new one is not in place: only a restart (which
      // completes the swap) can serve this log again.
      offline_.store(true);
      spdlog::error("storage: {}-{}: swapping in a cleaned segment failed: {}; the log is offline until restart",
                    topic_, partition_, ec.message());
      return ec;
    }
    auto opened = segment::open(fs_, dir_, base, cfg, 0);
    std::error_code ec = opened ? std::error_code() : opened.error();
    if (!ec) {
      opened.value()->set_next_offset(next);
      opened.value()->set_index_interval(cfg.index_interval_bytes);
      ec = opened.value()->build_indexes();
    }
    if (ec) {
      offline_.store(true);
      spdlog::error("storage: {}-{}: opening a cleaned segment failed: {}; the log is offline until restart",
                    topic_, partition_, ec.message());
      return ec;
    }
    opened.value()->on_become_inactive();
    *at = std::move(opened).value();
    segments_.erase(at + 1, at + long(group.size()));
    publish_locked();
  }
  if (auto ec = fs_.sync_dir(dir_)) return ec;
  return true;
}

}  // namespace strata::storage
