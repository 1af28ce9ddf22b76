// log: the read side. Lock-free: a snapshot of the segment list and the offset atomics.
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "storage/log.h"
#include "storage/segment.h"

namespace strata::storage {
namespace {

// Index of the segment holding `offset`: the last one whose base offset <= offset.
size_t segment_for(const std::vector<std::shared_ptr<segment>>& segs, int64_t offset) {
  auto it = std::upper_bound(segs.begin(), segs.end(), offset,
                             [](int64_t o, const std::shared_ptr<segment>& s) {
                               return o < s->base_offset();
                             });
  return it == segs.begin() ? 0 : size_t(it - segs.begin()) - 1;
}

std::error_code scan_error(scan_status st) {
  // A header that does not parse where the index or the previous batch said a batch
  // starts means a truncation raced this read (or the disk lies): the caller retries.
  return make_error_code(st == scan_status::io_error ? errc::io_error : errc::corrupt_segment);
}

}  // namespace

bool append_range_bytes(const read_result& rd, std::vector<uint8_t>& out) {
  for (const auto& fr : rd.ranges) {
    const size_t at = out.size();
    out.resize(at + fr.size);
    size_t done = 0;
    while (done < fr.size) {
      ssize_t n = ::pread(fr.fd, out.data() + at + done, fr.size - done, static_cast<off_t>(fr.position + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        out.resize(at + done);
        return false;
      }
      done += size_t(n);
    }
  }
  return true;
}

result<read_result> log::read(int64_t offset, int32_t max_bytes, int64_t max_offset,
                              bool min_one_batch) const {
  if (offline_.load()) return make_error_code(errc::log_offline);
  for (int attempt = 0;; ++attempt) {
    auto r = read_once(offset, max_bytes, max_offset, min_one_batch);
    // corrupt_segment: a truncation raced the read; not_found: retention or the cleaner
    // removed a segment of the snapshot. A new snapshot sees the log as it is now.
    if (r || (r.error() != errc::corrupt_segment && r.error() != errc::not_found && r.error() != errc::io_error))
      return r;
    if (attempt == 2) {
      // Still failing with the log as it is now: the segment is unreadable, damaged or
      // gone from the disk. Kafka's LogDirFailureChannel: its directory goes offline.
      fail_io(r.error(), "reading offset " + std::to_string(offset));
      return r;
    }
  }
}

result<read_result> log::read_once(int64_t offset, int32_t max_bytes, int64_t max_offset,
                                   bool min_one_batch) const {
  read_result r;
  // Order matters: the LEO first, then the segments and their sizes. The writer
  // publishes them in the opposite order, so everything below this LEO is visible.
  r.log_end_offset = leo_.load(std::memory_order_acquire);
  r.high_watermark = hw_.load(std::memory_order_acquire);
  r.log_start_offset = log_start_.load(std::memory_order_acquire);
  auto segs = snapshot();
  if (offset < r.log_start_offset || offset > r.log_end_offset) return errc::offset_out_of_range;
  const int64_t limit = std::min(max_offset, r.log_end_offset);
  if (offset >= limit) return r;
  uint64_t budget = uint64_t(std::max(max_bytes, 0));
  const size_t first = segment_for(*segs, offset);

  for (size_t i = first; i < segs->size(); ++i) {
    segment& seg = *(*segs)[i];
    const uint64_t seg_size = seg.size();
    // Held until the bytes are sent (file_range::keepalive): the cache may close its
    // own reference meanwhile.
    auto lf = seg.open_log();
    if (!lf) return lf.error();
    fs::file& log_file = *lf.value();
    batch_info b;
    scan_status st = i == first ? seg.find_batch(offset, seg_size, &b)
                                : read_batch_header(log_file, 0, seg_size, &b);
    if (st == scan_status::end) continue;  // nothing at or after `offset` in this segment
    if (st != scan_status::ok) return scan_error(st);
    const uint64_t start = b.position;
    uint64_t end = start;
    bool done = false;
    while (true) {
      if (b.last_offset >= limit) {
        done = true;
        break;
      }
      if (b.size > budget) {
        if (!(min_one_batch && r.bytes == 0 && end == start)) {
          done = true;
          break;
        }
        budget = b.size;
      }
      end = b.position + b.size;
      budget -= b.size;
      // Skip ahead through the index: every batch before an entry whose offset is below
      // the limit and whose position is within budget is whole and readable, so no
      // header in between needs reading.
      auto ix = seg.indexes();
      if (!ix) return ix.error();
      const offset_index& idx = *ix.value()->offsets;
      size_t n = idx.count_below(limit, std::min<uint64_t>(end + budget, seg_size));
      if (n > 0) {
        auto e = idx.entry(n - 1);
        if (e.position > end && e.position <= seg_size) {
          budget -= e.position - end;
          end = e.position;
        }
      }
      st = read_batch_header(log_file, end, seg_size, &b);
      if (st == scan_status::end) break;
      if (st != scan_status::ok) return scan_error(st);
    }
    if (end > start) {
      r.ranges.push_back({log_file.fd(), start, uint32_t(end - start), lf.value()});
      r.bytes += end - start;
    }
    if (done || budget == 0) break;
  }
  return r;
}

std::optional<timestamp_lookup> log::offset_for_timestamp(int64_t ts, int64_t max_offset) const {
  const int64_t log_start = log_start_.load(std::memory_order_acquire);
  auto segs = snapshot();
  for (const auto& sp : *segs) {
    segment& seg = *sp;
    if (seg.max_timestamp().timestamp < ts) continue;
    auto ix = seg.indexes();
    auto lf = seg.open_log();
    if (!ix || !lf) return std::nullopt;
    // Every batch before the time-index entry's offset has a smaller max timestamp.
    auto t = ix.value()->times->lookup(ts);
    uint64_t pos = ix.value()->offsets->lookup(std::max(t.offset, log_start)).position;
    const uint64_t limit = seg.size();
    batch_info b;
    while (read_batch_header(*lf.value(), pos, limit, &b) == scan_status::ok) {
      if (b.max_timestamp >= ts && b.last_offset >= log_start) {
        int64_t off = std::max(b.base_offset, log_start);
        if (off >= max_offset) return std::nullopt;
        return timestamp_lookup{b.max_timestamp, off, b.leader_epoch};
      }
      pos += b.size;
    }
  }
  return std::nullopt;
}

timestamp_and_offset log::max_timestamp_and_offset() const {
  auto segs = snapshot();
  timestamp_and_offset best{-1, -1};
  for (const auto& sp : *segs) {
    auto m = sp->max_timestamp();
    if (m.timestamp > best.timestamp) best = {m.timestamp, m.offset};
  }
  return best;
}

}  // namespace strata::storage
