// Request/response frames: header versions chosen from the api key and
// version, size prefixes, and bad input. Vectors written by hand.
#include "protocol/frame.h"

#include <gtest/gtest.h>

#include "protocol/generated/messages.h"
#include "test_util.h"

namespace strata::protocol {
namespace {

using test::from_hex;
using test::to_hex;

// The frame without its size prefix, as the connection hands it over.
bytes_view without_size(const bytes& frame) { return bytes_view(frame).subspan(4); }

TEST(frame, api_versions_v0_request_uses_header_v1) {
  const bytes frame = from_hex(
      "0000000c"      // size 12
      "0012 0000"     // api_key 18 (ApiVersions), version 0
      "00000001"      // correlation_id 1
      "0002 6162");   // client_id "ab"; no body
  const request_frame f = decode_request_frame(without_size(frame));
  ASSERT_EQ(f.error, frame_error::none);
  EXPECT_EQ(f.header_version, 1);
  EXPECT_EQ(f.api_key(), 18);
  EXPECT_EQ(f.api_version(), 0);
  EXPECT_EQ(f.correlation_id(), 1);
  EXPECT_EQ(f.header.client_id, "ab");
  EXPECT_TRUE(f.body.empty());

  writer w;
  encode_request_frame(w, 0, 1, "ab", api_versions_request{});
  EXPECT_EQ(to_hex(w.buffer()), to_hex(frame));
}

TEST(frame, api_versions_v3_request_uses_header_v2) {
  const bytes frame = from_hex(
      "00000018"      // size 24
      "0012 0003"     // ApiVersions v3
      "00000007"      // correlation_id 7
      "0003 636c69"   // client_id "cli": int16 length even in header v2
      "00"            // header tagged fields
      "05 6b636174"   // body: client_software_name "kcat"
      "04 312e37"     //       client_software_version "1.7"
      "00");          //       tagged fields
  const request_frame f = decode_request_frame(without_size(frame));
  ASSERT_EQ(f.error, frame_error::none);
  EXPECT_EQ(f.header_version, 2);
  EXPECT_EQ(f.header.client_id, "cli");
  EXPECT_EQ(to_hex(f.body), "056b63617404312e3700");

  api_versions_request body;
  body.client_software_name = "kcat";
  body.client_software_version = "1.7";
  writer w;
  encode_request_frame(w, 3, 7, "cli", body);
  EXPECT_EQ(to_hex(w.buffer()), to_hex(frame));
}

TEST(frame, null_client_id) {
  const bytes frame = from_hex("0003 0001 00000009 ffff 00000000");  // Metadata v1
  const request_frame f = decode_request_frame(frame);
  ASSERT_EQ(f.error, frame_error::none);
  EXPECT_FALSE(f.header.client_id.has_value());
  EXPECT_EQ(to_hex(f.body), "00000000");
}

TEST(frame, controlled_shutdown_v0_uses_header_v0) {
  const bytes frame = from_hex("0007 0000 00000003 00000005");  // broker_id 5
  const request_frame f = decode_request_frame(frame);
  ASSERT_EQ(f.error, frame_error::none);
  EXPECT_EQ(f.header_version, 0);
  EXPECT_EQ(to_hex(f.body), "00000005");
}

TEST(frame, versions_above_the_newest_parse_as_flexible) {
  // ApiVersions v99: a client newer than us; the header is still v2.
  const bytes frame = from_hex("0012 0063 00000001 0000 00");
  const request_frame f = decode_request_frame(frame);
  ASSERT_EQ(f.error, frame_error::none);
  EXPECT_EQ(f.header_version, 2);
  EXPECT_EQ(f.api_version(), 99);
}

TEST(frame, unknown_api_key_keeps_the_correlation_id) {
  const bytes frame = from_hex("7fff 0000 0000002a 0000");
  const request_frame f = decode_request_frame(frame);
  EXPECT_EQ(f.error, frame_error::unknown_api_key);
  EXPECT_EQ(f.correlation_id(), 42);
}

TEST(frame, every_truncation_is_malformed) {
  const bytes frame = from_hex("0012 0003 00000007 0003 636c69 00");
  for (size_t n = 0; n < frame.size(); ++n) {
    const request_frame f = decode_request_frame(bytes_view(frame).first(n));
    EXPECT_EQ(f.error, frame_error::malformed) << n;
  }
  EXPECT_EQ(decode_request_frame(frame).error, frame_error::none);
}

TEST(frame, response_header_v0_for_api_versions_even_when_flexible) {
  api_versions_response body;
  writer w;
  encode_response_frame(w, 3, 9, body);
  EXPECT_EQ(to_hex(w.buffer()),
            "0000000c"    // size 12
            "00000009"    // correlation_id: header v0, no tagged fields
            "0000"        // error_code
            "01"          // api_keys: []
            "00000000"    // throttle_time_ms
            "00");        // tagged fields
  const response_frame f = decode_response_frame(without_size(w.buffer()), 18, 3);
  ASSERT_EQ(f.error, frame_error::none);
  EXPECT_EQ(f.correlation_id, 9);
  EXPECT_EQ(f.body.size(), 8u);
}

TEST(frame, response_header_v1_for_flexible_versions) {
  metadata_response body;
  writer w;
  encode_response_frame(w, 9, 5, body);
  // size, correlation_id 5, header tagged fields, then the v9 body:
  // throttle, brokers [], cluster_id null, controller_id -1, topics [],
  // cluster_authorized_operations INT32_MIN, tagged fields.
  EXPECT_EQ(to_hex(w.buffer()), "00000015" "00000005" "00"
                                "00000000" "01" "00" "ffffffff" "01" "80000000" "00");
  const response_frame f = decode_response_frame(without_size(w.buffer()), 3, 9);
  EXPECT_EQ(f.correlation_id, 5);
  EXPECT_EQ(f.body.size(), 16u);
}

TEST(frame, size_counts_file_slices) {
  fetch_response body;
  auto& p = body.responses.emplace_back().partitions.emplace_back();
  p.records.slices.push_back({/*fd=*/7, /*offset=*/0, /*length=*/1000, nullptr});
  writer w;
  w.write_raw("xx", 2);  // an earlier frame in the same buffer
  const size_t before = w.size();
  encode_response_frame(w, 4, 1, body);
  reader r(bytes_view(w.buffer()).subspan(before));
  EXPECT_EQ(static_cast<uint64_t>(r.read_int32()), w.total_size() - before - 4);
  ASSERT_EQ(w.slices().size(), 1u);
}

}  // namespace
}  // namespace strata::protocol
