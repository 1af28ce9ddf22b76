#pragma once
// How a report is shown: the summary table `strata verify` prints on stdout
// and the one-object JSON summary (--summary-json), whose keys are a contract
// with the scripts that run the command (see README.md). Pure formatting.
#include <string>

#include "verify/checker.h"

namespace strata::verify {

// Aligned "name  value" lines, the first few examples, then one RESULT line:
// "RESULT: OK", "RESULT: VIOLATIONS (lost=1, ...)" or "RESULT: INCOMPLETE (...)".
std::string summary_table(const report& r);

// The RESULT line alone, without its newline.
std::string result_line(const report& r);

// One JSON object and a newline. Every key always present; counts are integers.
std::string summary_json(const report& r);

}  // namespace strata::verify
