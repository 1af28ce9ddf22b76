#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace strata::base {
namespace {

// Bit-at-a-time reference, straight from the definition.
uint32_t crc32c_reference(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

uint64_t test_seed() {
  const char* env = std::getenv("STRATA_TEST_SEED");
  uint64_t seed = env ? std::strtoull(env, nullptr, 10) : 20240521;
  std::cout << "seed " << seed << " (set STRATA_TEST_SEED to change)\n";
  return seed;
}

std::vector<uint8_t> random_bytes(std::mt19937_64& rng, size_t n) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

using extend_fn = uint32_t (*)(uint32_t, const void*, size_t);

class crc32c_impl : public ::testing::TestWithParam<extend_fn> {};

// RFC 3720 (iSCSI), appendix B.4.
TEST_P(crc32c_impl, rfc3720_vectors) {
  extend_fn f = GetParam();
  uint8_t buf[32];
  std::memset(buf, 0, sizeof buf);
  EXPECT_EQ(f(0, buf, sizeof buf), 0x8A9136AAu);
  std::memset(buf, 0xFF, sizeof buf);
  EXPECT_EQ(f(0, buf, sizeof buf), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = uint8_t(i);
  EXPECT_EQ(f(0, buf, sizeof buf), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) buf[i] = uint8_t(31 - i);
  EXPECT_EQ(f(0, buf, sizeof buf), 0x113FDB5Cu);
}

TEST_P(crc32c_impl, check_value_123456789) {
  EXPECT_EQ(GetParam()(0, "123456789", 9), 0xE3069283u);
}

TEST_P(crc32c_impl, empty_input_keeps_crc) {
  EXPECT_EQ(GetParam()(0, nullptr, 0), 0u);
  EXPECT_EQ(GetParam()(0x12345678u, "", 0), 0x12345678u);
}

// The CRC of a record batch built by kafka-python's DefaultRecordBatchBuilder (the
// same fixture as tests/records/client_fixture_test.cc): bytes [21, end).
TEST_P(crc32c_impl, kafka_python_record_batch) {
  const std::string hex =
      "0000000000000000000000720000000002e1d37a860000000000020000018bcfe568000000018bcfe5680500"
      "0000000000109200030000001100000003380000000a6b65792d300e76616c75652d3004046831047631046832"
      "011a000a02010e76616c75652d31002a0006040a6b65792d3201020a747261636506000102";
  std::vector<uint8_t> batch;
  for (size_t i = 0; i < hex.size(); i += 2)
    batch.push_back(uint8_t(std::stoul(hex.substr(i, 2), nullptr, 16)));
  ASSERT_EQ(batch.size(), 126u);
  EXPECT_EQ(GetParam()(0, batch.data() + 21, batch.size() - 21), 0xE1D37A86u);
}

TEST_P(crc32c_impl, matches_reference_on_random_data) {
  extend_fn f = GetParam();
  std::mt19937_64 rng(test_seed());
  std::vector<uint8_t> data = random_bytes(rng, 70000);
  // Around every block size of the three-stream loops (3 x 256, 3 x 1024, 3 x 8192).
  for (size_t n : {0, 1, 7, 8, 9, 63, 64, 255, 767, 768, 769, 1000, 3071, 3072, 3073, 3840,
                   4096, 16384, 24575, 24576, 24577, 28415, 30000, 65536, 69000}) {
    for (size_t align = 0; align < 8; ++align) {
      const uint8_t* p = data.data() + align;
      ASSERT_EQ(f(0, p, n), crc32c_reference(p, n)) << "n=" << n << " align=" << align;
    }
  }
}

TEST_P(crc32c_impl, extend_in_pieces_equals_one_shot) {
  extend_fn f = GetParam();
  std::mt19937_64 rng(test_seed());
  std::vector<uint8_t> data = random_bytes(rng, 100000);
  const uint32_t whole = f(0, data.data(), data.size());
  for (int iter = 0; iter < 50; ++iter) {
    uint32_t crc = 0;
    size_t pos = 0;
    while (pos < data.size()) {
      size_t n = std::min<size_t>(data.size() - pos, rng() % 30000);
      crc = f(crc, data.data() + pos, n);
      pos += n;
    }
    ASSERT_EQ(crc, whole);
  }
}

uint32_t dispatching(uint32_t crc, const void* p, size_t n) { return crc32c_extend(crc, p, n); }

INSTANTIATE_TEST_SUITE_P(all, crc32c_impl,
                         ::testing::Values(&dispatching, &crc32c_extend_portable),
                         [](const auto& info) {
                           return info.index == 0 ? std::string("dispatching")
                                                  : std::string("portable");
                         });

TEST(crc32c, hardware_equals_portable_random_alignments_and_lengths) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 rng(test_seed());
  std::vector<uint8_t> data = random_bytes(rng, 256 * 1024 + 64);
  for (int iter = 0; iter < 3000; ++iter) {
    const size_t align = rng() % 64;
    // Mostly short buffers (every tail and alignment path), some long (the 3-stream loops).
    const size_t max = iter % 4 == 0 ? 256 * 1024 : 2048;
    const size_t n = rng() % (max + 1);
    const uint32_t seed_crc = iter % 2 ? uint32_t(rng()) : 0;
    const uint8_t* p = data.data() + align;
    ASSERT_EQ(crc32c_extend(seed_crc, p, n), crc32c_extend_portable(seed_crc, p, n))
        << "iter=" << iter << " align=" << align << " n=" << n;
  }
}

TEST(crc32c, one_shot_helper) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

}  // namespace
}  // namespace strata::base
