// Every generated message at every version: random values survive
// encode -> decode -> encode, every strict prefix of an encoding fails to
// decode cleanly, and mangled encodings never crash the decoder.
//
// One test per message type (roundtrip.produce_request, ...). The seed is
// fixed so runs are repeatable; set STRATA_TEST_SEED to try others. It is
// printed at the start of every test.
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <typeinfo>

#include <gtest/gtest.h>

#include "generated/fill_random.h"
#include "protocol/generated/visit.h"
#include "test_util.h"

namespace strata::protocol {
namespace {

using testing::test_rng;

uint64_t test_seed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("STRATA_TEST_SEED");
    return env ? std::strtoull(env, nullptr, 0) : uint64_t{20241025};
  }();
  return seed;
}

template <typename T>
std::string type_name() {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(typeid(T).name(), nullptr, nullptr, &status), std::free);
  std::string s = status == 0 ? name.get() : typeid(T).name();
  return s.substr(s.rfind(':') + 1);
}

std::string hex(const bytes& b) { return test::to_hex(b); }

using test::encode;

template <typename T>
std::optional<T> decode(const bytes& b, int16_t version) {
  return test::decode_all<T>(b, version);
}

template <typename T>
void check_roundtrip(int16_t version, test_rng& g, bool check_prefixes) {
  T original;
  testing::fill_random(original, version, g);
  const bytes wire = encode(original, version);
  auto decoded = decode<T>(wire, version);
  ASSERT_TRUE(decoded.has_value()) << "v" << version << " does not decode: " << hex(wire);
  EXPECT_TRUE(*decoded == original) << "v" << version << " decodes to a different value: "
                                    << hex(wire);
  EXPECT_EQ(hex(encode(*decoded, version)), hex(wire)) << "v" << version;

  if (!check_prefixes) return;
  for (size_t n = 0; n < wire.size(); ++n) {
    // An exact-size heap copy, so that a read past the end shows under ASan.
    auto prefix = std::make_unique<uint8_t[]>(n);
    if (n) std::memcpy(prefix.get(), wire.data(), n);
    reader r(prefix.get(), n);
    T m;
    m.decode(r, version);
    ASSERT_FALSE(r.ok()) << "v" << version << ": a " << n << "-byte prefix of " << hex(wire)
                         << " decoded";
  }
}

// Flips bytes of a valid encoding. The decoder must not crash; whatever it
// accepts must re-encode to bytes that decode to the same encoding again.
template <typename T>
void check_mangled(int16_t version, test_rng& g) {
  T original;
  testing::fill_random(original, version, g);
  bytes wire = encode(original, version);
  if (wire.empty()) return;
  for (int flips = 1 + static_cast<int>(g.count()); flips > 0; --flips)
    wire[g.engine()() % wire.size()] = static_cast<uint8_t>(g.engine()());
  auto copy = std::make_unique<uint8_t[]>(wire.size());  // exact-size heap block
  std::memcpy(copy.get(), wire.data(), wire.size());
  reader r(copy.get(), wire.size());
  T m;
  m.decode(r, version);
  if (!r.ok()) return;
  const bytes again = encode(m, version);
  auto redecoded = decode<T>(again, version);
  ASSERT_TRUE(redecoded.has_value()) << "v" << version << ": " << hex(wire);
  EXPECT_EQ(hex(encode(*redecoded, version)), hex(again)) << "v" << version;
}

template <typename T>
class roundtrip_test : public ::testing::Test {
 public:
  void TestBody() override {
    std::printf("seed %llu (STRATA_TEST_SEED)\n", static_cast<unsigned long long>(test_seed()));
    test_rng g(test_seed() ^ std::hash<std::string>{}(type_name<T>()));
    for (int16_t v = T::min_version; v <= T::max_version; ++v) {
      for (int i = 0; i < 25; ++i) {
        check_roundtrip<T>(v, g, /*check_prefixes=*/i < 2);
        if (HasFatalFailure()) return;
      }
      for (int i = 0; i < 25; ++i) {
        check_mangled<T>(v, g);
        if (HasFatalFailure()) return;
      }
    }
  }
};

// Registers roundtrip.<message> for every generated message type.
[[maybe_unused]] const bool registered = [] {
  for_each_message_type([]<typename T>(std::type_identity<T>) {
    ::testing::RegisterTest("roundtrip", type_name<T>().c_str(), nullptr, nullptr, __FILE__,
                            __LINE__, []() -> ::testing::Test* { return new roundtrip_test<T>; });
  });
  return true;
}();

// With STRATA_WRITE_FUZZ_CORPUS=<dir>, writes valid random encodings of every
// request and response (at the oldest, first flexible and newest version) as
// fuzzer seeds: <dir>/fuzz_request/ and <dir>/fuzz_response/, each file
// (api_key, version) + body as fuzz/protocol expects. fuzz/corpus/ holds the
// committed output. Without the variable the test is skipped.
TEST(roundtrip_rules, write_fuzz_corpus) {
  const char* dir = std::getenv("STRATA_WRITE_FUZZ_CORPUS");
  if (!dir) GTEST_SKIP() << "STRATA_WRITE_FUZZ_CORPUS not set";
  test_rng g(test_seed());
  int files = 0;
  for_each_message_type([&]<typename T>(std::type_identity<T>) {
    if constexpr (requires { T::api_key; }) {
      const std::string kind =
          type_name<T>().ends_with("_request") ? "fuzz_request" : "fuzz_response";
      std::filesystem::create_directories(std::string(dir) + "/" + kind);
      std::set<int16_t> versions = {T::min_version, T::max_version};
      if (T::first_flexible_version >= 0) versions.insert(T::first_flexible_version);
      for (int16_t v : versions) {
        T m;
        testing::fill_random(m, v, g);
        writer w;
        w.write_int16(T::api_key);
        w.write_int16(v);
        m.encode(w, v);
        const std::string path = std::string(dir) + "/" + kind + "/" + type_name<T>() + "_v" +
                                 std::to_string(v);
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(w.buffer().data()),
                   static_cast<std::streamsize>(w.size()));
        ++files;
      }
    }
  });
  std::printf("wrote %d seed files under %s\n", files, dir);
}

TEST(roundtrip_rules, absent_fields_are_not_encoded) {
  // produce_request v0 has no transactional_id: setting it changes nothing.
  produce_request a, b;
  b.transactional_id = "tx";
  EXPECT_EQ(encode(a, 0), encode(b, 0));
  EXPECT_NE(encode(a, 3), encode(b, 3));
}

TEST(roundtrip_rules, tagged_field_at_default_is_omitted) {
  api_versions_response r;
  const size_t plain = encode(r, 3).size();
  r.finalized_features_epoch = -1;  // the default
  EXPECT_EQ(encode(r, 3).size(), plain);
  r.zk_migration_ready = true;
  EXPECT_GT(encode(r, 3).size(), plain);
}

TEST(roundtrip_rules, null_in_a_non_nullable_version_is_written_empty) {
  metadata_request m;
  m.topics.reset();  // nullable from v1 only
  const bytes v0 = encode(m, 0);
  EXPECT_EQ(hex(v0), "00000000");  // an empty array, not -1
  EXPECT_EQ(hex(encode(m, 1)), "ffffffff");
}

}  // namespace
}  // namespace strata::protocol
