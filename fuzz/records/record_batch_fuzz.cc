// libFuzzer target: RecordBatch v2 validation and record iteration, with
// decompression under a limit. The input is taken as a buffer of batches twice: as is
// (so the CRC check itself is fuzzed) and with every batch's CRC repaired (so the
// mutations reach the record parser and the decompressors).
//
// Checked beyond "no crash": a buffer valid for clients is valid in the log; the
// visitor's batches tile valid_bytes exactly; a batch whose records read cleanly
// survives a rebuild with batch_builder record for record; and validate_records (a
// tight loop of its own) gives the verdict of a walk with record_iterator.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_validate.h"
#include "protocol/records/record_iterator.h"

namespace {

using namespace strata::records;

constexpr size_t kLimit = 1 << 20;

#define FUZZ_CHECK(cond) \
  do {                   \
    if (!(cond)) __builtin_trap(); \
  } while (0)

bool same(const nullable_bytes& a, const nullable_bytes& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::equal(a->begin(), a->end(), b->begin(), b->end());
}

// Rebuilds an uncompressed copy of a cleanly read batch and checks it reads the same.
void rebuild_and_compare(std::span<const uint8_t> batch) {
  static std::vector<uint8_t> scratch;  // not the caller's: its views stay valid
  record_iterator it(batch, scratch, iterate_options{kLimit});
  const batch_header_view h = it.header();
  batch_options o;
  o.base_offset = h.base_offset();
  o.producer_id = h.producer_id();
  o.producer_epoch = h.producer_epoch();
  o.base_sequence = h.base_sequence();
  o.last_offset_delta = h.last_offset_delta();
  batch_builder b(o);
  std::vector<std::vector<record_header>> headers;
  std::vector<record> originals;
  record r;
  int32_t prev = -1;
  if (h.records_count() > 1000) return;
  while (it.next(r)) {
    if (r.offset_delta <= prev) return;  // the builder needs increasing deltas
    prev = r.offset_delta;
    headers.emplace_back(r.headers.begin(), r.headers.end());
    originals.push_back(r);
  }
  if (!it.ok()) return;
  for (size_t i = 0; i < originals.size(); ++i)
    b.add_at(originals[i].offset_delta,
             {it.timestamp_of(originals[i]), originals[i].key, originals[i].value, headers[i]});
  std::vector<uint8_t> out;
  if (b.finish(out) != errc::ok) return;  // e.g. last_offset_delta below a record's delta
  validate_options lo;
  lo.mode = validate_mode::log;
  FUZZ_CHECK(validate_batches(out, lo).ok() || h.records_count() > h.last_offset_delta() + 1);
  std::vector<uint8_t> scratch2;
  record_iterator again(out, scratch2);
  size_t i = 0;
  while (again.next(r)) {
    FUZZ_CHECK(i < originals.size());
    FUZZ_CHECK(r.offset_delta == originals[i].offset_delta);
    FUZZ_CHECK(again.timestamp_of(r) == it.timestamp_of(originals[i]) || h.is_log_append_time());
    FUZZ_CHECK(same(r.key, originals[i].key));
    FUZZ_CHECK(same(r.value, originals[i].value));
    size_t k = 0;
    for (const record_header& rh : r.headers) {
      FUZZ_CHECK(k < headers[i].size());
      FUZZ_CHECK(std::equal(rh.key.begin(), rh.key.end(), headers[i][k].key.begin(),
                            headers[i][k].key.end()));
      FUZZ_CHECK(same(rh.value, headers[i][k].value));
      ++k;
    }
    FUZZ_CHECK(k == headers[i].size());
    ++i;
  }
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(i == originals.size());
}

// validate_records as a walk with record_iterator: the definition the fast loop
// must agree with.
errc validate_by_iteration(std::span<const uint8_t> batch, std::vector<uint8_t>& scratch,
                           validate_mode mode) {
  record_iterator it(batch, scratch, iterate_options{kLimit});
  if (!it.ok()) return it.error();
  const int32_t last = it.header().last_offset_delta();
  if (last < 0) return errc::invalid_offset_range;
  if (mode == validate_mode::client && int64_t(it.header().records_count()) != int64_t(last) + 1)
    return errc::invalid_record_count;
  record r;
  int64_t prev = -1;
  while (it.next(r)) {
    if (r.offset_delta <= prev || r.offset_delta > last) return errc::invalid_record;
    if (mode == validate_mode::client && r.offset_delta != it.records_read() - 1)
      return errc::invalid_record;
    prev = r.offset_delta;
  }
  return it.error();
}

void exercise(std::span<const uint8_t> buf, std::vector<uint8_t>& scratch) {
  validate_result client_result;
  for (validate_mode mode : {validate_mode::client, validate_mode::log}) {
    validate_options o;
    o.mode = mode;
    o.allow_partial_tail = mode == validate_mode::log;
    size_t expect_pos = 0;
    validate_result r = validate_batches(buf, o, [&](const batch_info& info) {
      FUZZ_CHECK(info.position == expect_pos);
      expect_pos += info.size;
      std::span<const uint8_t> batch = buf.subspan(info.position, info.size);
      record_iterator it(batch, scratch, iterate_options{kLimit});
      record rec;
      int32_t n = 0;
      while (it.next(rec)) {
        ++n;
        for (const record_header& h : rec.headers) (void)h;
      }
      FUZZ_CHECK(n <= info.records_count);
      if (it.ok()) {
        FUZZ_CHECK(n == info.records_count);
        rebuild_and_compare(batch);
      }
      const errc expected = validate_by_iteration(batch, scratch, mode);
      FUZZ_CHECK(validate_records(batch, scratch, mode, iterate_options{kLimit}) == expected);
    });
    FUZZ_CHECK(r.valid_bytes == expect_pos);
    if (mode == validate_mode::client) client_result = r;
    else if (client_result.ok()) FUZZ_CHECK(r.ok() && r.batch_count == client_result.batch_count);
  }
  // The iterator on bytes nobody validated.
  record_iterator it(buf, scratch, iterate_options{kLimit});
  record rec;
  while (it.next(rec)) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::vector<uint8_t> scratch;
  std::span<const uint8_t> in(data, size);
  exercise(in, scratch);

  std::vector<uint8_t> fixed(in.begin(), in.end());
  size_t pos = 0;
  while (fixed.size() - pos >= kBatchHeaderSize) {
    const int32_t len = int32_t(load_be32(fixed.data() + pos + off::batch_length));
    if (len < kMinBatchLength || size_t(len) + kLogOverhead > fixed.size() - pos) break;
    update_batch_crc(std::span(fixed).subspan(pos, kLogOverhead + size_t(len)));
    pos += kLogOverhead + size_t(len);
  }
  if (pos > 0) exercise(fixed, scratch);
  return 0;
}
