#include "verify/history.h"

#include <gtest/gtest.h>

#include <sstream>

namespace strata::verify {
namespace {

TEST(VerifyValue, RoundTrips) {
  for (std::size_t pad : {0u, 1u, 100u}) {
    const std::string v = make_value("abc123", 7, 123456789012, pad);
    std::string run;
    std::int32_t p = -1;
    std::int64_t s = -1;
    ASSERT_TRUE(parse_value(v.data(), v.size(), run, p, s)) << v;
    EXPECT_EQ(run, "abc123");
    EXPECT_EQ(p, 7);
    EXPECT_EQ(s, 123456789012);
  }
}

TEST(VerifyValue, RejectsOtherRecords) {
  std::string run;
  std::int32_t p;
  std::int64_t s;
  for (std::string v : {"", "hello", "strata-verify ", "strata-verify run", "strata-verify run 1",
                        "strata-verify run x 1", "strata-verify run 1 -2", "strata-verify run 1 2x",
                        "strata-verify  1 2", "strata-verify run 99999999999 1"})
    EXPECT_FALSE(parse_value(v.data(), v.size(), run, p, s)) << v;
}

TEST(VerifyHistory, EveryEventRoundTrips) {
  std::vector<event> in;
  event e;
  e.kind = event_kind::run;
  e.run = std::make_shared<run_info>(run_info{"r1", "t", "all", true});
  in.push_back(e);
  e = {};
  e.kind = event_kind::produce_start;
  e.time_ms = 1;
  in.push_back(e);
  e = {};
  e.kind = event_kind::send;
  e.time_ms = 2;
  e.producer = 1;
  e.seq = 5;
  e.partition = 2;
  in.push_back(e);
  e.kind = event_kind::ack;
  e.offset = 40;
  in.push_back(e);
  e = {};
  e.kind = event_kind::fail;
  e.producer = 0;
  e.seq = 9;
  e.error = "_MSG_TIMED_OUT";
  e.error_code = -192;
  in.push_back(e);
  e = {};
  e.kind = event_kind::read;
  e.consumer = 3;
  e.partition = 2;
  e.offset = 40;
  e.producer = 1;
  e.seq = 5;
  in.push_back(e);
  e.final_read = true;
  in.push_back(e);
  e = {};
  e.kind = event_kind::commit;
  e.group = "g";
  e.partition = 2;
  e.offset = 41;
  in.push_back(e);
  e = {};
  e.kind = event_kind::position;
  e.partition = 2;
  e.offset = 41;
  e.high_watermark = 41;
  in.push_back(e);
  e = {};
  e.kind = event_kind::end;
  e.time_ms = 99;
  e.read_complete = true;
  in.push_back(e);

  std::stringstream ss;
  write_history(ss, in);
  std::vector<event> out;
  std::string err;
  ASSERT_TRUE(read_history(ss, out, err)) << err;
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(encode(out[i]), encode(in[i])) << i;
  EXPECT_EQ(out[3].offset, 40);
  EXPECT_EQ(out[4].error_code, -192);
  EXPECT_FALSE(out[5].final_read);
  EXPECT_TRUE(out[6].final_read);
  EXPECT_TRUE(out[9].read_complete);
  ASSERT_TRUE(out[0].run);
  EXPECT_TRUE(out[0].run->idempotence);
  EXPECT_EQ(out[0].run->run_id, "r1");
}

TEST(VerifyHistory, BadLinesAreNamed) {
  for (std::string bad : {"{", "[1]", "{\"type\":\"nope\"}", "{\"type\":\"read\",\"offset\":\"x\"}",
                          "{\"type\":5}"}) {
    std::stringstream ss("{\"type\":\"produce_start\",\"time\":0}\n" + bad + "\n");
    std::vector<event> out;
    std::string err;
    EXPECT_FALSE(read_history(ss, out, err)) << bad;
    EXPECT_EQ(err.rfind("line 2: ", 0), 0u) << err;
  }
}

}  // namespace
}  // namespace strata::verify
