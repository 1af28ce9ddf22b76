#include "client/topics.h"

#include <algorithm>

#include "protocol/generated/create_partitions.h"
#include "protocol/generated/create_topics.h"
#include "protocol/generated/delete_topics.h"
#include "protocol/generated/describe_configs.h"
#include "protocol/generated/describe_log_dirs.h"
#include "protocol/generated/incremental_alter_configs.h"

namespace strata::client {

namespace {

using protocol::error_code;
constexpr int8_t resource_type_topic = 2;   // Kafka's ConfigResource.Type.TOPIC
constexpr int8_t resource_type_broker = 4;  // and BROKER

std::string topic_context(const std::string& verb, const std::string& name) {
  return verb + " topic '" + name + "'";
}

// Kafka's ConfigEntry.ConfigSource ids (DescribeConfigs v1+).
std::string source_name(int8_t source) {
  switch (source) {
    case 1: return "DYNAMIC_TOPIC_CONFIG";
    case 2: return "DYNAMIC_BROKER_CONFIG";
    case 3: return "DYNAMIC_DEFAULT_BROKER_CONFIG";
    case 4: return "STATIC_BROKER_CONFIG";
    case 5: return "DEFAULT_CONFIG";
    case 6: return "DYNAMIC_BROKER_LOGGER_CONFIG";
    case 7: return "CLIENT_METRICS_CONFIG";
    case 8: return "GROUP_CONFIG";
    default: return "UNKNOWN";
  }
}

}  // namespace

std::vector<topic_description> describe_topics(cluster_client& c,
                                               const std::optional<std::vector<std::string>>& names) {
  // A topic error such as LEADER_NOT_AVAILABLE (just created) is retried;
  // UNKNOWN_TOPIC_OR_PARTITION is not.
  auto md = c.with_retries([&] {
    auto r = c.metadata(names);
    for (auto& t : r.topics) check(t.error_code, topic_context("describing", t.name.value_or("")));
    return r;
  });
  std::vector<topic_description> out;
  for (auto& t : md.topics) {
    const std::string name = t.name.value_or("");
    topic_description d;
    d.name = name;
    d.topic_id = t.topic_id.is_zero() ? "" : t.topic_id.to_base64();
    d.internal = t.is_internal;
    for (auto& p : t.partitions)
      d.partitions.push_back({p.partition_index, p.leader_id, p.leader_epoch, p.replica_nodes, p.isr_nodes,
                              p.offline_replicas, p.error_code});
    std::sort(d.partitions.begin(), d.partitions.end(),
              [](auto& a, auto& b) { return a.partition < b.partition; });
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

bool create_topic(cluster_client& c, const new_topic& t, bool if_not_exists) {
  return c.with_retries([&] {
    auto& conn = c.controller();
    const int16_t v = conn.version_for(protocol::create_topics_request::api_key);
    // "Use the broker's default" (-1) exists from CreateTopics v4 (KIP-464).
    if (v < 4 && (t.partitions < 0 || t.replication_factor < 0))
      throw client_error("the broker at " + conn.peer().to_string() +
                         " needs --partitions and --replication-factor (CreateTopics v" + std::to_string(v) + ")");
    protocol::create_topics_request req;
    protocol::create_topics_request::creatable_topic ct;
    ct.name = t.name;
    ct.num_partitions = t.partitions;
    ct.replication_factor = t.replication_factor;
    for (auto& [k, val] : t.configs) {
      protocol::create_topics_request_types::creatable_topic_config cfg;
      cfg.name = k;
      cfg.value = val;
      ct.configs.push_back(cfg);
    }
    req.topics.push_back(std::move(ct));
    req.timeout_ms = c.remaining_ms();
    auto resp = conn.call_at<protocol::create_topics_response>(req, v, c.deadline());
    for (auto& r : resp.topics) {
      if (r.name != t.name) continue;
      if (r.error_code == static_cast<int16_t>(error_code::topic_already_exists) && if_not_exists) return false;
      check(r.error_code, topic_context("creating", t.name), r.error_message);
      return true;
    }
    throw client_error(topic_context("creating", t.name) + ": the broker's answer does not mention the topic");
  });
}

bool delete_topic(cluster_client& c, const std::string& name, bool if_exists) {
  return c.with_retries([&] {
    auto& conn = c.controller();
    const int16_t v = conn.version_for(protocol::delete_topics_request::api_key);
    protocol::delete_topics_request req;
    if (v >= 6) {
      protocol::delete_topics_request::delete_topic_state s;
      s.name = name;
      req.topics.push_back(s);
    } else {
      req.topic_names.push_back(name);
    }
    req.timeout_ms = c.remaining_ms();
    auto resp = conn.call_at<protocol::delete_topics_response>(req, v, c.deadline());
    for (auto& r : resp.responses) {
      if (r.name.value_or("") != name) continue;
      if (r.error_code == static_cast<int16_t>(error_code::unknown_topic_or_partition) && if_exists) return false;
      check(r.error_code, topic_context("deleting", name), r.error_message);
      return true;
    }
    throw client_error(topic_context("deleting", name) + ": the broker's answer does not mention the topic");
  });
}

void create_partitions(cluster_client& c, const std::string& name, int32_t total) {
  c.with_retries([&] {
    protocol::create_partitions_request req;
    protocol::create_partitions_request::create_partitions_topic t;
    t.name = name;
    t.count = total;
    t.assignments.reset();  // null: the broker places the new replicas
    req.topics.push_back(std::move(t));
    req.timeout_ms = c.remaining_ms();
    auto resp = c.controller().call<protocol::create_partitions_response>(req, c.deadline());
    for (auto& r : resp.results) {
      if (r.name != name) continue;
      check(r.error_code, "adding partitions to topic '" + name + "'", r.error_message);
      return;
    }
    throw client_error("adding partitions to topic '" + name + "': the broker's answer does not mention the topic");
  });
}

std::vector<config_entry> describe_topic_configs(cluster_client& c, const std::string& topic) {
  protocol::describe_configs_request req;
  protocol::describe_configs_request::describe_configs_resource r;
  r.resource_type = resource_type_topic;
  r.resource_name = topic;
  r.configuration_keys.reset();  // null: every key
  req.resources.push_back(std::move(r));
  int16_t v = 0;
  auto resp = c.with_retries([&] { return c.any().call<protocol::describe_configs_response>(req, c.deadline(), &v); });
  std::vector<config_entry> out;
  for (auto& res : resp.results) {
    check(res.error_code, topic_context("describing the configs of", topic), res.error_message);
    for (auto& e : res.configs) {
      config_entry ce;
      ce.name = e.name;
      ce.value = e.value;
      ce.read_only = e.read_only;
      ce.sensitive = e.is_sensitive;
      if (v >= 1) {
        ce.source = source_name(e.config_source);
        ce.is_default = e.config_source == 5;
        ce.is_override = e.config_source == 1;
      } else {
        // v0 has only is_default: anything else counts as set on the topic.
        ce.source = e.is_default ? "DEFAULT_CONFIG" : "UNKNOWN";
        ce.is_default = e.is_default;
        ce.is_override = !e.is_default;
      }
      out.push_back(std::move(ce));
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return out;
}

namespace {

protocol::incremental_alter_configs_request alter_request(int8_t type, const std::string& name,
                                                          const std::vector<config_change>& changes) {
  protocol::incremental_alter_configs_request req;
  protocol::incremental_alter_configs_request::alter_configs_resource r;
  r.resource_type = type;
  r.resource_name = name;
  for (auto& ch : changes) {
    protocol::incremental_alter_configs_request_types::alterable_config ac;
    ac.name = ch.name;
    ac.config_operation = ch.value ? 0 : 1;  // SET : DELETE (Kafka's AlterConfigOp.OpType)
    ac.value = ch.value;
    r.configs.push_back(std::move(ac));
  }
  req.resources.push_back(std::move(r));
  return req;
}

}  // namespace

void alter_topic_configs(cluster_client& c, const std::string& topic, const std::vector<config_change>& changes) {
  const auto req = alter_request(resource_type_topic, topic, changes);
  auto resp = c.with_retries(
      [&] { return c.any().call<protocol::incremental_alter_configs_response>(req, c.deadline()); });
  for (auto& res : resp.responses)
    check(res.error_code, topic_context("altering the configs of", topic), res.error_message);
}

void alter_broker_configs(cluster_client& c, int32_t broker_id, const std::vector<config_change>& changes) {
  const auto req = alter_request(resource_type_broker, std::to_string(broker_id), changes);
  auto resp = c.with_retries(
      [&] { return c.broker(broker_id).call<protocol::incremental_alter_configs_response>(req, c.deadline()); });
  for (auto& res : resp.responses)
    check(res.error_code, "altering the configs of broker " + std::to_string(broker_id), res.error_message);
}

std::map<topic_partition, std::map<int32_t, int64_t>> replica_sizes(cluster_client& c,
                                                                    const std::vector<topic_description>& topics) {
  protocol::describe_log_dirs_request req;
  req.topics.emplace();
  for (auto& t : topics) {
    protocol::describe_log_dirs_request::describable_log_dir_topic dt;
    dt.topic = t.name;
    for (auto& p : t.partitions) dt.partitions.push_back(p.partition);
    req.topics->push_back(std::move(dt));
  }
  std::map<topic_partition, std::map<int32_t, int64_t>> out;
  for (auto& b : c.brokers()) {
    auto& conn = c.broker(b.node_id);
    auto resp = conn.call<protocol::describe_log_dirs_response>(req, c.deadline());
    check(resp.error_code, "describing the log directories of broker " + std::to_string(b.node_id));
    for (auto& dir : resp.results) {
      if (dir.error_code != 0) continue;  // an offline directory holds no readable replica
      for (auto& t : dir.topics)
        for (auto& p : t.partitions) {
          if (p.is_future_key) continue;  // a replica being moved between directories
          out[{t.name, p.partition_index}][b.node_id] += p.partition_size;
        }
    }
  }
  return out;
}

}  // namespace strata::client
