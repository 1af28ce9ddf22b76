#pragma once
// Errors of the records library (validation, iteration, codecs, building).
//
// Mapping to Kafka wire codes is done in broker/ (STYLE 2.4); the comment on each
// value says what Kafka answers for the same fault, so that mapping is mechanical.
#include <cstdint>
#include <string_view>
#include <system_error>

namespace strata::records {

enum class errc : uint8_t {
  ok = 0,
  // Header and framing, found by validate_batches (the produce hot path).
  truncated,                // buffer ends inside a batch header or body       CORRUPT_MESSAGE
  batch_too_small,          // batch_length < 49                               CORRUPT_MESSAGE
  batch_too_large,          // larger than the caller's max_batch_size         MESSAGE_TOO_LARGE
  unsupported_magic,        // magic != 2                                      INVALID_RECORD (Produce v3+)
  crc_mismatch,             // CRC-32C over [21, end) differs                  CORRUPT_MESSAGE
  unsupported_compression,  // codec bits 5, 6 or 7                            CORRUPT_MESSAGE
  invalid_offset_range,     // last_offset_delta < 0                           INVALID_RECORD
  invalid_record_count,     // count < 0; from clients also 0 or != delta + 1  INVALID_RECORD
  invalid_sequence,         // producer id set but base_sequence < 0 (client)  INVALID_RECORD
  control_batch_from_client,// clients may not write control batches           INVALID_RECORD
  // Record level, found by record_iterator.
  invalid_record,           // a record's varint framing is wrong              INVALID_RECORD
  missing_key,              // a record without a key for a compacted topic    INVALID_RECORD
  decompression_failed,     // the compressed blob does not decode             CORRUPT_MESSAGE
  decompressed_too_large,   // it decodes past the caller's limit              CORRUPT_MESSAGE
  // Codecs and builder.
  compression_failed,       // the codec library refused to compress           UNKNOWN_SERVER_ERROR
};

std::string_view to_string(errc e);

const std::error_category& records_category();
inline std::error_code make_error_code(errc e) { return {int(e), records_category()}; }

}  // namespace strata::records

template <>
struct std::is_error_code_enum<strata::records::errc> : std::true_type {};
