#pragma once
// The checker: a pure function from a recorded history (history.h) to a
// report that tells violations of Kafka's guarantees from legal outcomes.
// See README.md for the exact definitions. No I/O, no librdkafka, no state:
// `strata verify` runs it after a run, `strata verify check` on a saved
// history, and tests/verify/ on hand-written ones.
#include <cstdint>
#include <string>
#include <vector>

#include "verify/history.h"

namespace strata::verify {

struct report {
  // From the history's "run" event ("" / false when it has none).
  std::string run_id;
  std::string topic;
  std::string acks;
  bool idempotence = false;

  std::int64_t sent = 0;    // distinct values sent
  std::int64_t acked = 0;   // distinct values with a successful delivery report
  std::int64_t failed = 0;  // distinct values with a failed delivery report
  std::int64_t read = 0;    // distinct values of this run read
  std::int64_t commits = 0;  // successful group commits recorded

  // Violations.
  std::int64_t lost = 0;
  std::int64_t duplicated = 0;
  std::int64_t reordered = 0;
  std::int64_t phantom = 0;
  std::int64_t offset_conflicts = 0;
  std::int64_t commits_backwards = 0;
  std::int64_t violations = 0;  // the sum of the six above

  // Legal outcomes of a failed send: the value may or may not be there.
  std::int64_t indeterminate = 0;
  std::int64_t indeterminate_present = 0;
  std::int64_t indeterminate_absent = 0;

  std::int64_t longest_unavailable_ms = 0;
  bool read_complete = false;
  std::int64_t duration_ms = 0;

  // A few violations spelled out (at most `max_examples`), for the table.
  std::vector<std::string> examples;

  // 1: violations; 3: no violation but reading did not reach the end; 0: OK.
  int exit_code() const;
};

report check(const std::vector<event>& history, std::size_t max_examples = 10);

}  // namespace strata::verify
