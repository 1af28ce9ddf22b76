#pragma once
// Output of the admin commands: aligned text tables for people, JSON (one
// document on stdout) for scripts.
#include <boost/json/value.hpp>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace strata::cli {

// Rows of cells under upper-case headers; print() pads every column but the
// last to its widest cell, with two spaces between columns.
class table {
 public:
  explicit table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Pretty-prints a JSON value (two-space indent) followed by a newline.
void print_json(std::ostream& out, const boost::json::value& v);

// "1,2,3" for replica lists.
std::string join_ids(const std::vector<int32_t>& ids);
// "-" for nullopt.
std::string or_dash(const std::optional<int64_t>& v);
// 1536 -> "1.5 KiB".
std::string human_bytes(int64_t n);

}  // namespace strata::cli
