#include "storage/offset_index.h"

#include "protocol/records/batch_header.h"

namespace strata::storage {

result<std::unique_ptr<offset_index>> offset_index::open(fs::file_system& fs,
                                                         const std::string& path,
                                                         int64_t base_offset,
                                                         size_t capacity_bytes) {
  auto idx = mapped_index::open(fs, path, kEntrySize, capacity_bytes);
  if (!idx) return idx.error();
  return std::unique_ptr<offset_index>(new offset_index(std::move(idx).value(), base_offset));
}

offset_position offset_index::entry(size_t i) const {
  const uint8_t* p = idx_->at(i);
  return {base_offset_ + int64_t(load_be32_relaxed(p)), load_be32_relaxed(p + 4)};
}

bool offset_index::load(uint64_t log_size) {
  size_t n = idx_->file_entries();
  size_t valid = 0;
  bool damaged = false;
  int64_t prev_off = -1;
  int64_t prev_pos = 0;
  for (; valid < n; ++valid) {
    if (idx_->is_zero_entry(valid)) break;
    const uint8_t* p = idx_->at(valid);
    int64_t rel = int64_t(load_be32_relaxed(p));
    int64_t pos = int64_t(load_be32_relaxed(p + 4));
    if (rel <= prev_off || pos <= prev_pos || uint64_t(pos) >= log_size) {
      damaged = true;
      break;
    }
    prev_off = rel;
    prev_pos = pos;
  }
  // Anything but zeros after the valid prefix means the file is not one we wrote.
  for (size_t i = valid; !damaged && i < n; ++i) damaged = !idx_->is_zero_entry(i);
  if (damaged) return false;
  return !idx_->set_loaded_entries(valid);
}

offset_position offset_index::lookup(int64_t target) const {
  size_t n = entries();
  // First entry with offset > target.
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (entry(mid).offset <= target) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return {base_offset_, 0};
  return entry(lo - 1);
}

size_t offset_index::count_below(int64_t offset_limit, uint64_t position_limit) const {
  size_t n = entries();
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    auto e = entry(mid);
    if (e.offset < offset_limit && e.position <= position_limit) lo = mid + 1; else hi = mid;
  }
  return lo;
}

bool offset_index::append(int64_t offset, uint32_t position) {
  int64_t rel = offset - base_offset_;
  if (rel < 0 || rel > int64_t(UINT32_MAX)) return false;
  size_t n = entries();
  if (n > 0) {
    auto last = entry(n - 1);
    if (last.offset >= offset || last.position >= position) return false;
  }
  uint8_t e[kEntrySize];
  records::store_be32(e, uint32_t(rel));
  records::store_be32(e + 4, position);
  return idx_->append(e);
}

void offset_index::truncate_to(int64_t target) {
  size_t n = entries();
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (entry(mid).offset < target) lo = mid + 1; else hi = mid;
  }
  idx_->truncate_entries(lo);
}

}  // namespace strata::storage
