// DescribeConfigs (32), AlterConfigs (33), IncrementalAlterConfigs (44).
// Topic configs are changed at runtime and take effect at once; broker
// configs are readable (their values come from server.properties).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "broker/broker.h"
#include "broker/cluster_member.h"
#include "broker/handlers/common.h"
#include "broker/handlers/config_entries.h"
#include "broker/handlers/handlers.h"
#include "config/config_def.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {
namespace {

using describe_resp = protocol::describe_configs_response;

bool wanted(const std::optional<std::vector<std::string>>& keys, const std::string& name) {
  if (!keys || keys->empty()) return true;
  for (const auto& k : *keys)
    if (k == name) return true;
  return false;
}

describe_resp::describe_configs_result::describe_configs_resource_result make_entry(const std::string& name, const std::string& value,
                                                           int8_t source, const config::config_def* def,
                                                           bool read_only, bool include_docs) {
  describe_resp::describe_configs_result::describe_configs_resource_result c;
  c.name = name;
  c.value = value;
  c.read_only = read_only;
  c.is_default = source == default_config;
  c.config_source = source;
  c.is_sensitive = false;
  if (def) {
    // Passwords and key material are never sent back, as in Kafka: null and sensitive.
    if (def->type == config::value_type::password) {
      c.value = std::nullopt;
      c.is_sensitive = true;
    }
    c.config_type = config_type_id(def->type);
    if (include_docs) c.documentation = std::string(def->doc);
  }
  return c;
}

describe_resp::describe_configs_result describe_topic(broker& b, const std::string& name,
                                                      const std::optional<std::vector<std::string>>& keys,
                                                      bool include_docs) {
  describe_resp::describe_configs_result r;
  r.resource_type = resource_topic;
  r.resource_name = name;
  auto t = b.topics().find(name);
  if (!t) {
    r.error_code = ec(protocol::error_code::unknown_topic_or_partition);
    r.error_message = fmt::format("topic '{}' does not exist", name);
    return r;
  }
  r.error_code = ec(protocol::error_code::none);
  for (const auto& e : t->cfg.entries) {
    if (!wanted(keys, e.name)) continue;
    r.configs.push_back(make_entry(e.name, e.value, topic_config_source(e.src), config::find_topic_def(e.name),
                                   false, include_docs));
  }
  return r;
}

describe_resp::describe_configs_result describe_broker(broker& b, const std::string& name,
                                                       const std::optional<std::vector<std::string>>& keys,
                                                       bool include_docs) {
  describe_resp::describe_configs_result r;
  r.resource_type = resource_broker;
  r.resource_name = name;
  if (!name.empty() && name != std::to_string(b.node_id())) {
    r.error_code = ec(protocol::error_code::invalid_request);
    r.error_message = fmt::format("broker id '{}' is not this broker ({})", name, b.node_id());
    return r;
  }
  r.error_code = ec(protocol::error_code::none);
  const auto dynamic = b.cluster() ? b.cluster()->dynamic_broker_configs()
                                   : std::map<std::string, cluster_member::dynamic_value>{};
  for (const auto& e : b.cfg().describe()) {
    if (!wanted(keys, e.name)) continue;
    const bool runtime = b.cluster() && cluster_member::is_dynamic_broker_config(e.name);
    if (auto d = dynamic.find(e.name); d != dynamic.end()) {
      r.configs.push_back(make_entry(e.name, d->second.value,
                                     d->second.per_broker ? dynamic_broker_config : dynamic_default_broker_config,
                                     config::find_broker_def(e.name), false, include_docs));
      continue;
    }
    r.configs.push_back(make_entry(e.name, e.value, e.is_default ? default_config : static_broker_config,
                                   config::find_broker_def(e.name), !runtime, include_docs));
  }
  return r;
}

// Applies `next` overrides to a topic or reports why not.
std::pair<protocol::error_code, std::optional<std::string>> apply_topic(broker& b, const std::string& name,
                                                                        const config::topic_overrides& next,
                                                                        bool validate_only) {
  auto err = b.topics().set_overrides(name, next, validate_only);
  if (err) return {err.code, err.message};
  if (!validate_only) spdlog::info("topic '{}' configuration changed", name);
  return {protocol::error_code::none, std::nullopt};
}

std::pair<protocol::error_code, std::optional<std::string>> broker_read_only() {
  return {protocol::error_code::invalid_request,
          std::string("broker configurations are read-only at runtime; set them in server.properties")};
}

// A broker entity's dynamic configs ("" = every broker, or this broker's id) replaced
// by `next` (Kafka's /config/brokers/<entity>); only the replication throttles can
// change at runtime, and only in a cluster.
std::pair<protocol::error_code, std::optional<std::string>> apply_broker(broker& b, const std::string& name,
                                                                         const std::map<std::string, std::string>& next,
                                                                         bool validate_only) {
  cluster_member* member = b.cluster();
  if (!member) return broker_read_only();
  if (!name.empty() && name != std::to_string(b.node_id()))
    return {protocol::error_code::invalid_request,
            fmt::format("broker id '{}' is not this broker ({}): send it to broker {}", name, b.node_id(), name)};
  for (const auto& [k, v] : next) {
    const auto* def = config::find_broker_def(k);
    if (!def || !cluster_member::is_dynamic_broker_config(k))
      return {protocol::error_code::invalid_request,
              fmt::format("'{}' cannot be changed at runtime (only leader.replication.throttled.rate and "
                          "follower.replication.throttled.rate can); set it in server.properties",
                          k)};
    if (auto bad = config::validate_value(*def, v)) return {protocol::error_code::invalid_config, *bad};
  }
  if (validate_only) return {protocol::error_code::none, std::nullopt};
  const std::string entity = name.empty() ? std::string(zk::default_broker_entity) : name;
  if (auto r = member->set_broker_entity_configs(entity, zk::config_map(next.begin(), next.end())); !r)
    return {protocol::error_code::kafka_storage_error, "writing broker configs to ZooKeeper: " + r.error().message()};
  spdlog::info("dynamic configs of broker {} changed", entity);
  return {protocol::error_code::none, std::nullopt};
}

// The dynamic configs stored for a broker entity now (IncrementalAlterConfigs starts
// from them).
std::optional<std::map<std::string, std::string>> broker_current(broker& b, const std::string& name) {
  if (!b.cluster()) return std::map<std::string, std::string>{};
  auto r = b.cluster()->broker_entity_configs(name.empty() ? std::string(zk::default_broker_entity) : name);
  if (!r) return std::nullopt;
  return std::map<std::string, std::string>(r.value().begin(), r.value().end());
}

}  // namespace

void describe_configs(request_context&& ctx) {
  protocol::describe_configs_request req;
  if (!ctx.decode(req)) return;
  describe_resp resp;
  for (const auto& res : req.resources) {
    if (res.resource_type == resource_topic) {
      resp.results.push_back(describe_topic(*ctx.b, res.resource_name, res.configuration_keys, req.include_documentation));
    } else if (res.resource_type == resource_broker) {
      resp.results.push_back(describe_broker(*ctx.b, res.resource_name, res.configuration_keys, req.include_documentation));
    } else {
      describe_resp::describe_configs_result r;
      r.resource_type = res.resource_type;
      r.resource_name = res.resource_name;
      r.error_code = ec(protocol::error_code::invalid_request);
      r.error_message = fmt::format("unsupported resource type {}", res.resource_type);
      resp.results.push_back(std::move(r));
    }
  }
  ctx.respond(resp);
}

namespace {

using outcome = std::pair<protocol::error_code, std::optional<std::string>>;

// The per-resource loop AlterConfigs and IncrementalAlterConfigs share: the new
// settings of a topic or broker come from `overrides_for` (which may refuse them),
// then are validated and applied. Broker loggers are read-only.
template <class Response, class Request, class OverridesFor>
void alter_each_resource(request_context& ctx, const Request& req, OverridesFor overrides_for) {
  Response resp;
  for (const auto& res : req.resources) {
    typename decltype(resp.responses)::value_type r;
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    outcome result{protocol::error_code::none, std::nullopt};
    if (res.resource_type == resource_topic) {
      config::topic_overrides next;
      result = overrides_for(res, next);
      if (result.first == protocol::error_code::none)
        result = apply_topic(*ctx.b, res.resource_name, next, req.validate_only);
    } else if (res.resource_type == resource_broker && ctx.b->cluster()) {
      std::map<std::string, std::string> next;
      result = overrides_for(res, next);
      if (result.first == protocol::error_code::none)
        result = apply_broker(*ctx.b, res.resource_name, next, req.validate_only);
    } else if (res.resource_type == resource_broker || res.resource_type == resource_broker_logger) {
      result = broker_read_only();
    } else {
      result = {protocol::error_code::invalid_request, std::string("unsupported resource type")};
    }
    r.error_code = ec(result.first);
    r.error_message = result.second;
    resp.responses.push_back(std::move(r));
  }
  ctx.respond(resp);
}

}  // namespace

void alter_configs(request_context&& ctx) {
  protocol::alter_configs_request req;
  if (!ctx.decode(req)) return;
  alter_each_resource<protocol::alter_configs_response>(ctx, req, [](const auto& res, config::topic_overrides& next) {
    // AlterConfigs replaces the whole set of overrides.
    for (const auto& c : res.configs)
      if (c.value) next[c.name] = *c.value;
    return outcome{protocol::error_code::none, std::nullopt};
  });
}

void incremental_alter_configs(request_context&& ctx) {
  protocol::incremental_alter_configs_request req;
  if (!ctx.decode(req)) return;
  alter_each_resource<protocol::incremental_alter_configs_response>(
      ctx, req, [&ctx](const auto& res, config::topic_overrides& next) -> outcome {
        const bool is_broker = res.resource_type == resource_broker;
        if (is_broker) {
          auto cur = broker_current(*ctx.b, res.resource_name);
          if (!cur) return {protocol::error_code::kafka_storage_error, std::string("reading broker configs failed")};
          next = *cur;
        } else {
          auto t = ctx.b->topics().find(res.resource_name);
          if (!t)
            return {protocol::error_code::unknown_topic_or_partition,
                    fmt::format("topic '{}' does not exist", res.resource_name)};
          next = t->overrides;
        }
        for (const auto& c : res.configs) {
          // Operations: 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT (lists only).
          switch (c.config_operation) {
            case 0:
              if (c.value) next[c.name] = *c.value;
              break;
            case 1: next.erase(c.name); break;
            case 2:
            case 3: {
              const auto* def = is_broker ? config::find_broker_def(c.name) : config::find_topic_def(c.name);
              if (!def || def->type != config::value_type::list)
                return {protocol::error_code::invalid_config,
                        fmt::format("APPEND/SUBTRACT need a list configuration; '{}' is not one", c.name)};
              const std::string cur = next.count(c.name) ? next[c.name] : std::string(def->default_value);
              const std::string v = c.value.value_or("");
              next[c.name] = c.config_operation == 2 ? config::list_append(cur, v) : config::list_subtract(cur, v);
              break;
            }
            default:
              return {protocol::error_code::invalid_request,
                      fmt::format("unknown config operation {}", c.config_operation)};
          }
        }
        return {protocol::error_code::none, std::nullopt};
      });
}

}  // namespace strata::broker::handlers
