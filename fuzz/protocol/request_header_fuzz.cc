// Fuzzes decode_request_frame(): any bytes after the size prefix.
#include <cstdlib>

#include "protocol/frame.h"

using namespace strata::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const request_frame f = decode_request_frame(bytes_view(data, size));
  if (f.error != frame_error::none) return 0;
  // The body is the rest of the frame, never more.
  if (f.body.data() < data || f.body.data() + f.body.size() != data + size) std::abort();
  // The decoded header survives an encode/decode round trip.
  writer w;
  f.header.encode(w, f.header_version);
  reader r(w.buffer());
  request_header again;
  again.decode(r, f.header_version);
  if (!r.ok() || r.remaining() != 0 || !(again == f.header)) std::abort();
  return 0;
}
