#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define STRATA_CRC32C_HW 1
#else
#define STRATA_CRC32C_HW 0
#endif

// Two implementations of CRC-32C (Castagnoli, reflected polynomial 0x82F63B78):
//
// - portable: slicing-by-8 (eight 256-entry tables, one 8-byte word per step);
// - hardware: the SSE4.2 crc32 instruction, 8 bytes at a time. The instruction has a
//   latency of 3 cycles and a throughput of 1 per cycle, so large buffers are split
//   into three streams processed together and recombined with a "shift by N zero
//   bytes" operator (the approach of Mark Adler's crc32c.c, written afresh here).
//
// All tables are computed at compile time. The hardware function carries
// __attribute__((target("sse4.2"))), so the rest of the project is not built with
// -msse4.2; the choice between the two is made once, from CPUID.

namespace strata::base {
namespace {

constexpr uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

using table256 = std::array<uint32_t, 256>;

constexpr std::array<table256, 8> make_slicing_tables() {
  std::array<table256, 8> t{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = t[0][n];
    for (size_t k = 1; k < 8; ++k) {
      c = t[0][c & 0xff] ^ (c >> 8);
      t[k][n] = c;
    }
  }
  return t;
}

constexpr std::array<table256, 8> kSlice = make_slicing_tables();

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

}  // namespace

uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = kSlice[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    --n;
  }
  while (n >= 8) {
    uint64_t w = load_le64(p) ^ c;
    c = kSlice[7][w & 0xff] ^ kSlice[6][(w >> 8) & 0xff] ^ kSlice[5][(w >> 16) & 0xff] ^
        kSlice[4][(w >> 24) & 0xff] ^ kSlice[3][(w >> 32) & 0xff] ^
        kSlice[2][(w >> 40) & 0xff] ^ kSlice[1][(w >> 48) & 0xff] ^ kSlice[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = kSlice[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    --n;
  }
  return ~c;
}

#if STRATA_CRC32C_HW
namespace {

// GF(2) 32x32 matrices, one uint32_t column per input bit, used to build the
// operator that appends `len` zero bytes to a raw (non-inverted) CRC register.
using gf2_matrix = std::array<uint32_t, 32>;

constexpr uint32_t gf2_times(const gf2_matrix& m, uint32_t v) {
  uint32_t sum = 0;
  for (size_t i = 0; v != 0; ++i, v >>= 1)
    if (v & 1) sum ^= m[i];
  return sum;
}

constexpr gf2_matrix gf2_square(const gf2_matrix& m) {
  gf2_matrix sq{};
  for (size_t i = 0; i < 32; ++i) sq[i] = gf2_times(m, m[i]);
  return sq;
}

constexpr gf2_matrix gf2_compose(const gf2_matrix& a, const gf2_matrix& b) {
  gf2_matrix r{};
  for (size_t i = 0; i < 32; ++i) r[i] = gf2_times(a, b[i]);
  return r;
}

// The operator for `len` zero bytes, as four byte-indexed tables:
// shift(crc) = t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ ...
constexpr std::array<table256, 4> make_shift_tables(size_t len) {
  gf2_matrix op{};  // one zero bit
  op[0] = kPoly;
  for (size_t i = 1; i < 32; ++i) op[i] = uint32_t(1) << (i - 1);
  for (int i = 0; i < 3; ++i) op = gf2_square(op);  // one zero byte
  gf2_matrix result{};
  for (size_t i = 0; i < 32; ++i) result[i] = uint32_t(1) << i;  // identity
  for (; len != 0; len >>= 1) {  // exponentiation by squaring
    if (len & 1) result = gf2_compose(op, result);
    op = gf2_square(op);
  }
  std::array<table256, 4> t{};
  for (uint32_t n = 0; n < 256; ++n) {
    t[0][n] = gf2_times(result, n);
    t[1][n] = gf2_times(result, n << 8);
    t[2][n] = gf2_times(result, n << 16);
    t[3][n] = gf2_times(result, n << 24);
  }
  return t;
}

// Block sizes (bytes per stream) of the three-stream loops, largest first: a buffer
// takes as many blocks of each size as fit, so a 16 KiB record batch pays for few
// recombinations and a 1 MiB buffer almost none.
constexpr size_t kLong = 8192;
constexpr size_t kMedium = 1024;
constexpr size_t kShort = 256;

constexpr std::array<table256, 4> kShiftLong = make_shift_tables(kLong);
constexpr std::array<table256, 4> kShiftMedium = make_shift_tables(kMedium);
constexpr std::array<table256, 4> kShiftShort = make_shift_tables(kShort);

inline uint32_t shift(const std::array<table256, 4>& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

// Consumes blocks of 3 * Block bytes: three independent crc32 chains over the three
// thirds, then CRC(a || b || c) = shift(shift(crc_a) ^ crc_b) ^ crc_c (raw registers).
template <size_t Block>
__attribute__((target("sse4.2"), always_inline)) inline void three_streams(
    uint64_t& c0, const uint8_t*& p, size_t& n, const std::array<table256, 4>& t) {
  while (n >= 3 * Block) {
    uint64_t c1 = 0, c2 = 0;
    const uint8_t* end = p + Block;
    do {
      c0 = _mm_crc32_u64(c0, load_le64(p));
      c1 = _mm_crc32_u64(c1, load_le64(p + Block));
      c2 = _mm_crc32_u64(c2, load_le64(p + 2 * Block));
      p += 8;
    } while (p < end);
    c0 = shift(t, uint32_t(c0)) ^ uint32_t(c1);
    c0 = shift(t, uint32_t(c0)) ^ uint32_t(c2);
    p += 2 * Block;
    n -= 3 * Block;
  }
}

__attribute__((target("sse4.2"))) uint32_t crc32c_extend_sse42(uint32_t crc, const void* data,
                                                               size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t c0 = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c0 = _mm_crc32_u8(uint32_t(c0), *p++);
    --n;
  }
  three_streams<kLong>(c0, p, n, kShiftLong);
  three_streams<kMedium>(c0, p, n, kShiftMedium);
  three_streams<kShort>(c0, p, n, kShiftShort);
  while (n >= 8) {
    c0 = _mm_crc32_u64(c0, load_le64(p));
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c0 = _mm_crc32_u8(uint32_t(c0), *p++);
    --n;
  }
  return ~uint32_t(c0);
}

bool detect_sse42() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}

const bool kHaveSse42 = detect_sse42();

}  // namespace

bool crc32c_hardware_available() { return kHaveSse42; }

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n) {
  return kHaveSse42 ? crc32c_extend_sse42(crc, data, n) : crc32c_extend_portable(crc, data, n);
}

#else  // !STRATA_CRC32C_HW

bool crc32c_hardware_available() { return false; }

uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n) {
  return crc32c_extend_portable(crc, data, n);
}

#endif

}  // namespace strata::base
