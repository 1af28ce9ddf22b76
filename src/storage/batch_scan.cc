#include "storage/batch_scan.h"

#include <algorithm>
#include <cstring>

#include "base/crc32c.h"
#include "protocol/records/batch_header.h"

namespace strata::storage {
namespace {

constexpr size_t kReadChunk = 1 << 20;
constexpr int32_t kMinBatchLength = int32_t(records::kBatchHeaderSize - records::kLogOverhead);

}  // namespace

bool parse_batch_header(const uint8_t* hdr, uint64_t position, batch_info* out) {
  records::batch_header_view v(hdr);
  if (v.magic() != 2 || v.batch_length() < kMinBatchLength || v.last_offset_delta() < 0 ||
      v.base_offset() < 0) {
    return false;
  }
  out->position = position;
  out->size = uint32_t(v.total_size());
  out->base_offset = v.base_offset();
  out->last_offset = v.last_offset();
  out->max_timestamp = v.max_timestamp();
  out->leader_epoch = v.partition_leader_epoch();
  return true;
}

scan_status read_batch_header(fs::file& f, uint64_t position, uint64_t limit, batch_info* out) {
  if (position >= limit) return scan_status::end;
  uint8_t hdr[records::kBatchHeaderSize];
  size_t want = size_t(std::min<uint64_t>(sizeof hdr, limit - position));
  auto n = f.pread(hdr, want, position);
  if (!n) return scan_status::io_error;
  if (n.value() < sizeof hdr) return scan_status::incomplete;
  if (!parse_batch_header(hdr, position, out)) return scan_status::corrupt;
  if (position + out->size > limit) return scan_status::incomplete;
  return scan_status::ok;
}

batch_reader::batch_reader(fs::file& f, uint64_t start, uint64_t limit, bool verify_crc)
    : f_(f), pos_(start), limit_(limit), verify_crc_(verify_crc) {}

scan_status batch_reader::fill(size_t n) {
  if (pos_ >= buf_start_ && pos_ + n <= buf_start_ + buf_len_) return scan_status::ok;
  if (pos_ + n > limit_) return scan_status::incomplete;
  size_t want = size_t(std::min<uint64_t>(std::max(n, kReadChunk), limit_ - pos_));
  if (buf_.size() < want) buf_.resize(want);
  auto r = f_.pread(buf_.data(), want, pos_);
  if (!r) return scan_status::io_error;
  buf_start_ = pos_;
  buf_len_ = r.value();
  return buf_len_ >= n ? scan_status::ok : scan_status::incomplete;
}

scan_status batch_reader::next(batch_info* out) {
  last_ = {};
  if (pos_ >= limit_) return scan_status::end;
  if (auto s = fill(records::kBatchHeaderSize); s != scan_status::ok) return s;
  const uint8_t* hdr = buf_.data() + (pos_ - buf_start_);
  if (!parse_batch_header(hdr, pos_, out)) return scan_status::corrupt;
  if (pos_ + out->size > limit_) return scan_status::incomplete;
  if (verify_crc_) {
    if (auto s = fill(out->size); s != scan_status::ok) return s;
    const uint8_t* b = buf_.data() + (pos_ - buf_start_);
    uint32_t want = records::batch_header_view(b).crc();
    uint32_t got = base::crc32c(b + records::kCrcStart, out->size - records::kCrcStart);
    if (want != got) return scan_status::corrupt;
    last_ = {b, out->size};
  }
  pos_ += out->size;
  return scan_status::ok;
}

}  // namespace strata::storage
