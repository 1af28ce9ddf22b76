#pragma once
// Prometheus text exposition format 0.0.4, written by hand: it is a few lines
// of escaping rules, and the scrape renders from snapshots it already holds.
//
//   # HELP <name> <help, with \ and newline escaped>
//   # TYPE <name> counter|gauge|histogram
//   <name>{<label>="<value, with \ " and newline escaped>",...} <value>
//
// All samples of one family follow its HELP/TYPE lines (the format requires
// a family to be contiguous); callers write family() then its samples.
// Values: integers as integers, other doubles in the shortest form that
// reads back exactly, and +Inf, -Inf, NaN as Prometheus spells them.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace strata::admin {

struct label {
  std::string_view name;
  std::string_view value;
};

class prometheus_writer {
 public:
  // `type`: "counter", "gauge" or "histogram". Names are the caller's
  // constants and must match [a-zA-Z_:][a-zA-Z0-9_:]*.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<label> labels, double value);
  void sample(std::string_view name, std::initializer_list<label> labels, uint64_t value);
  void sample(std::string_view name, std::initializer_list<label> labels, int64_t value);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void begin_sample(std::string_view name, std::initializer_list<label> labels);
  std::string out_;
};

// The escaping rules, exposed for tests.
void append_label_value(std::string& out, std::string_view v);  // \ " newline
void append_help(std::string& out, std::string_view v);         // \ newline
void append_double(std::string& out, double v);

}  // namespace strata::admin
