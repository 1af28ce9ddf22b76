// Loading a partition directory, in Kafka's LogLoader passes (DESIGN-NOTES §5):
//
//   0. Finish an interrupted compaction swap (log_cleaner.cc): a `<base>.log.swap` is a
//      complete, fsynced replacement for the segments from `base` up to its last
//      offset. Their files are removed and the swap file becomes `<base>.log` (its
//      indexes are rebuilt in pass 3, as for any segment without index files).
//   1. Sweep leftovers: *.tmp, *.deleted, *.cleaned files, and index files without a .log.
//   2. Open the segments in base-offset order (the .log only; indexes load lazily).
//   3. Recover.
//      After a clean shutdown: trust the files. Only a segment with a missing index is
//      recovered (as Kafka does), and the active segment's tail, from its last index
//      entry to the end, is header-checked to learn the LEO; damage found there still
//      leads to recovery.
//      After a crash: segments before the one holding the recovery point get the same
//      cheap tail check (it catches a file cut anywhere after its last index entry);
//      from that segment on every batch is read and checked (size, magic, CRC-32C,
//      increasing offsets), both indexes are rebuilt, and the .log is cut at the first
//      bad byte. Once a segment was cut, or does not end right where the next one begins
//      (Strata rolls at the LEO, so segments are contiguous; a gap means lost data),
//      every later segment is deleted: nothing after the damage is served.
//      Recovery is idempotent, so a crash during recovery is harmless.
//   4. Log start: max(checkpoint, first base offset). If the LEO is below it, start over
//      with one empty segment at the log start. Ensure an active segment exists.
//   5. Leader-epoch cache: add epochs seen in recovered batches, then truncate it from
//      the end (LEO) and the start (log start).
//   6. Recovery point: LEO after a clean shutdown, else min(checkpoint, LEO). HW = LEO.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "storage/batch_scan.h"
#include "storage/file_names.h"
#include "storage/log.h"
#include "storage/segment.h"

namespace strata::storage {

struct log_loader {
  static result<std::shared_ptr<log>> load(const log_open_options& opts);
};

namespace {

bool is_transient(std::string_view name) {
  return ends_with(name, kTmpSuffix) || ends_with(name, kDeletedSuffix) ||
         ends_with(name, kCleanedSuffix) || ends_with(name, kSwapSuffix);
}

std::string swap_suffix() { return std::string(kLogSuffix) + std::string(kSwapSuffix); }

// Pass 0. A swap file whose batches do not read cleanly end to end was never renamed
// from .cleaned after its fsync, so it cannot be: it is left for the sweep.
std::error_code finish_swaps(fs::file_system& fs, const std::string& dir,
                             const std::vector<fs::dir_entry>& listing) {
  for (const auto& e : listing) {
    auto base = parse_segment_file_name(e.name, swap_suffix());
    if (!base) continue;
    const std::string swap_path = dir + "/" + e.name;
    int64_t last = -1;
    {
      auto f = fs.open(swap_path, fs::open_mode::read_write);
      if (!f) return f.error();
      auto size = f.value()->size();
      if (!size) return size.error();
      batch_reader r(*f.value(), 0, size.value(), true);
      batch_info b;
      scan_status st;
      while ((st = r.next(&b)) == scan_status::ok) last = b.last_offset;
      if (st != scan_status::end || last < *base) {
        spdlog::warn("storage: {}: ignoring damaged {}", dir, e.name);
        continue;
      }
    }
    for (const auto& old : listing) {
      for (auto suffix : {kLogSuffix, kIndexSuffix, kTimeIndexSuffix, kTxnIndexSuffix}) {
        auto b = parse_segment_file_name(old.name, suffix);
        if (b && *b >= *base && *b <= last) fs.remove(dir + "/" + old.name);
      }
    }
    if (auto ec = fs.rename(swap_path, dir + "/" + segment_file_name(*base, kLogSuffix))) return ec;
    spdlog::info("storage: {}: finished swapping in cleaned segment {}", dir, *base);
  }
  return fs.sync_dir(dir);
}

}  // namespace

result<std::shared_ptr<log>> log::open(const log_open_options& opts) {
  return log_loader::load(opts);
}

result<std::shared_ptr<log>> log_loader::load(const log_open_options& opts) {
  fs::file_system& fs = *opts.fs;
  const log_config& cfg = opts.config;
  if (auto ec = fs.create_dirs(opts.dir)) return ec;
  auto listing = fs.list_dir(opts.dir);
  if (!listing) return listing.error();
  const bool has_swap = std::any_of(listing.value().begin(), listing.value().end(), [](const fs::dir_entry& e) {
    return parse_segment_file_name(e.name, swap_suffix()).has_value();
  });
  if (has_swap) {
    if (auto ec = finish_swaps(fs, opts.dir, listing.value())) return ec;
    listing = fs.list_dir(opts.dir);
    if (!listing) return listing.error();
  }

  // Pass 1: sweep.
  std::map<int64_t, bool> bases;  // base offset -> has .log
  std::vector<std::pair<int64_t, std::string>> index_files;
  for (const auto& e : listing.value()) {
    if (e.is_dir) continue;
    if (is_transient(e.name)) {
      fs.remove(opts.dir + "/" + e.name);
      continue;
    }
    if (auto b = parse_segment_file_name(e.name, kLogSuffix)) {
      bases[*b] = true;
      continue;
    }
    for (auto suffix : {kIndexSuffix, kTimeIndexSuffix, kTxnIndexSuffix}) {
      if (auto b = parse_segment_file_name(e.name, suffix)) index_files.emplace_back(*b, e.name);
    }
  }
  for (const auto& [base, name] : index_files) {
    if (!bases.count(base)) fs.remove(opts.dir + "/" + name);
  }

  std::shared_ptr<log> lg(new log(opts));
  const int64_t now = opts.now_ms;

  // Pass 2: open segments.
  std::vector<std::shared_ptr<segment>> segs;
  for (const auto& [base, _] : bases) {
    auto s = segment::open(fs, opts.dir, base, cfg, now);
    if (!s) return s.error();
    segs.push_back(std::move(s).value());
  }

  // Pass 3: recover.
  leader_epoch_cache& epochs = lg->epochs_;
  const auto epochs_on_disk = epochs.entries();
  auto on_batch = [&epochs](const batch_info& b) {
    auto latest = epochs.latest_epoch();
    if (b.leader_epoch >= 0 && (!latest || b.leader_epoch > *latest)) {
      epochs.assign(b.leader_epoch, b.base_offset);
    }
  };
  auto full_recover = [&](segment& s) -> result<bool> {
    auto r = s.recover(cfg.index_interval_bytes, true, on_batch);
    if (!r) return r.error();
    if (r->truncated_bytes > 0) {
      spdlog::warn("storage: {}: cut {} bytes of {} at position {} ({})", opts.dir,
                   r->truncated_bytes, s.path(kLogSuffix), r->valid_bytes,
                   r->status == scan_status::incomplete ? "incomplete batch" : "corrupt batch");
    }
    lg->recovered_ = true;
    return r->truncated_bytes > 0;
  };
  size_t first_unflushed = 0;
  if (!opts.clean_shutdown) {
    for (size_t i = 0; i < segs.size(); ++i) {
      if (segs[i]->base_offset() <= opts.recovery_point) first_unflushed = i;
    }
  } else {
    first_unflushed = segs.empty() ? 0 : segs.size() - 1;
  }
  size_t keep = segs.size();
  for (size_t i = 0; i < segs.size(); ++i) {
    segment& s = *segs[i];
    const bool last = i + 1 == segs.size();
    bool damaged = false;
    const bool scan_all = !opts.clean_shutdown && i >= first_unflushed;
    if (scan_all || !s.has_index_files()) {
      auto r = full_recover(s);
      if (!r) return r.error();
      damaged = r.value();
    } else if (!opts.clean_shutdown || last) {
      auto tail = s.scan_tail();
      if (!tail) return tail.error();
      if (tail->status != scan_status::end) {
        spdlog::warn("storage: {}: damaged tail in {}, recovering the segment", opts.dir,
                     s.path(kLogSuffix));
        auto r = full_recover(s);
        if (!r) return r.error();
        damaged = true;
      }
    }
    if (!last && (damaged || (!opts.clean_shutdown &&
                              s.next_offset() != segs[i + 1]->base_offset()))) {
      keep = i + 1;
      break;
    }
  }
  for (size_t i = keep; i < segs.size(); ++i) {
    spdlog::warn("storage: {}: deleting segment {} after damage in an earlier one", opts.dir,
                 segs[i]->base_offset());
    segs[i]->remove_files();
  }
  segs.resize(keep);

  // Pass 4: log start and the active segment.
  int64_t log_start = opts.log_start_offset;
  if (!segs.empty()) log_start = std::max(log_start, segs.front()->base_offset());
  log_start = std::max<int64_t>(log_start, 0);
  int64_t leo = segs.empty() ? log_start : segs.back()->next_offset();
  if (leo < log_start) {
    for (auto& s : segs) s->remove_files();
    segs.clear();
    leo = log_start;
  }
  if (segs.empty()) {
    auto s = segment::create(fs, opts.dir, log_start, cfg, now);
    if (!s) return s.error();
    segs.push_back(std::move(s).value());
    lg->dir_dirty_.store(true);
  }

  // Pass 5: leader epochs.
  epochs.truncate_from_end(leo);
  epochs.truncate_from_start(log_start);
  if (epochs.entries() != epochs_on_disk) {
    if (auto ec = epochs.flush()) return ec;
  }

  // Pass 6: offsets.
  lg->segments_ = std::move(segs);
  lg->active_ = lg->segments_.back();
  lg->publish_locked();
  lg->log_start_.store(log_start);
  lg->leo_.store(leo);
  // DESIGN-NOTES §5.9: the checkpointed HW, clamped to [log start, LEO]. A replica
  // must not call committed what its ISR may not have.
  lg->hw_.store(opts.high_watermark >= 0 ? std::clamp(opts.high_watermark, log_start, leo) : leo);
  lg->recovery_point_.store(opts.clean_shutdown ? leo
                                                : std::clamp(opts.recovery_point, log_start, leo));
  lg->last_flush_ms_.store(now);
  return lg;
}

}  // namespace strata::storage
