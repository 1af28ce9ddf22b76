#include "zk/znodes.h"

#include <boost/json.hpp>

#include <charconv>

namespace strata::zk {

namespace json = boost::json;

namespace paths {
std::string broker(int32_t id) { return std::string(broker_ids) + "/" + std::to_string(id); }
std::string topic(const std::string& t) { return std::string(broker_topics) + "/" + t; }
std::string topic_partitions(const std::string& t) { return topic(t) + "/partitions"; }
std::string partition(const std::string& t, int32_t p) { return topic_partitions(t) + "/" + std::to_string(p); }
std::string partition_state(const std::string& t, int32_t p) { return partition(t, p) + "/state"; }
std::string delete_topic(const std::string& t) { return std::string(delete_topics) + "/" + t; }
std::string config_entity(const std::string& type, const std::string& name) { return "/config/" + type + "/" + name; }
const std::vector<std::string>& persistent() {
  static const std::vector<std::string> p = {
      "/consumers",      broker_ids,          broker_topics,     config_changes,           "/config/topics",
      "/config/clients", "/config/users",     "/config/brokers", "/config/ips",            delete_topics,
      broker_seqid,      isr_change_notification, latest_producer_id_block, log_dir_event_notification,
  };
  return p;
}
}  // namespace paths

namespace {

error malformed(std::string_view what, std::string_view why) {
  return error(kafka_errc::malformed_znode, std::string(what) + ": " + std::string(why));
}

result<json::object> parse_object(std::string_view s, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(s, ec);
  if (ec) return malformed(what, "not JSON (" + ec.message() + ")");
  if (!v.is_object()) return malformed(what, "not a JSON object");
  return std::move(v.as_object());
}

std::optional<int64_t> as_int(const json::value& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64() && v.as_uint64() <= uint64_t(INT64_MAX)) return static_cast<int64_t>(v.as_uint64());
  return std::nullopt;
}

std::optional<int64_t> parse_decimal(std::string_view s) {
  int64_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return out;
}

result<int64_t> req_int(const json::object& o, std::string_view key, std::string_view what) {
  auto* v = o.if_contains(key);
  if (v == nullptr) return malformed(what, "missing \"" + std::string(key) + "\"");
  auto i = as_int(*v);
  if (!i) return malformed(what, "\"" + std::string(key) + "\" is not an integer");
  return *i;
}

// Kafka writes some longs as JSON strings ("timestamp", "block_start").
result<int64_t> req_int_string(const json::object& o, std::string_view key, std::string_view what) {
  auto* v = o.if_contains(key);
  if (v == nullptr) return malformed(what, "missing \"" + std::string(key) + "\"");
  if (v->is_string()) {
    if (auto i = parse_decimal(std::string_view(v->as_string()))) return *i;
  } else if (auto i = as_int(*v)) {
    return *i;
  }
  return malformed(what, "\"" + std::string(key) + "\" is not a decimal number");
}

result<std::string> req_string(const json::object& o, std::string_view key, std::string_view what) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return malformed(what, "missing string \"" + std::string(key) + "\"");
  return std::string(v->as_string());
}

// Refuses a version outside [lo, hi]; the version may be a number or, as in
// /cluster/id, a string.
result<int32_t> check_version(const json::object& o, int32_t lo, int32_t hi, std::string_view what) {
  auto v = req_int_string(o, "version", what);
  if (!v) return v.error();
  if (v.value() < lo || v.value() > hi) {
    return error(kafka_errc::unsupported_version, std::string(what) + ": version " + std::to_string(v.value()) +
                                                      " (this code reads " + std::to_string(lo) + ".." +
                                                      std::to_string(hi) + ")");
  }
  return static_cast<int32_t>(v.value());
}

result<std::vector<int32_t>> int_array(const json::value& v, std::string_view what) {
  if (!v.is_array()) return malformed(what, "expected an array of integers");
  std::vector<int32_t> out;
  for (auto& e : v.as_array()) {
    auto i = as_int(e);
    if (!i || *i < INT32_MIN || *i > INT32_MAX) return malformed(what, "expected an array of integers");
    out.push_back(static_cast<int32_t>(*i));
  }
  return out;
}

json::array to_array(const std::vector<int32_t>& v) {
  json::array a;
  for (int32_t i : v) a.emplace_back(i);
  return a;
}

json::object to_object(const replica_map& m) {
  json::object o;
  for (auto& [p, replicas] : m) o[std::to_string(p)] = to_array(replicas);
  return o;
}

result<replica_map> replica_map_from(const json::object& o, std::string_view key, bool required,
                                     std::string_view what) {
  replica_map out;
  auto* v = o.if_contains(key);
  if (v == nullptr) {
    if (required) return malformed(what, "missing \"" + std::string(key) + "\"");
    return out;
  }
  if (!v->is_object()) return malformed(what, "\"" + std::string(key) + "\" is not an object");
  for (auto& [k, replicas] : v->as_object()) {
    auto p = parse_decimal(std::string_view(k));
    if (!p || *p < 0 || *p > INT32_MAX) return malformed(what, "partition key \"" + std::string(k) + "\"");
    auto r = int_array(replicas, what);
    if (!r) return r.error();
    out[static_cast<int32_t>(*p)] = std::move(r.value());
  }
  return out;
}

}  // namespace

// ---- /cluster/id -------------------------------------------------------------

std::string encode_cluster_id(const std::string& id) {
  return json::serialize(json::object{{"version", "1"}, {"id", id}});
}

result<std::string> decode_cluster_id(std::string_view s) {
  constexpr std::string_view what = "/cluster/id";
  auto o = parse_object(s, what);
  if (!o) return o.error();
  if (auto v = check_version(o.value(), 1, 1, what); !v) return v.error();
  return req_string(o.value(), "id", what);
}

// ---- /controller, /controller_epoch ------------------------------------------

std::string encode_controller(const controller_info& c) {
  return json::serialize(json::object{
      {"version", 1}, {"brokerid", c.broker_id}, {"timestamp", std::to_string(c.timestamp_ms)}});
}

result<controller_info> decode_controller(std::string_view s) {
  constexpr std::string_view what = "/controller";
  auto o = parse_object(s, what);
  if (!o) return o.error();
  if (auto v = check_version(o.value(), 1, 2, what); !v) return v.error();
  controller_info c;
  auto id = req_int(o.value(), "brokerid", what);
  if (!id) return id.error();
  c.broker_id = static_cast<int32_t>(id.value());
  if (o.value().contains("timestamp")) {
    auto ts = req_int_string(o.value(), "timestamp", what);
    if (!ts) return ts.error();
    c.timestamp_ms = ts.value();
  }
  return c;
}

std::string encode_controller_epoch(int32_t epoch) { return std::to_string(epoch); }

result<int32_t> decode_controller_epoch(std::string_view data) {
  auto v = parse_decimal(data);
  if (!v || *v < 0 || *v > INT32_MAX) return malformed("/controller_epoch", "not a decimal epoch");
  return static_cast<int32_t>(*v);
}

// ---- /brokers/ids/<id> ----------------------------------------------------------

std::string endpoint_string(const endpoint& e) {
  bool v6 = e.host.find(':') != std::string::npos;
  return e.listener_name + "://" + (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

std::optional<endpoint> parse_endpoint_string(std::string_view s) {
  auto sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  endpoint e;
  e.listener_name = std::string(s.substr(0, sep));
  std::string_view hp = s.substr(sep + 3);
  auto colon = hp.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = hp.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto port = parse_decimal(hp.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return std::nullopt;
  e.host = std::string(host);
  e.port = static_cast<int32_t>(*port);
  e.security_protocol = e.listener_name;
  return e;
}

std::string encode_broker(const broker_registration& b) {
  json::object o;
  o["version"] = 4;
  const endpoint* plaintext = nullptr;
  for (auto& e : b.endpoints) {
    if (e.security_protocol == "PLAINTEXT") {
      plaintext = &e;
      break;
    }
  }
  if (plaintext != nullptr) {
    o["host"] = plaintext->host;
    o["port"] = plaintext->port;
  } else {
    o["host"] = nullptr;
    o["port"] = -1;
  }
  o["jmx_port"] = b.jmx_port;
  o["timestamp"] = std::to_string(b.timestamp_ms);
  json::array eps;
  json::object protocol_map;
  for (auto& e : b.endpoints) {
    eps.emplace_back(endpoint_string(e));
    protocol_map[e.listener_name] = e.security_protocol;
  }
  o["endpoints"] = std::move(eps);
  if (b.rack) o["rack"] = *b.rack;
  o["listener_security_protocol_map"] = std::move(protocol_map);
  return json::serialize(o);
}

result<broker_registration> decode_broker(std::string_view s) {
  constexpr std::string_view what = "/brokers/ids/<id>";
  auto po = parse_object(s, what);
  if (!po) return po.error();
  const json::object& o = po.value();
  auto version = check_version(o, 1, 5, what);
  if (!version) return version.error();
  broker_registration b;
  b.version = version.value();
  if (auto* j = o.if_contains("jmx_port"); j != nullptr && as_int(*j)) b.jmx_port = static_cast<int32_t>(*as_int(*j));
  if (o.contains("timestamp")) {
    auto ts = req_int_string(o, "timestamp", what);
    if (!ts) return ts.error();
    b.timestamp_ms = ts.value();
  }
  if (auto* r = o.if_contains("rack"); r != nullptr && r->is_string()) b.rack = std::string(r->as_string());

  std::map<std::string, std::string> protocols;
  if (auto* m = o.if_contains("listener_security_protocol_map"); m != nullptr) {
    if (!m->is_object()) return malformed(what, "listener_security_protocol_map is not an object");
    for (auto& [k, v] : m->as_object()) {
      if (!v.is_string()) return malformed(what, "listener_security_protocol_map value is not a string");
      protocols[std::string(k)] = std::string(v.as_string());
    }
  }
  if (b.version >= 2) {
    auto* eps = o.if_contains("endpoints");
    if (eps == nullptr || !eps->is_array()) return malformed(what, "missing \"endpoints\"");
    for (auto& v : eps->as_array()) {
      if (!v.is_string()) return malformed(what, "endpoint is not a string");
      auto e = parse_endpoint_string(std::string_view(v.as_string()));
      if (!e) return malformed(what, "endpoint \"" + std::string(v.as_string()) + "\"");
      // Before v4 the listener name is the security protocol.
      if (auto it = protocols.find(e->listener_name); it != protocols.end()) e->security_protocol = it->second;
      b.endpoints.push_back(std::move(*e));
    }
  } else {  // v1: host and port only, PLAINTEXT
    auto host = req_string(o, "host", what);
    auto port = req_int(o, "port", what);
    if (!host) return host.error();
    if (!port) return port.error();
    b.endpoints.push_back(endpoint{"PLAINTEXT", "PLAINTEXT", host.value(), static_cast<int32_t>(port.value())});
  }
  return b;
}

// ---- /brokers/topics/<t> ------------------------------------------------------------

std::string encode_topic(const topic_assignment& t) {
  json::object o;
  o["version"] = 3;
  o["topic_id"] = t.topic_id;
  o["partitions"] = to_object(t.partitions);
  o["adding_replicas"] = to_object(t.adding_replicas);
  o["removing_replicas"] = to_object(t.removing_replicas);
  return json::serialize(o);
}

result<topic_assignment> decode_topic(std::string_view s) {
  constexpr std::string_view what = "/brokers/topics/<t>";
  auto po = parse_object(s, what);
  if (!po) return po.error();
  const json::object& o = po.value();
  auto version = check_version(o, 1, 3, what);
  if (!version) return version.error();
  topic_assignment t;
  if (auto* id = o.if_contains("topic_id"); id != nullptr && id->is_string()) t.topic_id = std::string(id->as_string());
  auto parts = replica_map_from(o, "partitions", true, what);
  if (!parts) return parts.error();
  t.partitions = std::move(parts.value());
  auto adding = replica_map_from(o, "adding_replicas", false, what);
  if (!adding) return adding.error();
  t.adding_replicas = std::move(adding.value());
  auto removing = replica_map_from(o, "removing_replicas", false, what);
  if (!removing) return removing.error();
  t.removing_replicas = std::move(removing.value());
  return t;
}

// ---- partition state -----------------------------------------------------------------

std::string encode_partition_state(const leader_and_isr& s) {
  json::object o{{"version", 1},
                 {"leader", s.leader},
                 {"leader_epoch", s.leader_epoch},
                 {"controller_epoch", s.controller_epoch},
                 {"isr", to_array(s.isr)}};
  // Kafka writes it only when the leader is still recovering (KIP-704).
  if (s.leader_recovery_state != 0) o["leader_recovery_state"] = s.leader_recovery_state;
  return json::serialize(o);
}

result<leader_and_isr> decode_partition_state(std::string_view s) {
  constexpr std::string_view what = "partition state";
  auto po = parse_object(s, what);
  if (!po) return po.error();
  const json::object& o = po.value();
  if (auto v = check_version(o, 1, 1, what); !v) return v.error();
  leader_and_isr st;
  auto leader = req_int(o, "leader", what);
  auto epoch = req_int(o, "leader_epoch", what);
  auto cepoch = req_int(o, "controller_epoch", what);
  if (!leader) return leader.error();
  if (!epoch) return epoch.error();
  if (!cepoch) return cepoch.error();
  st.leader = static_cast<int32_t>(leader.value());
  st.leader_epoch = static_cast<int32_t>(epoch.value());
  st.controller_epoch = static_cast<int32_t>(cepoch.value());
  auto* isr = o.if_contains("isr");
  if (isr == nullptr) return malformed(what, "missing \"isr\"");
  auto ids = int_array(*isr, what);
  if (!ids) return ids.error();
  st.isr = std::move(ids.value());
  if (auto* lrs = o.if_contains("leader_recovery_state"); lrs != nullptr && as_int(*lrs)) {
    st.leader_recovery_state = static_cast<int32_t>(*as_int(*lrs));
  }
  return st;
}

// ---- /isr_change_notification ----------------------------------------------------------

std::string encode_isr_change(const std::vector<topic_partition>& tps) {
  json::array parts;
  for (auto& tp : tps) parts.emplace_back(json::object{{"topic", tp.topic}, {"partition", tp.partition}});
  return json::serialize(json::object{{"version", 1}, {"partitions", std::move(parts)}});
}

result<std::vector<topic_partition>> decode_isr_change(std::string_view s) {
  constexpr std::string_view what = "isr change notification";
  auto po = parse_object(s, what);
  if (!po) return po.error();
  if (auto v = check_version(po.value(), 1, 1, what); !v) return v.error();
  auto* parts = po.value().if_contains("partitions");
  if (parts == nullptr || !parts->is_array()) return malformed(what, "missing \"partitions\"");
  std::vector<topic_partition> out;
  for (auto& e : parts->as_array()) {
    if (!e.is_object()) return malformed(what, "partition entry is not an object");
    auto t = req_string(e.as_object(), "topic", what);
    auto p = req_int(e.as_object(), "partition", what);
    if (!t) return t.error();
    if (!p) return p.error();
    out.push_back({t.value(), static_cast<int32_t>(p.value())});
  }
  return out;
}

// ---- /admin/reassign_partitions ----------------------------------------------------------

std::string encode_reassignment(const std::vector<partition_reassignment>& r) {
  json::array parts;
  for (auto& e : r)
    parts.emplace_back(
        json::object{{"topic", e.tp.topic}, {"partition", e.tp.partition}, {"replicas", to_array(e.replicas)}});
  return json::serialize(json::object{{"version", 1}, {"partitions", std::move(parts)}});
}

result<std::vector<partition_reassignment>> decode_reassignment(std::string_view s) {
  constexpr std::string_view what = "/admin/reassign_partitions";
  auto po = parse_object(s, what);
  if (!po) return po.error();
  if (auto v = check_version(po.value(), 1, 1, what); !v) return v.error();
  auto* parts = po.value().if_contains("partitions");
  if (parts == nullptr || !parts->is_array()) return malformed(what, "missing \"partitions\"");
  std::vector<partition_reassignment> out;
  for (auto& e : parts->as_array()) {
    if (!e.is_object()) return malformed(what, "partition entry is not an object");
    const auto& o = e.as_object();
    auto t = req_string(o, "topic", what);
    auto p = req_int(o, "partition", what);
    if (!t) return t.error();
    if (!p) return p.error();
    auto* rv = o.if_contains("replicas");
    if (rv == nullptr) return malformed(what, "missing \"replicas\"");
    auto r = int_array(*rv, what);
    if (!r) return r.error();
    out.push_back({{t.value(), static_cast<int32_t>(p.value())}, std::move(r.value())});
  }
  return out;
}

// ---- /log_dir_event_notification ---------------------------------------------------------

std::string encode_log_dir_event(int32_t broker_id) {
  return json::serialize(json::object{{"version", 1}, {"broker", broker_id}, {"event", kLogDirFailureEvent}});
}

result<int32_t> decode_log_dir_event(std::string_view s) {
  constexpr std::string_view what = "log dir event notification";
  auto po = parse_object(s, what);
  if (!po) return po.error();
  if (auto v = check_version(po.value(), 1, 1, what); !v) return v.error();
  auto b = req_int(po.value(), "broker", what);
  if (!b) return b.error();
  if (b.value() < 0 || b.value() > INT32_MAX) return malformed(what, "\"broker\" out of range");
  return static_cast<int32_t>(b.value());
}

// ---- /config ----------------------------------------------------------------------------

std::string encode_entity_config(const config_map& c) {
  json::object cfg;
  for (auto& [k, v] : c) cfg[k] = v;
  return json::serialize(json::object{{"version", 1}, {"config", std::move(cfg)}});
}

result<config_map> decode_entity_config(std::string_view s) {
  constexpr std::string_view what = "config entity";
  auto po = parse_object(s, what);
  if (!po) return po.error();
  if (auto v = check_version(po.value(), 1, 1, what); !v) return v.error();
  config_map out;
  auto* cfg = po.value().if_contains("config");
  if (cfg == nullptr) return out;
  if (!cfg->is_object()) return malformed(what, "\"config\" is not an object");
  for (auto& [k, v] : cfg->as_object()) {
    if (!v.is_string()) return malformed(what, "config value of \"" + std::string(k) + "\" is not a string");
    out[std::string(k)] = std::string(v.as_string());
  }
  return out;
}

std::string encode_config_change(const std::string& entity_type, const std::string& entity_name) {
  return json::serialize(json::object{{"version", 2}, {"entity_path", entity_type + "/" + entity_name}});
}

result<config_change> decode_config_change(std::string_view s) {
  constexpr std::string_view what = "config change notification";
  auto po = parse_object(s, what);
  if (!po) return po.error();
  auto version = check_version(po.value(), 1, 2, what);
  if (!version) return version.error();
  config_change c;
  if (version.value() == 1) {
    auto type = req_string(po.value(), "entity_type", what);
    auto name = req_string(po.value(), "entity_name", what);
    if (!type) return type.error();
    if (!name) return name.error();
    c.entity_type = type.value();
    c.entity_name = name.value();
    return c;
  }
  auto path = req_string(po.value(), "entity_path", what);
  if (!path) return path.error();
  auto slash = path.value().find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == path.value().size()) {
    return malformed(what, "entity_path \"" + path.value() + "\"");
  }
  c.entity_type = path.value().substr(0, slash);
  c.entity_name = path.value().substr(slash + 1);
  return c;
}

// ---- /latest_producer_id_block ----------------------------------------------------------

std::string encode_producer_id_block(const producer_id_block& b) {
  return json::serialize(json::object{{"version", 1},
                                      {"broker", b.broker},
                                      {"block_start", std::to_string(b.first)},
                                      {"block_end", std::to_string(b.last)}});
}

result<producer_id_block> decode_producer_id_block(std::string_view s) {
  constexpr std::string_view what = "/latest_producer_id_block";
  auto po = parse_object(s, what);
  if (!po) return po.error();
  if (auto v = check_version(po.value(), 1, 1, what); !v) return v.error();
  auto broker = req_int(po.value(), "broker", what);
  auto first = req_int_string(po.value(), "block_start", what);
  auto last = req_int_string(po.value(), "block_end", what);
  if (!broker) return broker.error();
  if (!first) return first.error();
  if (!last) return last.error();
  return producer_id_block{static_cast<int32_t>(broker.value()), first.value(), last.value()};
}

}  // namespace strata::zk
