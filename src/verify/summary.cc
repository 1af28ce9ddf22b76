#include "verify/summary.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <cstdio>
#include <utility>
#include <vector>

namespace strata::verify {

namespace {

std::vector<std::pair<const char*, std::int64_t>> counts(const report& r) {
  return {
      {"sent", r.sent},
      {"acked", r.acked},
      {"failed", r.failed},
      {"read", r.read},
      {"lost", r.lost},
      {"duplicated", r.duplicated},
      {"reordered", r.reordered},
      {"phantom", r.phantom},
      {"offset_conflicts", r.offset_conflicts},
      {"commits_backwards", r.commits_backwards},
      {"indeterminate", r.indeterminate},
      {"indeterminate_present", r.indeterminate_present},
      {"indeterminate_absent", r.indeterminate_absent},
      {"longest_unavailable_ms", r.longest_unavailable_ms},
      {"violations", r.violations},
      {"read_complete", r.read_complete ? 1 : 0},
      {"duration_ms", r.duration_ms},
  };
}

}  // namespace

std::string result_line(const report& r) {
  if (r.violations > 0) {
    std::string s;
    for (const auto& [k, v] : counts(r)) {
      const std::string key = k;
      if (v > 0 && (key == "lost" || key == "duplicated" || key == "reordered" || key == "phantom" ||
                    key == "offset_conflicts" || key == "commits_backwards"))
        s += (s.empty() ? "" : ", ") + key + "=" + std::to_string(v);
    }
    if (!r.read_complete) s += ", read incomplete";
    return "RESULT: VIOLATIONS (" + s + ")";
  }
  if (!r.read_complete)
    return "RESULT: INCOMPLETE (reading did not reach the end of every partition; acked=" + std::to_string(r.acked) +
           " read=" + std::to_string(r.read) + ")";
  return "RESULT: OK";
}

std::string summary_table(const report& r) {
  std::string out;
  char line[128];
  if (!r.run_id.empty()) {
    out += "run_id                  " + r.run_id + "\n";
    out += "acks                    " + r.acks + (r.idempotence ? " (idempotent)" : "") + "\n";
  }
  for (const auto& [k, v] : counts(r)) {
    std::snprintf(line, sizeof line, "%-23s %lld\n", k, static_cast<long long>(v));
    out += line;
  }
  std::snprintf(line, sizeof line, "%-23s %lld\n", "commits", static_cast<long long>(r.commits));
  out += line;
  for (const auto& e : r.examples) out += "  " + e + "\n";
  if (static_cast<std::int64_t>(r.examples.size()) < r.violations) out += "  ...\n";
  out += result_line(r) + "\n";
  return out;
}

std::string summary_json(const report& r) {
  boost::json::object o;
  for (const auto& [k, v] : counts(r)) o[k] = v;
  o["run_id"] = r.run_id;
  o["acks"] = r.acks;
  o["idempotence"] = r.idempotence ? 1 : 0;
  o["commits"] = r.commits;
  return boost::json::serialize(o) + "\n";
}

}  // namespace strata::verify
