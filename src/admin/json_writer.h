#pragma once
// A small streaming JSON writer for the admin API's responses.
//
// Why not Boost.JSON: the strings shown here (group ids, client ids, client
// hosts) come from Kafka clients and are not guaranteed to be UTF-8, and JSON
// must be. append_json_string escapes what JSON requires and replaces each
// byte that is not part of a well-formed UTF-8 sequence with U+FFFD, so every
// response is valid JSON whatever the broker holds.
//
// Usage: begin_object().key("a").value(1).key("b").begin_array()...; the
// writer places the commas. Misuse (a value where a key is due) is a bug in
// the caller and is not checked.
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::admin {

class json_writer {
 public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view k);
  json_writer& value(std::string_view s);
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  json_writer& value(T v) {
    separate();
    out_ += std::to_string(v);
    return *this;
  }
  json_writer& boolean(bool v);
  json_writer& null();

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();  // the comma before a value or key, when one is due
  std::string out_;
  std::vector<bool> has_items_;  // per open container
  bool after_key_ = false;
};

// Appends `s` as a quoted JSON string (see the header comment).
void append_json_string(std::string& out, std::string_view s);

}  // namespace strata::admin
