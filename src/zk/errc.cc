#include "zk/errc.h"

#include <zookeeper/zookeeper.h>

#include <string>

namespace strata::zk {
namespace {

// The enum names the C client's codes by value; keep them in step.
static_assert(int(errc::connection_loss) == ZCONNECTIONLOSS);
static_assert(int(errc::operation_timeout) == ZOPERATIONTIMEOUT);
static_assert(int(errc::no_node) == ZNONODE);
static_assert(int(errc::bad_version) == ZBADVERSION);
static_assert(int(errc::node_exists) == ZNODEEXISTS);
static_assert(int(errc::not_empty) == ZNOTEMPTY);
static_assert(int(errc::session_expired) == ZSESSIONEXPIRED);
static_assert(int(errc::closing) == ZCLOSING);
static_assert(int(errc::session_moved) == ZSESSIONMOVED);
static_assert(int(errc::throttled) == ZTHROTTLEDOP);
static_assert(int(errc::runtime_inconsistency) == ZRUNTIMEINCONSISTENCY);

class zk_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "zookeeper"; }
  std::string message(int rc) const override { return zerror(rc); }
};

class kafka_zk_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka_zk"; }
  std::string message(int v) const override {
    switch (static_cast<kafka_errc>(v)) {
      case kafka_errc::broker_already_registered: return "broker id already registered";
      case kafka_errc::malformed_znode: return "malformed znode data";
      case kafka_errc::unsupported_version: return "unsupported znode version";
      case kafka_errc::topic_exists: return "topic already exists";
      case kafka_errc::unknown_topic: return "unknown topic";
      case kafka_errc::invalid_assignment: return "invalid replica assignment";
      case kafka_errc::producer_id_space_exhausted: return "producer id space exhausted";
      case kafka_errc::too_many_conflicts: return "too many concurrent updates";
    }
    return "unknown kafka_zk error " + std::to_string(v);
  }
};

}  // namespace

const std::error_category& zk_category() {
  static const zk_category_impl c;
  return c;
}
const std::error_category& kafka_zk_category() {
  static const kafka_zk_category_impl c;
  return c;
}

}  // namespace strata::zk
