#pragma once
// Request and response framing: the header that precedes every message body.
//
// On the wire every message is a frame:
//
//   int32  size            bytes that follow (header + body)
//   header                 request header v0/v1/v2 or response header v0/v1
//   body                   the generated request/response struct
//
// Request header (RequestHeader.json):
//   v0: int16 api_key, int16 api_version, int32 correlation_id
//   v1: v0 + client_id (int16-length nullable string)
//   v2: v1 + tagged fields; client_id keeps its int16 length (KIP-482)
// Response header (ResponseHeader.json):
//   v0: int32 correlation_id
//   v1: v0 + tagged fields
//
// The header version is not in the frame: it follows from the api key and
// version in the first four bytes (api_keys.h, request_header_version()).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/generated/api_keys.h"
#include "protocol/generated/headers.h"
#include "protocol/wire.h"

namespace strata::protocol {

enum class frame_error {
  none,
  malformed,        // too short for its header, or a bad header field
  unknown_api_key,  // no such API; Kafka closes the connection
};

// A request frame split into its header and body. Borrows the frame bytes.
struct request_frame {
  frame_error error = frame_error::none;
  // api key, version and correlation id are filled whenever the frame has
  // 8 bytes, even when error != none, so a failure can be logged or answered.
  request_header header;
  int16_t header_version = -1;  // 0, 1 or 2; -1 on error
  bytes_view body;              // the bytes after the header

  int16_t api_key() const { return header.request_api_key; }
  int16_t api_version() const { return header.request_api_version; }
  int32_t correlation_id() const { return header.correlation_id; }
};

// Parses the header of a request. `frame` is the request without its 4-byte
// size prefix; the result points into it and must not outlive it. The api
// version is not checked against the supported range here: that is the
// broker's decision (ApiVersions must answer unsupported versions).
request_frame decode_request_frame(bytes_view frame);

// A response frame split into its header and body (client side).
struct response_frame {
  frame_error error = frame_error::none;
  int32_t correlation_id = 0;
  bytes_view body;
};

// Parses the header of a response to a request of api_key/api_version.
// `frame` excludes the size prefix; the result points into it.
response_frame decode_response_frame(bytes_view frame, int16_t api_key, int16_t api_version);

// Encoding. A frame starts with a size placeholder that end_frame() patches,
// so a body can be written straight into the output buffer. The size covers
// file slices the body placed in the writer (Fetch records sent by sendfile).

// Writes the size placeholder and a response header; returns the frame start
// to pass to end_frame(). api_version selects the header version.
size_t begin_response_frame(writer& w, int16_t api_key, int16_t api_version,
                            int32_t correlation_id);

// Writes the size placeholder and a request header (client side: tests, the
// broker-to-broker client).
size_t begin_request_frame(writer& w, int16_t api_key, int16_t api_version,
                           int32_t correlation_id, std::optional<std::string_view> client_id);

// Patches the size of the frame that begins at `start`.
void end_frame(writer& w, size_t start);

// One call for a whole response frame; Response is a generated *_response.
template <typename Response>
void encode_response_frame(writer& w, int16_t api_version, int32_t correlation_id,
                           const Response& body) {
  const size_t start = begin_response_frame(w, Response::api_key, api_version, correlation_id);
  body.encode(w, api_version);
  end_frame(w, start);
}

// One call for a whole request frame; Request is a generated *_request.
template <typename Request>
void encode_request_frame(writer& w, int16_t api_version, int32_t correlation_id,
                          std::optional<std::string_view> client_id, const Request& body) {
  const size_t start =
      begin_request_frame(w, Request::api_key, api_version, correlation_id, client_id);
  body.encode(w, api_version);
  end_frame(w, start);
}

}  // namespace strata::protocol
