#include "admin/json_writer.h"

#include <gtest/gtest.h>

namespace strata::admin {
namespace {

std::string js(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(json_writer, nesting_and_commas) {
  json_writer w;
  w.begin_object().key("a").value(1).key("b").begin_array().value("x").boolean(true).null().begin_object().end_object();
  w.end_array().key("c").value(int64_t{-5}).end_object();
  EXPECT_EQ(w.text(), R"({"a":1,"b":["x",true,null,{}],"c":-5})");
}

TEST(json_writer, empty_containers) {
  json_writer w;
  w.begin_object().key("t").begin_array().end_array().end_object();
  EXPECT_EQ(w.text(), R"({"t":[]})");
}

TEST(json_string, escapes_quote_backslash_and_control_characters) {
  EXPECT_EQ(js("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(js("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(js(std::string_view("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(js("/ and \x7f stay"), "\"/ and \x7f stay\"");
}

TEST(json_string, keeps_well_formed_utf8) {
  EXPECT_EQ(js("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(json_string, replaces_each_invalid_byte_with_replacement_character) {
  EXPECT_EQ(js("a\xff" "b"), R"("a\ufffdb")");
  EXPECT_EQ(js("\xc3"), R"("\ufffd")");                 // truncated sequence
  EXPECT_EQ(js("\xc0\xaf"), R"("\ufffd\ufffd")");        // overlong '/'
  EXPECT_EQ(js("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // UTF-16 surrogate
  EXPECT_EQ(js("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
  EXPECT_EQ(js("\xe2\x82"), R"("\ufffd\ufffd")");
}

}  // namespace
}  // namespace strata::admin
