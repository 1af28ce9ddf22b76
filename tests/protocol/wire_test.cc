// Edge cases of the wire primitives the generated code relies on.
#include "protocol/wire.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace strata::protocol {
namespace {

using test::from_hex;

TEST(wire, sticky_failure) {
  const bytes b = from_hex("0001");
  reader r(b);
  EXPECT_EQ(r.read_int32(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.read_int8(), 0);  // later reads return zero values
  EXPECT_FALSE(r.ok());
}

TEST(wire, lengths_beyond_the_input_fail_without_allocating) {
  const bytes huge_string = from_hex("7fff 61");
  reader r1(huge_string);
  r1.read_string(false);
  EXPECT_FALSE(r1.ok());
  const bytes huge_array = from_hex("7fffffff 00");
  reader r2(huge_array);
  EXPECT_EQ(r2.read_array_length(false), -1);
  EXPECT_FALSE(r2.ok());
  const bytes huge_compact = from_hex("ffffffff0f");  // uvarint 2^32-1
  reader r3(huge_compact);
  r3.read_bytes(true);
  EXPECT_FALSE(r3.ok());
}

TEST(wire, null_where_not_nullable_fails) {
  const bytes b = from_hex("ffff");
  reader r(b);
  r.read_string(false);
  EXPECT_FALSE(r.ok());
  const bytes c = from_hex("00");  // compact null
  reader rc(c);
  rc.read_string(true);
  EXPECT_FALSE(rc.ok());
}

TEST(wire, overlong_varints_fail) {
  const bytes b = from_hex("ffffffff7f");  // 5 bytes, top bits set past 32
  reader r(b);
  r.read_uvarint();
  EXPECT_FALSE(r.ok());
  const bytes c = from_hex("8080808080");  // never terminates within 5 bytes
  reader rc(c);
  rc.read_uvarint();
  EXPECT_FALSE(rc.ok());
}

TEST(wire, varint_round_trip) {
  for (int32_t v : {0, 1, -1, 63, -64, 64, INT32_MAX, INT32_MIN}) {
    writer w;
    w.write_varint(v);
    reader r(w.buffer());
    EXPECT_EQ(r.read_varint(), v);
    EXPECT_TRUE(r.ok() && r.remaining() == 0);
  }
  for (uint32_t v : {0u, 127u, 128u, 16383u, 16384u, UINT32_MAX}) {
    writer w;
    w.write_uvarint(v);
    EXPECT_EQ(w.size(), uvarint_size(v));
    reader r(w.buffer());
    EXPECT_EQ(r.read_uvarint(), v);
  }
}

TEST(wire, records_equality) {
  const bytes a = {1, 2, 3};
  EXPECT_EQ(records::copy_of(a), records::copy_of(a));
  EXPECT_FALSE(records::copy_of(a) == records::null_records());
  EXPECT_EQ(records::null_records(), records::null_records());
  EXPECT_FALSE(records::copy_of(a) == records::copy_of(bytes{1, 2}));
}

}  // namespace
}  // namespace strata::protocol
