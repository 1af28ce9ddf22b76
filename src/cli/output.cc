#include "cli/output.h"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace strata::cli {

void table::print(std::ostream& out) const {
  std::vector<size_t> width(headers_.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  };
  measure(headers_);
  for (auto& r : rows_) measure(r);
  auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < width.size()) line += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  emit(headers_);
  for (auto& r : rows_) emit(r);
}

namespace {

void pretty(std::ostream& out, const boost::json::value& v, int indent) {
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  const std::string close(static_cast<size_t>(indent), ' ');
  if (v.is_object()) {
    const auto& o = v.get_object();
    if (o.empty()) {
      out << "{}";
      return;
    }
    out << "{\n";
    size_t i = 0;
    for (auto& kv : o) {
      // serialize() of a string escapes it as JSON requires.
      out << pad << boost::json::serialize(boost::json::value(kv.key())) << ": ";
      pretty(out, kv.value(), indent + 2);
      out << (++i < o.size() ? ",\n" : "\n");
    }
    out << close << "}";
  } else if (v.is_array()) {
    const auto& a = v.get_array();
    if (a.empty()) {
      out << "[]";
      return;
    }
    out << "[\n";
    for (size_t i = 0; i < a.size(); ++i) {
      out << pad;
      pretty(out, a[i], indent + 2);
      out << (i + 1 < a.size() ? ",\n" : "\n");
    }
    out << close << "]";
  } else {
    out << boost::json::serialize(v);
  }
}

}  // namespace

void print_json(std::ostream& out, const boost::json::value& v) {
  pretty(out, v, 0);
  out << '\n';
}

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

std::string or_dash(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

std::string human_bytes(int64_t n) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double v = static_cast<double>(n);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(units)) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace strata::cli
