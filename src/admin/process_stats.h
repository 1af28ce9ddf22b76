#pragma once
// The process figures Prometheus' client libraries export by convention
// (process_cpu_seconds_total, process_resident_memory_bytes), read from
// /proc/self/stat and /proc/self/statm at scrape time.
#include <optional>
#include <string_view>

namespace strata::admin {

struct process_stats {
  std::optional<double> cpu_seconds;           // user + system
  std::optional<double> resident_memory_bytes;
};

// Reads /proc/self/{stat,statm}; a figure that cannot be read is nullopt.
process_stats read_process_stats();

// Parsers, exposed for tests. `stat` is the content of /proc/<pid>/stat: the
// command name (field 2) is in parentheses and may itself hold spaces and
// ')' characters, so fields are counted from the last ')'. utime and stime
// are fields 14 and 15, in clock ticks.
std::optional<double> parse_cpu_seconds(std::string_view stat, long ticks_per_second);
// `statm`: "size resident shared ..." in pages.
std::optional<double> parse_resident_bytes(std::string_view statm, long page_size);

}  // namespace strata::admin
