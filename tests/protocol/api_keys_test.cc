// The generated API table and error codes against facts from the schemas and
// Errors.java.
#include <gtest/gtest.h>

#include "protocol/generated/api_keys.h"
#include "protocol/generated/dispatch.h"
#include "protocol/generated/error_code.h"
#include "protocol/generated/messages.h"

namespace strata::protocol {
namespace {

TEST(api_keys, table_matches_the_message_types) {
  const api_info* produce = find_api(0);
  ASSERT_NE(produce, nullptr);
  EXPECT_EQ(produce->name, "Produce");
  EXPECT_EQ(produce->key, api_key::produce);
  EXPECT_EQ(produce->min_version, produce_request::min_version);
  EXPECT_EQ(produce->max_version, produce_request::max_version);
  EXPECT_EQ(produce->first_flexible_version, 9);
  EXPECT_TRUE(produce->listeners & listener_broker);

  const api_info* fetch = find_api(static_cast<int16_t>(api_key::fetch));
  ASSERT_NE(fetch, nullptr);
  EXPECT_EQ(fetch->max_version, fetch_response::max_version);
  EXPECT_EQ(static_cast<int16_t>(api_key::api_versions), 18);
  EXPECT_EQ(static_cast<int16_t>(api_key::sasl_authenticate), 36);

  EXPECT_EQ(find_api(-1), nullptr);
  EXPECT_EQ(find_api(10000), nullptr);
  int16_t expected = 0;
  for (const auto& a : all_apis()) EXPECT_EQ(static_cast<int16_t>(a.key), expected++);
}

TEST(api_keys, header_versions) {
  EXPECT_EQ(request_header_version(0, 8), 1);   // Produce v8: classic
  EXPECT_EQ(request_header_version(0, 9), 2);   // Produce v9: flexible
  EXPECT_EQ(request_header_version(7, 0), 0);   // ControlledShutdown v0
  EXPECT_EQ(request_header_version(7, 1), 1);
  EXPECT_EQ(request_header_version(18, 3), 2);  // ApiVersions v3
  EXPECT_EQ(request_header_version(9999, 0), -1);
  EXPECT_EQ(response_header_version(3, 8), 0);  // Metadata v8
  EXPECT_EQ(response_header_version(3, 9), 1);
  EXPECT_EQ(response_header_version(18, 3), 0);  // ApiVersions: always 0
  EXPECT_EQ(response_header_version(18, 4), 0);
}

TEST(error_codes, values_and_names_are_kafkas) {
  EXPECT_EQ(static_cast<int16_t>(error_code::unknown_server_error), -1);
  EXPECT_EQ(static_cast<int16_t>(error_code::none), 0);
  EXPECT_EQ(static_cast<int16_t>(error_code::offset_out_of_range), 1);
  EXPECT_EQ(static_cast<int16_t>(error_code::unknown_topic_or_partition), 3);
  EXPECT_EQ(static_cast<int16_t>(error_code::not_leader_or_follower), 6);
  EXPECT_EQ(static_cast<int16_t>(error_code::unsupported_version), 35);
  EXPECT_EQ(error_name(error_code::unknown_topic_or_partition), "UNKNOWN_TOPIC_OR_PARTITION");
  EXPECT_EQ(error_name(static_cast<error_code>(30000)), "UNKNOWN");
}

TEST(dispatch, decode_any_request_by_key_and_version) {
  const bytes metadata_v0 = {0, 0, 0, 0};  // topics: []
  reader ok(metadata_v0);
  EXPECT_TRUE(decode_any_request(3, 0, ok));
  reader short_input(bytes_view(metadata_v0).first(3));
  EXPECT_FALSE(decode_any_request(3, 0, short_input));
  reader unknown_key(metadata_v0);
  EXPECT_FALSE(decode_any_request(-5, 0, unknown_key));
  reader unknown_version(metadata_v0);
  EXPECT_FALSE(decode_any_request(3, 99, unknown_version));
  reader response(metadata_v0);
  EXPECT_FALSE(decode_any_response(3, 0, response));  // brokers [] then nothing
}

}  // namespace
}  // namespace strata::protocol
