#pragma once
// Helpers shared by the records tests: hex fixtures, seeded randomness, hand-made
// batches around a raw records payload.
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_header.h"

namespace strata::records::test {

using bytes = std::vector<uint8_t>;

inline bytes from_hex(std::string_view hex) {
  bytes out;
  auto nibble = [](char c) -> uint8_t {
    return uint8_t(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  };
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(uint8_t(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

inline bytes to_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }

// Deterministic randomness: a fixed seed unless STRATA_TEST_SEED is set; printed.
inline std::mt19937_64 seeded_rng() {
  const char* env = std::getenv("STRATA_TEST_SEED");
  uint64_t seed = env ? std::strtoull(env, nullptr, 10) : 20240521;
  std::cout << "seed " << seed << " (set STRATA_TEST_SEED to change)\n";
  return std::mt19937_64(seed);
}

inline bytes random_bytes(std::mt19937_64& rng, size_t n) {
  bytes v(n);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

// Compressible text-like data.
inline bytes text_bytes(std::mt19937_64& rng, size_t n) {
  static constexpr std::string_view words[] = {"kafka ", "strata ", "record ", "batch ",
                                               "offset ", "leader ", "epoch ", "\n"};
  bytes v;
  v.reserve(n + 8);
  while (v.size() < n) {
    std::string_view w = words[rng() % std::size(words)];
    v.insert(v.end(), w.begin(), w.end());
  }
  v.resize(n);
  return v;
}

// A batch with the given header fields around `payload` (taken as is: records, or
// a compressed blob), with a correct CRC.
struct raw_batch {
  int64_t base_offset = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 1000;
  int64_t max_timestamp = 1000;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t records_count = 1;
  int8_t magic = 2;

  bytes build(const bytes& payload) const {
    bytes b(kBatchHeaderSize);
    uint8_t* p = b.data();
    store_be64(p + off::base_offset, uint64_t(base_offset));
    store_be32(p + off::batch_length, uint32_t(kBatchHeaderSize - kLogOverhead + payload.size()));
    store_be32(p + off::partition_leader_epoch, 0);
    p[off::magic] = uint8_t(magic);
    store_be16(p + off::attributes, uint16_t(attributes));
    store_be32(p + off::last_offset_delta, uint32_t(last_offset_delta));
    store_be64(p + off::base_timestamp, uint64_t(base_timestamp));
    store_be64(p + off::max_timestamp, uint64_t(max_timestamp));
    store_be64(p + off::producer_id, uint64_t(producer_id));
    store_be16(p + off::producer_epoch, uint16_t(producer_epoch));
    store_be32(p + off::base_sequence, uint32_t(base_sequence));
    store_be32(p + off::records_count, uint32_t(records_count));
    b.insert(b.end(), payload.begin(), payload.end());
    update_batch_crc(b);
    return b;
  }
};

// Zigzag varint encoding, for hand-made records.
inline void put_varint(bytes& out, int64_t v) {
  uint64_t z = (uint64_t(v) << 1) ^ uint64_t(v >> 63);
  while (z >= 0x80) {
    out.push_back(uint8_t(z | 0x80));
    z >>= 7;
  }
  out.push_back(uint8_t(z));
}

// A simple batch of `n` records "key-i" -> "value-i" built with our builder.
inline bytes simple_batch(int n, compression codec = compression::none, int64_t ts = 1000) {
  batch_options o;
  o.codec = codec;
  batch_builder b(o);
  for (int i = 0; i < n; ++i) {
    std::string k = "key-" + std::to_string(i), v = "value-" + std::to_string(i);
    b.add(ts + i, as_bytes(k), as_bytes(v));
  }
  bytes out;
  if (b.finish(out) != errc::ok) std::abort();
  return out;
}

inline constexpr compression kAllCodecs[] = {compression::none, compression::gzip,
                                             compression::snappy, compression::lz4,
                                             compression::zstd};

inline constexpr compression kRealCodecs[] = {compression::gzip, compression::snappy,
                                              compression::lz4, compression::zstd};

inline std::string codec_name(compression c) {
  switch (c) {
    case compression::none: return "none";
    case compression::gzip: return "gzip";
    case compression::snappy: return "snappy";
    case compression::lz4: return "lz4";
    case compression::zstd: return "zstd";
  }
  return "unknown";
}

}  // namespace strata::records::test
