#include "admin/process_stats.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace strata::admin {
namespace {

std::optional<std::string> slurp(const char* path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// The n-th (0-based) space-separated unsigned field of `s`.
std::optional<unsigned long long> field(std::string_view s, size_t n) {
  size_t i = 0;
  for (size_t k = 0;; ++k) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i >= s.size()) return std::nullopt;
    size_t end = s.find(' ', i);
    if (end == std::string_view::npos) end = s.size();
    if (k == n) {
      std::string_view tok = s.substr(i, end - i);
      while (!tok.empty() && (tok.back() == '\n' || tok.back() == '\r')) tok.remove_suffix(1);
      unsigned long long v = 0;
      auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
      if (ec != std::errc() || p != tok.data() + tok.size() || tok.empty()) return std::nullopt;
      return v;
    }
    i = end;
  }
}

}  // namespace

std::optional<double> parse_cpu_seconds(std::string_view stat, long ticks_per_second) {
  if (ticks_per_second <= 0) return std::nullopt;
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  // After ") ": field 3 (state) is index 0, so utime (14) is index 11.
  std::string_view rest = stat.substr(close + 1);
  auto utime = field(rest, 11);
  auto stime = field(rest, 12);
  if (!utime || !stime) return std::nullopt;
  return static_cast<double>(*utime + *stime) / static_cast<double>(ticks_per_second);
}

std::optional<double> parse_resident_bytes(std::string_view statm, long page_size) {
  if (page_size <= 0) return std::nullopt;
  auto pages = field(statm, 1);
  if (!pages) return std::nullopt;
  return static_cast<double>(*pages) * static_cast<double>(page_size);
}

process_stats read_process_stats() {
  process_stats s;
  if (auto stat = slurp("/proc/self/stat")) s.cpu_seconds = parse_cpu_seconds(*stat, ::sysconf(_SC_CLK_TCK));
  if (auto statm = slurp("/proc/self/statm"))
    s.resident_memory_bytes = parse_resident_bytes(*statm, ::sysconf(_SC_PAGESIZE));
  return s;
}

}  // namespace strata::admin
