#include "protocol/frame.h"

namespace strata::protocol {

request_frame decode_request_frame(bytes_view frame) {
  request_frame out;
  // Every header version starts with api key, api version and correlation
  // id; those decide how the rest of the header reads.
  reader prefix(frame);
  out.header.request_api_key = prefix.read_int16();
  out.header.request_api_version = prefix.read_int16();
  out.header.correlation_id = prefix.read_int32();
  if (!prefix.ok()) {
    out.error = frame_error::malformed;
    return out;
  }
  const int16_t header_version = request_header_version(out.api_key(), out.api_version());
  if (header_version < 0) {
    out.error = frame_error::unknown_api_key;
    return out;
  }
  reader r(frame);
  request_header header;
  header.decode(r, header_version);
  if (!r.ok()) {
    out.error = frame_error::malformed;
    return out;
  }
  out.header = std::move(header);
  out.header_version = header_version;
  out.body = bytes_view(r.current(), r.remaining());
  return out;
}

response_frame decode_response_frame(bytes_view frame, int16_t api_key, int16_t api_version) {
  response_frame out;
  const int16_t header_version = response_header_version(api_key, api_version);
  if (header_version < 0) {
    out.error = frame_error::unknown_api_key;
    return out;
  }
  reader r(frame);
  response_header header;
  header.decode(r, header_version);
  if (!r.ok()) {
    out.error = frame_error::malformed;
    return out;
  }
  out.correlation_id = header.correlation_id;
  out.body = bytes_view(r.current(), r.remaining());
  return out;
}

size_t begin_response_frame(writer& w, int16_t api_key, int16_t api_version,
                            int32_t correlation_id) {
  const size_t start = w.size();
  w.write_int32(0);  // size, patched by end_frame()
  response_header header;
  header.correlation_id = correlation_id;
  // An unknown key cannot reach here (its request was refused); header v0
  // is the harmless choice.
  const int16_t header_version = response_header_version(api_key, api_version);
  header.encode(w, header_version < 0 ? 0 : header_version);
  return start;
}

size_t begin_request_frame(writer& w, int16_t api_key, int16_t api_version,
                           int32_t correlation_id, std::optional<std::string_view> client_id) {
  const size_t start = w.size();
  w.write_int32(0);
  request_header header;
  header.request_api_key = api_key;
  header.request_api_version = api_version;
  header.correlation_id = correlation_id;
  if (client_id)
    header.client_id = std::string(*client_id);
  else
    header.client_id.reset();
  const int16_t header_version = request_header_version(api_key, api_version);
  header.encode(w, header_version < 0 ? 1 : header_version);
  return start;
}

void end_frame(writer& w, size_t start) {
  // File slices placed after the size field are part of this frame.
  uint64_t slice_bytes = 0;
  for (const auto& s : w.slices())
    if (s.at >= start + 4) slice_bytes += s.slice.length;
  const uint64_t size = w.size() - start - 4 + slice_bytes;
  w.patch_int32(start, static_cast<int32_t>(size));
}

}  // namespace strata::protocol
