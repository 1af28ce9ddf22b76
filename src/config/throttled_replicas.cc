#include "config/throttled_replicas.h"

#include <algorithm>
#include <charconv>

namespace strata::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<int32_t> non_negative(std::string_view s) {
  int32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

bool throttled_replicas::contains(int32_t partition, int32_t broker) const {
  return all || std::find(replicas.begin(), replicas.end(), std::make_pair(partition, broker)) != replicas.end();
}

std::optional<throttled_replicas> parse_throttled_replicas(std::string_view value) {
  throttled_replicas out;
  value = trim(value);
  if (value.empty()) return out;
  if (value == "*") {
    out.all = true;
    return out;
  }
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view item = trim(value.substr(0, comma));
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto p = non_negative(trim(item.substr(0, colon)));
    auto b = non_negative(trim(item.substr(colon + 1)));
    if (!p || !b) return std::nullopt;
    out.replicas.emplace_back(*p, *b);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace strata::config
