#include "protocol/records/errc.h"

#include <string>

namespace strata::records {

std::string_view to_string(errc e) {
  switch (e) {
    case errc::ok: return "ok";
    case errc::truncated: return "truncated record batch";
    case errc::batch_too_small: return "record batch smaller than its header";
    case errc::batch_too_large: return "record batch larger than allowed";
    case errc::unsupported_magic: return "unsupported record batch magic";
    case errc::crc_mismatch: return "record batch CRC mismatch";
    case errc::unsupported_compression: return "unknown compression codec";
    case errc::invalid_offset_range: return "invalid record batch offset range";
    case errc::invalid_record_count: return "invalid record count";
    case errc::invalid_sequence: return "invalid base sequence";
    case errc::control_batch_from_client: return "clients may not write control batches";
    case errc::invalid_record: return "invalid record framing";
    case errc::missing_key: return "a compacted topic cannot accept a record without a key";
    case errc::decompression_failed: return "decompression failed";
    case errc::decompressed_too_large: return "decompressed size over the limit";
    case errc::compression_failed: return "compression failed";
  }
  return "unknown records error";
}

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "strata.records"; }
  std::string message(int ev) const override { return std::string(to_string(errc(ev))); }
};
}  // namespace

const std::error_category& records_category() {
  static const category c;
  return c;
}

}  // namespace strata::records
