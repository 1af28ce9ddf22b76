#pragma once
// Shared body of the request and response fuzzers: decode as T; whatever is
// accepted must encode to bytes that decode and re-encode to the same bytes
// (encodings are compared rather than values, so NaN doubles are fine).
#include <cstdlib>

#include "protocol/wire.h"

namespace strata::protocol::fuzz {

template <typename T>
void decode_check(int16_t version, bytes_view input) {
  if (version < T::min_version || version > T::max_version) return;
  reader r(input);
  T m;
  m.decode(r, version);
  if (!r.ok()) return;
  writer w1;
  m.encode(w1, version);
  reader r2(w1.buffer());
  T again;
  again.decode(r2, version);
  if (!r2.ok() || r2.remaining() != 0) std::abort();
  writer w2;
  again.encode(w2, version);
  if (w1.buffer() != w2.buffer()) std::abort();
}

}  // namespace strata::protocol::fuzz
