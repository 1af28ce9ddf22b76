// libFuzzer target: the four decompressors under an output limit. The first byte picks
// the codec (and, for compress, the snappy framing); the rest is the compressed input.
// Whatever decodes must survive compress + decompress unchanged.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "protocol/records/codecs.h"

using namespace strata::records;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr size_t kLimit = 1 << 20;
  const compression codec = compression(data[0] % 5);
  std::span<const uint8_t> in(data + 1, size - 1);

  std::vector<uint8_t> out = {0xEE};  // decompress appends; a failure leaves it as is
  errc e = decompress(codec, in, out, kLimit);
  if (e != errc::ok) {
    if (out.size() != 1 || out[0] != 0xEE) __builtin_trap();
    return 0;
  }
  if (out.size() - 1 > kLimit) __builtin_trap();

  std::span<const uint8_t> plain = std::span(out).subspan(1);
  compress_options co;
  co.snappy = (data[0] & 0x80) ? snappy_framing::raw : snappy_framing::xerial;
  std::vector<uint8_t> packed;
  if (compress(codec, plain, packed, co) != errc::ok) __builtin_trap();
  std::vector<uint8_t> again;
  if (decompress(codec, packed, again, kLimit) != errc::ok) __builtin_trap();
  if (!std::equal(again.begin(), again.end(), plain.begin(), plain.end())) __builtin_trap();
  return 0;
}
