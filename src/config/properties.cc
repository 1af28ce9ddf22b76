#include "config/properties.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "config/config_error.h"

namespace strata::config {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

properties parse_properties(std::string_view text, std::string_view origin) {
  properties out;
  size_t line_no = 0;
  std::string pending;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    std::string_view line = trim(raw);
    if (pending.empty() && (line.empty() || line.front() == '#' || line.front() == '!')) continue;
    if (!line.empty() && line.back() == '\\') {
      pending.append(line.substr(0, line.size() - 1));
      continue;
    }
    std::string joined = pending + std::string(line);
    pending.clear();
    std::string_view l = joined;
    size_t sep = l.find_first_of("=:");
    if (sep == std::string_view::npos)
      throw config_error(fmt::format("{}:{}: expected key=value, got '{}'", origin, line_no, l));
    std::string key(trim(l.substr(0, sep)));
    if (key.empty()) throw config_error(fmt::format("{}:{}: empty key", origin, line_no));
    out[key] = std::string(trim(l.substr(sep + 1)));
  }
  return out;
}

properties load_properties_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw config_error(fmt::format("cannot read config file '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_properties(ss.str(), path);
}

}  // namespace strata::config
