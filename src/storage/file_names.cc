#include "storage/file_names.h"

#include <charconv>
#include <cstdio>

namespace strata::storage {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string segment_file_name(int64_t base_offset, std::string_view suffix) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(base_offset));
  std::string out(buf);
  out.append(suffix);
  return out;
}

std::optional<int64_t> parse_segment_file_name(std::string_view name, std::string_view suffix) {
  if (!ends_with(name, suffix)) return std::nullopt;
  std::string_view digits = name.substr(0, name.size() - suffix.size());
  if (digits.size() != 20) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || p != digits.data() + digits.size() || v < 0) return std::nullopt;
  return v;
}

std::string partition_dir_name(std::string_view topic, int32_t partition) {
  std::string out(topic);
  out += '-';
  out += std::to_string(partition);
  return out;
}

std::optional<std::pair<std::string, int32_t>> parse_partition_dir_name(std::string_view name) {
  auto dash = name.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 >= name.size()) return std::nullopt;
  std::string_view num = name.substr(dash + 1);
  int32_t p = 0;
  auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), p);
  if (ec != std::errc{} || end != num.data() + num.size() || p < 0) return std::nullopt;
  return std::pair<std::string, int32_t>{std::string(name.substr(0, dash)), p};
}

}  // namespace strata::storage
