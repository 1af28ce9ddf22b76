#include "storage/time_index.h"

#include "protocol/records/batch_header.h"

namespace strata::storage {

result<std::unique_ptr<time_index>> time_index::open(fs::file_system& fs, const std::string& path,
                                                     int64_t base_offset, size_t capacity_bytes) {
  auto idx = mapped_index::open(fs, path, kEntrySize, capacity_bytes);
  if (!idx) return idx.error();
  return std::unique_ptr<time_index>(new time_index(std::move(idx).value(), base_offset));
}

timestamp_offset time_index::entry(size_t i) const {
  const uint8_t* p = idx_->at(i);
  uint64_t ts = (uint64_t(load_be32_relaxed(p)) << 32) | load_be32_relaxed(p + 4);
  return {int64_t(ts), base_offset_ + int64_t(load_be32_relaxed(p + 8))};
}

timestamp_offset time_index::last_entry() const {
  size_t n = entries();
  if (n == 0) return {-1, base_offset_};
  return entry(n - 1);
}

bool time_index::load() {
  size_t n = idx_->file_entries();
  size_t valid = 0;
  bool damaged = false;
  int64_t prev_ts = -1;
  int64_t prev_off = base_offset_;
  for (; valid < n; ++valid) {
    if (idx_->is_zero_entry(valid)) break;
    auto e = entry(valid);
    if (e.timestamp <= prev_ts || e.offset < prev_off) {
      damaged = true;
      break;
    }
    prev_ts = e.timestamp;
    prev_off = e.offset;
  }
  for (size_t i = valid; !damaged && i < n; ++i) damaged = !idx_->is_zero_entry(i);
  if (damaged) return false;
  return !idx_->set_loaded_entries(valid);
}

timestamp_offset time_index::lookup(int64_t target) const {
  size_t n = entries();
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (entry(mid).timestamp <= target) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return {-1, base_offset_};
  return entry(lo - 1);
}

bool time_index::maybe_append(int64_t timestamp, int64_t offset) {
  auto last = last_entry();
  if (timestamp <= last.timestamp) return false;
  int64_t rel = offset - base_offset_;
  if (rel < 0 || rel > int64_t(UINT32_MAX) || offset < last.offset) return false;
  uint8_t e[kEntrySize];
  records::store_be64(e, uint64_t(timestamp));
  records::store_be32(e + 8, uint32_t(rel));
  return idx_->append(e);
}

void time_index::truncate_to(int64_t target) {
  size_t n = entries();
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (entry(mid).offset < target) lo = mid + 1; else hi = mid;
  }
  idx_->truncate_entries(lo);
}

}  // namespace strata::storage
