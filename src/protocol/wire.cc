#include "protocol/wire.h"

#include <bit>
#include <random>

namespace strata::protocol {

bool uuid::is_zero() const {
  for (auto b : data)
    if (b) return false;
  return true;
}

uuid uuid::random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uuid u;
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    std::memcpy(u.data.data() + half * 8, &v, 8);
  }
  // Version 4, variant 1, like java.util.UUID.randomUUID().
  u.data[6] = static_cast<uint8_t>((u.data[6] & 0x0f) | 0x40);
  u.data[8] = static_cast<uint8_t>((u.data[8] & 0x3f) | 0x80);
  return u;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

std::string uuid::to_base64() const {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 0x3f]);
  return out;  // 22 characters, unpadded
}

std::optional<uuid> uuid::from_base64(std::string_view s) {
  if (s.size() != 22) return std::nullopt;
  uuid u;
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char c : s) {
    const char* pos = std::strchr(kB64, c);
    if (!pos || c == 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(pos - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < 16) u.data[n++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  return n == 16 ? std::optional<uuid>(u) : std::nullopt;
}

size_t records::size() const {
  if (slices.empty()) return memory.size();
  size_t n = memory.size();
  for (const auto& s : slices) n += s.length;
  return n;
}

records& records::operator=(const records& o) {
  if (this == &o) return *this;
  slices = o.slices;
  is_null = o.is_null;
  if (!o.owned.empty() && o.memory.data() == o.owned.data()) {
    owned = o.owned;
    memory = bytes_view(owned.data(), o.memory.size());
  } else {
    owned.clear();
    memory = o.memory;
  }
  return *this;
}

records& records::operator=(records&& o) noexcept {
  if (this == &o) return *this;
  slices = std::move(o.slices);
  is_null = o.is_null;
  const bool points_into_owned = !o.owned.empty() && o.memory.data() == o.owned.data();
  const size_t n = o.memory.size();
  owned = std::move(o.owned);  // vector move keeps the buffer address
  memory = points_into_owned ? bytes_view(owned.data(), n) : o.memory;
  o.memory = {};
  return *this;
}

bool operator==(const records& a, const records& b) {
  if (a.is_null || b.is_null) return a.is_null == b.is_null;
  return a.slices == b.slices && a.memory.size() == b.memory.size() &&
         (a.memory.empty() || std::memcmp(a.memory.data(), b.memory.data(), a.memory.size()) == 0);
}

// ---- reader ----

double reader::read_float64() {
  uint64_t bits = fixed<uint64_t>();
  return std::bit_cast<double>(bits);
}

uuid reader::read_uuid() {
  uuid u;
  auto raw = read_raw(16);
  if (raw.size() == 16) std::memcpy(u.data.data(), raw.data(), 16);
  return u;
}

uint64_t reader::read_uvarlong() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p_ >= end_) { fail(); return 0; }
    uint8_t b = *p_++;
    if (shift == 63 && (b & 0x7e)) { fail(); return 0; }
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail();
  return 0;
}

uint32_t reader::read_uvarint() {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (p_ >= end_) { fail(); return 0; }
    uint8_t b = *p_++;
    if (shift == 28 && (b & 0xf0)) { fail(); return 0; }
    v |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail();
  return 0;
}

int32_t reader::read_varint() {
  uint32_t u = read_uvarint();
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

int64_t reader::read_varlong() {
  uint64_t u = read_uvarlong();
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

int32_t reader::read_string_length(bool compact) {
  int64_t n;
  if (compact) {
    n = static_cast<int64_t>(read_uvarint()) - 1;
  } else {
    n = read_int16();
  }
  if (!ok_) return -1;
  if (n < -1 || n > static_cast<int64_t>(remaining())) { fail(); return -1; }
  return static_cast<int32_t>(n);
}

int32_t reader::read_bytes_length(bool compact) {
  int64_t n;
  if (compact) {
    n = static_cast<int64_t>(read_uvarint()) - 1;
  } else {
    n = read_int32();
  }
  if (!ok_) return -1;
  if (n < -1 || n > static_cast<int64_t>(remaining())) { fail(); return -1; }
  return static_cast<int32_t>(n);
}

int32_t reader::read_array_length(bool compact) {
  // Same bounds as bytes: a count above remaining() cannot be satisfied.
  return read_bytes_length(compact);
}

std::string reader::read_string(bool compact) {
  int32_t n = read_string_length(compact);
  if (n < 0) {
    // A null where the schema says non-nullable is a decode error.
    if (ok_) fail();
    return {};
  }
  auto raw = read_raw(static_cast<size_t>(n));
  return std::string(reinterpret_cast<const char*>(raw.data()), raw.size());
}

std::optional<std::string> reader::read_nullable_string(bool compact) {
  int32_t n = read_string_length(compact);
  if (n < 0) return std::nullopt;
  auto raw = read_raw(static_cast<size_t>(n));
  return std::string(reinterpret_cast<const char*>(raw.data()), raw.size());
}

bytes reader::read_bytes(bool compact) {
  int32_t n = read_bytes_length(compact);
  if (n < 0) {
    if (ok_) fail();
    return {};
  }
  auto raw = read_raw(static_cast<size_t>(n));
  return bytes(raw.begin(), raw.end());
}

std::optional<bytes> reader::read_nullable_bytes(bool compact) {
  int32_t n = read_bytes_length(compact);
  if (n < 0) return std::nullopt;
  auto raw = read_raw(static_cast<size_t>(n));
  return bytes(raw.begin(), raw.end());
}

records reader::read_records(bool compact) {
  records r;
  int32_t n = read_bytes_length(compact);
  if (n < 0) {
    r.is_null = true;
    return r;
  }
  r.memory = read_raw(static_cast<size_t>(n));
  return r;
}

bytes_view reader::read_raw(size_t n) {
  if (remaining() < n) { fail(); return {}; }
  bytes_view v(p_, n);
  p_ += n;
  return v;
}

void reader::skip_tagged_fields() {
  uint32_t count = read_uvarint();
  if (count > remaining()) { fail(); return; }
  for (uint32_t i = 0; i < count && ok_; ++i) {
    (void)read_uvarint();  // tag
    uint32_t size = read_uvarint();
    skip(size);
  }
}

// ---- writer ----

void writer::write_float64(double v) { fixed<uint64_t>(std::bit_cast<uint64_t>(v)); }

void writer::write_uvarint(uint32_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<uint8_t>(v));
}

void writer::write_uvarlong(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<uint8_t>(v));
}

void writer::write_varint(int32_t v) {
  write_uvarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31));
}

void writer::write_varlong(int64_t v) {
  write_uvarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void writer::write_string(std::string_view s, bool compact) {
  if (compact)
    write_uvarint(static_cast<uint32_t>(s.size() + 1));
  else
    write_int16(static_cast<int16_t>(s.size()));
  write_raw(s.data(), s.size());
}

void writer::write_nullable_string(const std::optional<std::string>& s, bool compact) {
  if (!s) {
    if (compact)
      write_uvarint(0);
    else
      write_int16(-1);
    return;
  }
  write_string(*s, compact);
}

void writer::write_bytes(bytes_view b, bool compact) {
  if (compact)
    write_uvarint(static_cast<uint32_t>(b.size() + 1));
  else
    write_int32(static_cast<int32_t>(b.size()));
  write_raw(b.data(), b.size());
}

void writer::write_nullable_bytes(const std::optional<bytes>& b, bool compact) {
  if (!b) {
    write_array_length(-1, compact);
    return;
  }
  write_bytes(*b, compact);
}

void writer::write_records(const records& r, bool compact) {
  if (r.is_null) {
    write_array_length(-1, compact);
    return;
  }
  const size_t total = r.size();
  if (compact)
    write_uvarint(static_cast<uint32_t>(total + 1));
  else
    write_int32(static_cast<int32_t>(total));
  write_raw(r.memory.data(), r.memory.size());
  for (const auto& s : r.slices) {
    slices_.push_back({buf_.size(), s});
    slice_bytes_ += s.length;
  }
}

void writer::write_array_length(int32_t n, bool compact) {
  if (compact)
    write_uvarint(static_cast<uint32_t>(n + 1));
  else
    write_int32(n);
}

void writer::patch_int32(size_t pos, int32_t v) {
  auto u = static_cast<uint32_t>(v);
  buf_[pos] = static_cast<uint8_t>(u >> 24);
  buf_[pos + 1] = static_cast<uint8_t>(u >> 16);
  buf_[pos + 2] = static_cast<uint8_t>(u >> 8);
  buf_[pos + 3] = static_cast<uint8_t>(u);
}

size_t uvarint_size(uint32_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace strata::protocol
