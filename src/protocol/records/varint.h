#pragma once
// Zigzag varints as RecordBatch v2 records use them (Kafka's ByteUtils.readVarint /
// readVarlong / writeVarint / writeVarlong). Internal to protocol/records: the wire
// reader in protocol/ has its own, but records/ sits below protocol/ (STYLE 2.1).
//
// Decoding matches Kafka: at most 5 bytes for a varint and 10 for a varlong (a
// continuation bit on the last allowed byte is an error); surplus high bits in the
// last byte are dropped, as Java's shifts drop them.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace strata::records::detail {

// Reads a zigzag varint at p (p < end not required). Advances p and returns true on
// success; on failure p is unspecified and false is returned.
inline bool read_varint(const uint8_t*& p, const uint8_t* end, int32_t& out) {
  // Fast paths for the one- and two-byte varints that most lengths and deltas in a
  // record are; the loop below handles the rest (and the end of the buffer).
  if (end - p >= 2) {
    uint32_t v = p[0];
    if (v < 0x80) {
      p += 1;
      out = int32_t((v >> 1) ^ (~(v & 1) + 1));
      return true;
    }
    if (p[1] < 0x80) {
      v = (v & 0x7f) | (uint32_t(p[1]) << 7);
      p += 2;
      out = int32_t((v >> 1) ^ (~(v & 1) + 1));
      return true;
    }
  }
  uint32_t v = 0;
  for (int shift = 0; shift <= 28; shift += 7) {
    if (p == end) return false;
    uint8_t b = *p++;
    v |= uint32_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      out = int32_t((v >> 1) ^ (~(v & 1) + 1));
      return true;
    }
  }
  return false;  // more than 5 bytes
}

inline bool read_varlong(const uint8_t*& p, const uint8_t* end, int64_t& out) {
  if (p != end && *p < 0x80) {
    const uint64_t v = *p++;
    out = int64_t((v >> 1) ^ (~(v & 1) + 1));
    return true;
  }
  uint64_t v = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (p == end) return false;
    uint8_t b = *p++;
    v |= uint64_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      out = int64_t((v >> 1) ^ (~(v & 1) + 1));
      return true;
    }
  }
  return false;  // more than 10 bytes
}

// Steps over a varlong without decoding it: the same bytes read_varlong accepts.
inline bool skip_varlong(const uint8_t*& p, const uint8_t* end) {
  const uint8_t* last = end - p > 10 ? p + 10 : end;
  while (p != last)
    if ((*p++ & 0x80) == 0) return true;
  return false;
}

inline void write_uvarlong(std::vector<uint8_t>& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(uint8_t(v | 0x80));
    v >>= 7;
  }
  out.push_back(uint8_t(v));
}

inline void write_varint(std::vector<uint8_t>& out, int32_t v) {
  write_uvarlong(out, (uint32_t(v) << 1) ^ uint32_t(v >> 31));
}

inline void write_varlong(std::vector<uint8_t>& out, int64_t v) {
  write_uvarlong(out, (uint64_t(v) << 1) ^ uint64_t(v >> 63));
}

inline size_t uvarlong_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) { v >>= 7; ++n; }
  return n;
}
inline size_t varint_size(int32_t v) { return uvarlong_size((uint32_t(v) << 1) ^ uint32_t(v >> 31)); }
inline size_t varlong_size(int64_t v) { return uvarlong_size((uint64_t(v) << 1) ^ uint64_t(v >> 63)); }

}  // namespace strata::records::detail
