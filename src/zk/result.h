#pragma once
// zk::error and zk::result<T>: what every call of the ZooKeeper layer returns.
//
// An error is an error_code (zk::errc or zk::kafka_errc) plus what was being
// done ("create /brokers/ids/1", "broker id 1 is already registered ..."), so a
// caller can both branch on the code and log one clear line.
#include <string>
#include <system_error>
#include <utility>

#include <boost/outcome/result.hpp>

#include "zk/errc.h"

namespace strata::zk {

struct error {
  std::error_code code;
  std::string detail;   // the operation and path, or a sentence naming the cause
  int failed_op = -1;   // multi() only: index of the op that failed

  error() = default;
  error(std::error_code c, std::string d, int op = -1) : code(c), detail(std::move(d)), failed_op(op) {}
  std::string message() const { return detail.empty() ? code.message() : detail + ": " + code.message(); }
  friend bool operator==(const error& e, errc c) { return e.code == c; }
  friend bool operator==(const error& e, kafka_errc c) { return e.code == c; }
};

// Check before use: value() on a failed result terminates (a broken invariant
// of the caller, not an error to handle).
template <class T>
using result = boost::outcome_v2::result<T, error, boost::outcome_v2::policy::terminate>;
inline auto success() { return boost::outcome_v2::success(); }

}  // namespace strata::zk
