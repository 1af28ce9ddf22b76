#pragma once
// Errors of the ZooKeeper layer, as std::error_code values in two categories:
//
//  - zk::errc, the ZooKeeper C client's return codes (ZNONODE, ZBADVERSION...)
//    under our own names; the numeric values are the C client's own, so a code
//    the enum does not name still maps (its message comes from zerror()).
//  - zk::kafka_errc, what the typed layer over Kafka's znodes adds (a broker id
//    already registered, a znode whose JSON we cannot read...).
//
// Callers compare with `==` against the enum: `ec == zk::errc::bad_version`.
#include <system_error>

namespace strata::zk {

enum class errc {
  ok = 0,
  system_error = -1,
  runtime_inconsistency = -2,  // a later op of a failed multi (not executed)
  data_inconsistency = -3,
  connection_loss = -4,  // no connection now, or it dropped before the reply
  marshalling_error = -5,
  unimplemented = -6,
  operation_timeout = -7,  // no reply within the client's request timeout
  bad_arguments = -8,
  invalid_state = -9,
  no_node = -101,
  no_auth = -102,
  bad_version = -103,  // the expected znode version did not match
  no_children_for_ephemerals = -108,
  node_exists = -110,
  not_empty = -111,
  session_expired = -112,
  invalid_acl = -114,
  auth_failed = -115,
  closing = -116,  // the client is closed (or closing)
  session_moved = -118,
  throttled = -127,
};

enum class kafka_errc {
  broker_already_registered = 1,  // /brokers/ids/<id> held by another session
  malformed_znode,                // not JSON, or a required field is missing
  unsupported_version,            // a "version" this code does not know
  topic_exists,
  unknown_topic,
  invalid_assignment,             // e.g. add_partitions that changes or removes partitions
  producer_id_space_exhausted,
  too_many_conflicts,             // a compare-and-set retried past its bound
};

const std::error_category& zk_category();
const std::error_category& kafka_zk_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), zk_category()}; }
inline std::error_code make_error_code(kafka_errc e) { return {static_cast<int>(e), kafka_zk_category()}; }
// The C client's integer return code as an error_code (0 = success).
inline std::error_code from_zk_rc(int rc) { return {rc, zk_category()}; }

}  // namespace strata::zk

template <>
struct std::is_error_code_enum<strata::zk::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<strata::zk::kafka_errc> : std::true_type {};
