#pragma once
// The four Kafka compression codecs, behind one interface. This is the only place in
// Strata that includes zlib, snappy, lz4 or zstd headers (STYLE 2.10).
//
// Formats, as Kafka clients write them:
//   gzip    RFC 1952 gzip framing (zlib deflate with a gzip header); concatenated
//           members are accepted on decompress.
//   snappy  raw snappy (librdkafka, Go clients) or the xerial framing of the Java
//           client: "\x82SNAPPY\0", i32 version, i32 min-compatible version, then
//           chunks of i32 big-endian length + raw snappy block. Decompress detects
//           the xerial magic; compress writes xerial by default (what the Java client
//           writes; every client reads both).
//   lz4     LZ4 frame format (Kafka's KafkaLZ4BlockOutputStream, KIP-57 checksums):
//           64 KiB independent blocks, no content size, no content checksum.
//   zstd    zstd frames; the content size may be absent (streaming compressors), so
//           decompression streams.
//
// Decompression never trusts a size it reads: output grows as bytes are actually
// produced, and stops with errc::decompressed_too_large once it would pass
// `max_output`. zstd's window is capped at max(8 MiB, max_output) so a hostile frame
// header cannot make the decoder allocate a 128 MiB window.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/records/batch_header.h"
#include "protocol/records/errc.h"

namespace strata::records {

enum class snappy_framing : uint8_t { xerial, raw };

struct compress_options {
  // Codec level; kDefaultLevel picks Kafka's default (gzip 6 via Z_DEFAULT_COMPRESSION,
  // lz4 fast mode, zstd 3).
  static constexpr int kDefaultLevel = -1000;
  int level = kDefaultLevel;
  snappy_framing snappy = snappy_framing::xerial;
  size_t xerial_block_size = 32 * 1024;  // the Java client's SnappyOutputStream block
};

// Appends the compressed form of `in` to `out`. compression::none copies.
errc compress(compression codec, std::span<const uint8_t> in, std::vector<uint8_t>& out,
              const compress_options& opts = {});

// Appends the decompressed form of `in` to `out`, producing at most `max_output`
// bytes (counted from what this call appends). compression::none copies, subject to
// the same limit. Empty input is an error for every real codec. On error `out` keeps
// its original size.
errc decompress(compression codec, std::span<const uint8_t> in, std::vector<uint8_t>& out,
                size_t max_output);

// True when `in` starts with the xerial snappy magic (exposed for tests).
bool is_xerial_snappy(std::span<const uint8_t> in);

}  // namespace strata::records
