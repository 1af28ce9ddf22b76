#pragma once
// Internal to controller/: how an event turns a failed ZooKeeper call into a
// resignation. Inside an event, ZooKeeper failures throw; the event loop catches
// them and resigns (controller.cc, dispatch):
//   - fenced_error: a fenced multi failed on its CheckOp(/controller_epoch): a newer
//     controller exists (Kafka's ControllerMovedException);
//   - zk_failure: anything else (connection loss, timeout, expired session, a
//     malformed znode): the context may now be out of step with ZooKeeper.
#include <stdexcept>
#include <string>

#include "zk/result.h"

namespace strata::controller::detail {

struct fenced_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct zk_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline bool is_fence(const zk::error& e) { return e.failed_op == 0 && e == zk::errc::bad_version; }

[[noreturn]] inline void fail(const zk::error& e, const std::string& what) {
  if (is_fence(e)) throw fenced_error(what + ": " + e.message());
  throw zk_failure(what + ": " + e.message());
}

template <class T>
T checked(zk::result<T> r, const std::string& what) {
  if (!r) fail(r.error(), what);
  return std::move(r).value();
}

inline void checked(zk::result<void> r, const std::string& what) {
  if (!r) fail(r.error(), what);
}

}  // namespace strata::controller::detail
