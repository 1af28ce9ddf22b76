#include "client/cluster_client.h"

#include <thread>

#include "protocol/generated/find_coordinator.h"

namespace strata::client {

cluster_client::cluster_client(const std::string& bootstrap, std::chrono::milliseconds timeout)
    : deadline_(clock::now() + timeout), servers_(parse_endpoints(bootstrap)) {}

broker_connection& cluster_client::any() {
  if (bootstrap_) return *bootstrap_;
  std::optional<client_error> first_error;
  for (auto& ep : servers_) {
    try {
      bootstrap_ = std::make_unique<broker_connection>(ep, -1, deadline_);
      return *bootstrap_;
    } catch (const client_error& e) {
      if (!first_error) first_error = e;
    }
  }
  throw *first_error;
}

int32_t cluster_client::remaining_ms() const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - clock::now()).count();
  return static_cast<int32_t>(std::clamp<long long>(left, 1, INT32_MAX));
}

protocol::metadata_response cluster_client::metadata(const std::optional<std::vector<std::string>>& topics) {
  protocol::metadata_request req;
  if (topics) {
    req.topics.emplace();
    for (auto& t : *topics) {
      protocol::metadata_request::metadata_request_topic rt;
      rt.name = t;
      req.topics->push_back(rt);
    }
  } else {
    req.topics.reset();  // null: every topic (v1+)
  }
  req.allow_auto_topic_creation = false;
  auto resp = any().call<protocol::metadata_response>(req, deadline_);
  brokers_.emplace();
  for (auto& b : resp.brokers) brokers_->push_back({b.node_id, b.host, b.port, b.rack});
  controller_id_ = resp.controller_id;
  // The bootstrap server learns its node id when its endpoint is a broker's.
  for (auto& b : *brokers_)
    if (any().node_id() < 0 && any().peer() == endpoint{b.host, static_cast<uint16_t>(b.port)})
      any().set_node_id(b.node_id);
  return resp;
}

const std::vector<broker_info>& cluster_client::brokers() {
  if (!brokers_) metadata(std::vector<std::string>{});
  return *brokers_;
}

int32_t cluster_client::controller_id() {
  if (!brokers_) metadata(std::vector<std::string>{});
  return controller_id_;
}

broker_connection& cluster_client::connect_to(const broker_info& b) {
  // Reuse the bootstrap connection when it is this broker.
  if (any().node_id() == b.node_id) return any();
  auto& slot = by_node_[b.node_id];
  if (!slot) slot = std::make_unique<broker_connection>(endpoint{b.host, static_cast<uint16_t>(b.port)}, b.node_id, deadline_);
  return *slot;
}

broker_connection& cluster_client::broker(int32_t node_id) {
  if (auto it = by_node_.find(node_id); it != by_node_.end() && it->second) return *it->second;
  if (any().node_id() == node_id) return any();
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& b : brokers())
      if (b.node_id == node_id) return connect_to(b);
    metadata(std::vector<std::string>{});  // a broker that joined since the last look
  }
  throw client_error("broker " + std::to_string(node_id) + " is not in the cluster metadata",
                     protocol::error_code::broker_not_available);
}

broker_connection& cluster_client::controller() {
  const int32_t id = controller_id();
  // Deviation from the Java AdminClient, which waits for a controller: a
  // cluster that reports none (-1) gets the request at any broker, which
  // forwards it or answers NOT_CONTROLLER (retried).
  return id < 0 ? any() : broker(id);
}

broker_connection& cluster_client::coordinator(const std::string& group_id) {
  if (auto it = coordinators_.find(group_id); it != coordinators_.end()) return broker(it->second);
  protocol::find_coordinator_request req;
  req.key_type = 0;  // group
  int16_t version = 0;
  auto& conn = any();
  version = conn.version_for(req.api_key);
  if (version >= 4)
    req.coordinator_keys = {group_id};
  else
    req.key = group_id;
  auto resp = conn.call_at<protocol::find_coordinator_response>(req, version, deadline_);
  const std::string what = "finding the coordinator of group '" + group_id + "'";
  int32_t node = -1;
  if (version >= 4) {
    if (resp.coordinators.empty()) throw client_error(what + ": the broker returned no coordinator");
    auto& c = resp.coordinators.front();
    check(c.error_code, what, c.error_message);
    node = c.node_id;
  } else {
    check(resp.error_code, what, resp.error_message);
    node = resp.node_id;
  }
  coordinators_[group_id] = node;
  return broker(node);
}

bool cluster_client::backoff() {
  constexpr auto pause = std::chrono::milliseconds(200);
  if (clock::now() + pause >= deadline_) return false;
  brokers_.reset();
  coordinators_.clear();
  std::this_thread::sleep_for(pause);
  return true;
}

}  // namespace strata::client
