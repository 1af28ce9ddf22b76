#include "admin/prometheus.h"

#include <fmt/format.h>

#include <cmath>

namespace strata::admin {

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

void append_help(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

void append_double(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    // fmt's default is the shortest representation that round-trips.
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

void prometheus_writer::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_help(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void prometheus_writer::begin_sample(std::string_view name, std::initializer_list<label> labels) {
  out_ += name;
  if (labels.size() > 0) {
    out_ += '{';
    bool first = true;
    for (const auto& l : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += l.name;
      out_ += "=\"";
      append_label_value(out_, l.value);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

void prometheus_writer::sample(std::string_view name, std::initializer_list<label> labels, double value) {
  begin_sample(name, labels);
  append_double(out_, value);
  out_ += '\n';
}

void prometheus_writer::sample(std::string_view name, std::initializer_list<label> labels, uint64_t value) {
  begin_sample(name, labels);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void prometheus_writer::sample(std::string_view name, std::initializer_list<label> labels, int64_t value) {
  begin_sample(name, labels);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

}  // namespace strata::admin
