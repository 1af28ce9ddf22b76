#pragma once
// Small helpers shared by the protocol tests: hex in and out, encode a
// message to bytes, decode bytes that must be consumed exactly.
#include <cctype>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "protocol/wire.h"

namespace strata::protocol::test {

// Hex digits to bytes; spaces are ignored so vectors can be laid out.
inline bytes from_hex(std::string_view hex) {
  bytes out;
  int hi = -1;
  for (char c : hex) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                  : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                              : -1;
    if (v < 0) throw std::invalid_argument("bad hex digit");
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
  return out;
}

inline std::string to_hex(bytes_view b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t c : b) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

template <typename T>
bytes encode(const T& m, int16_t version) {
  writer w;
  m.encode(w, version);
  return std::move(w.buffer());
}

// The decoded message, or nullopt if decoding failed or left bytes over.
template <typename T>
std::optional<T> decode_all(bytes_view b, int16_t version) {
  reader r(b);
  T m;
  m.decode(r, version);
  if (!r.ok() || r.remaining() != 0) return std::nullopt;
  return m;
}

}  // namespace strata::protocol::test
