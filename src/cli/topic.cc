// `strata topic create|list|describe|delete|alter-config|add-partitions`:
// Kafka's kafka-topics.sh / kafka-configs.sh for topics, over the Kafka
// protocol, so it works against any Kafka-compatible cluster.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <iostream>
#include <set>

#include "cli/admin_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "client/topics.h"

namespace strata::cli {

namespace json = boost::json;

namespace {

std::pair<std::string, std::string> split_key_value(const std::string& kv, const char* flag) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) usage_error(std::string(flag) + " '" + kv + "': expected key=value");
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

struct create_args {
  std::string name;
  int32_t partitions = -1;
  int16_t replication_factor = -1;
  std::vector<std::string> configs;
  bool if_not_exists = false;
};

void register_create(CLI::App* topic) {
  auto opts = std::make_shared<admin_options>();
  auto a = std::make_shared<create_args>();
  auto* cmd = add_admin_command(topic, "create", "Create a topic (CreateTopics, sent to the controller)", opts,
                                [opts, a](client::cluster_client& c) {
    client::new_topic t;
    t.name = a->name;
    t.partitions = a->partitions;
    t.replication_factor = a->replication_factor;
    for (auto& kv : a->configs) t.configs.push_back(split_key_value(kv, "--config"));
    const bool created = client::create_topic(c, t, a->if_not_exists);
    if (opts->json()) {
      print_json(std::cout, json::object{{"topic", t.name}, {"created", created}});
    } else {
      std::cout << (created ? "Created topic " : "Topic already exists: ") << t.name << "\n";
    }
  });
  cmd->add_option("name", a->name, "Topic name")->required();
  cmd->add_option("--partitions", a->partitions, "Number of partitions (default: the broker's num.partitions)")
      ->check(CLI::Range(1, 1 << 30));
  cmd->add_option("--replication-factor", a->replication_factor,
                  "Replicas of each partition (default: the broker's default.replication.factor)")
      ->check(CLI::Range(1, 1 << 30));
  cmd->add_option("--config", a->configs, "Topic config key=value (repeatable)")->allow_extra_args(false)->take_all();
  cmd->add_flag("--if-not-exists", a->if_not_exists, "Succeed when the topic already exists");
}

void register_list(CLI::App* topic) {
  auto opts = std::make_shared<admin_options>();
  auto internal = std::make_shared<bool>(false);
  auto* cmd = add_admin_command(topic, "list", "List topics (Metadata)", opts, [opts, internal](client::cluster_client& c) {
    auto topics = client::describe_topics(c, std::nullopt);
    json::array arr;
    table t({"NAME", "PARTITIONS", "REPLICAS", "INTERNAL"});
    for (auto& d : topics) {
      if (d.internal && !*internal) continue;
      const size_t rf = d.partitions.empty() ? 0 : d.partitions.front().replicas.size();
      arr.push_back(json::object{{"name", d.name},
                                 {"partitions", d.partitions.size()},
                                 {"replication_factor", rf},
                                 {"internal", d.internal}});
      t.add({d.name, std::to_string(d.partitions.size()), std::to_string(rf), d.internal ? "yes" : "no"});
    }
    if (opts->json())
      print_json(std::cout, json::object{{"topics", std::move(arr)}});
    else
      t.print(std::cout);
  });
  cmd->add_flag("--include-internal", *internal, "Also list internal topics (__consumer_offsets)");
}

// The size of a partition: its leader's replica, or the largest replica
// when the leader reported none.
std::optional<int64_t> partition_size(const std::map<int32_t, int64_t>* sizes, int32_t leader) {
  if (!sizes || sizes->empty()) return std::nullopt;
  if (auto it = sizes->find(leader); it != sizes->end()) return it->second;
  int64_t best = 0;
  for (auto& [node, n] : *sizes) best = std::max(best, n);
  return best;
}

json::value describe_json(const client::topic_description& d, const std::vector<client::config_entry>& configs,
                          const std::map<client::topic_partition, std::map<int32_t, int64_t>>* sizes) {
  json::array parts;
  std::optional<int64_t> total;
  for (auto& p : d.partitions) {
    const std::map<int32_t, int64_t>* ps = nullptr;
    if (sizes)
      if (auto it = sizes->find({d.name, p.partition}); it != sizes->end()) ps = &it->second;
    auto size = partition_size(ps, p.leader);
    if (size) total = total.value_or(0) + *size;
    json::object replica_sizes;
    if (ps)
      for (auto& [node, n] : *ps) replica_sizes[std::to_string(node)] = n;
    parts.push_back(json::object{
        {"partition", p.partition},
        {"leader", p.leader},
        {"leader_epoch", p.leader_epoch},
        {"replicas", json::value_from(p.replicas)},
        {"isr", json::value_from(p.isr)},
        {"offline_replicas", json::value_from(p.offline_replicas)},
        // offline: no leader; under-replicated: some replica is out of the ISR.
        {"status", p.leader < 0 ? "offline" : p.isr.size() < p.replicas.size() ? "under-replicated" : "ok"},
        {"error", p.error_code == 0 ? json::value(nullptr) : json::value(std::string(protocol::error_name(static_cast<protocol::error_code>(p.error_code))))},
        {"size_bytes", size ? json::value(*size) : json::value(nullptr)},
        {"replica_size_bytes", std::move(replica_sizes)}});
  }
  json::array cfg;
  for (auto& e : configs)
    cfg.push_back(json::object{{"name", e.name},
                               {"value", e.value ? json::value(*e.value) : json::value(nullptr)},
                               {"source", e.source},
                               {"default", e.is_default},
                               {"read_only", e.read_only},
                               {"sensitive", e.sensitive}});
  return json::object{{"name", d.name},
                      {"topic_id", d.topic_id},
                      {"internal", d.internal},
                      {"partition_count", d.partitions.size()},
                      {"replication_factor", d.partitions.empty() ? 0 : d.partitions.front().replicas.size()},
                      {"size_bytes", total ? json::value(*total) : json::value(nullptr)},
                      {"configs", std::move(cfg)},
                      {"partitions", std::move(parts)}};
}

void print_describe(const json::object& t, bool all_configs) {
  auto num = [](const json::value& v) { return v.is_null() ? std::string("-") : std::to_string(v.to_number<int64_t>()); };
  auto size = [](const json::value& v) { return v.is_null() ? std::string("-") : human_bytes(v.to_number<int64_t>()); };
  std::cout << "Topic: " << t.at("name").as_string().c_str() << "  TopicId: "
            << (t.at("topic_id").as_string().empty() ? "-" : t.at("topic_id").as_string().c_str())
            << "  Partitions: " << num(t.at("partition_count"))
            << "  ReplicationFactor: " << num(t.at("replication_factor")) << "  Size: " << size(t.at("size_bytes"))
            << (t.at("internal").as_bool() ? "  Internal: yes" : "") << "\n";
  table cfg({"CONFIG", "VALUE", "SOURCE"});
  for (auto& e : t.at("configs").as_array()) {
    auto& o = e.as_object();
    cfg.add({o.at("name").as_string().c_str(),
             o.at("value").is_null() ? (o.at("sensitive").as_bool() ? "(sensitive)" : "(null)") : o.at("value").as_string().c_str(),
             o.at("source").as_string().c_str()});
  }
  if (cfg.empty())
    std::cout << (all_configs ? "No configs.\n" : "No config overrides (--all-configs shows every value).\n");
  else
    cfg.print(std::cout);
  table parts({"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "OFFLINE", "STATUS", "SIZE", "ERROR"});
  auto ids = [](const json::value& v) {
    std::vector<int32_t> out;
    for (auto& x : v.as_array()) out.push_back(static_cast<int32_t>(x.to_number<int64_t>()));
    return out;
  };
  for (auto& e : t.at("partitions").as_array()) {
    auto& o = e.as_object();
    parts.add({num(o.at("partition")), num(o.at("leader")), num(o.at("leader_epoch")), join_ids(ids(o.at("replicas"))),
               join_ids(ids(o.at("isr"))), join_ids(ids(o.at("offline_replicas"))), o.at("status").as_string().c_str(),
               size(o.at("size_bytes")),
               o.at("error").is_null() ? "" : o.at("error").as_string().c_str()});
  }
  parts.print(std::cout);
}

void register_describe(CLI::App* topic) {
  auto opts = std::make_shared<admin_options>();
  auto names = std::make_shared<std::vector<std::string>>();
  auto all_configs = std::make_shared<bool>(false);
  auto include_internal = std::make_shared<bool>(false);
  auto* cmd = add_admin_command(
      topic, "describe",
      "Show partitions (leader, replicas, ISR), sizes (DescribeLogDirs) and config overrides of topics", opts,
      [opts, names, all_configs, include_internal](client::cluster_client& c) {
        std::optional<std::vector<std::string>> wanted;
        if (!names->empty()) wanted = *names;
        auto topics = client::describe_topics(c, wanted);
        if (!wanted)
          std::erase_if(topics, [&](auto& d) { return d.internal && !*include_internal; });
        // Sizes are an extra: a cluster that refuses DescribeLogDirs (too old,
        // or no DESCRIBE on the cluster) still gets the rest.
        std::optional<std::map<client::topic_partition, std::map<int32_t, int64_t>>> sizes;
        try {
          sizes = client::replica_sizes(c, topics);
        } catch (const client::client_error& e) {
          if (e.code() == protocol::error_code::none) throw;  // the connection failed: not an extra
          std::cerr << "warning: sizes unavailable: " << e.what() << "\n";
        }
        json::array out;
        for (auto& d : topics) {
          auto configs = client::describe_topic_configs(c, d.name);
          if (!*all_configs) std::erase_if(configs, [](auto& e) { return !e.is_override; });
          out.push_back(describe_json(d, configs, sizes ? &*sizes : nullptr));
        }
        if (opts->json()) {
          print_json(std::cout, json::object{{"topics", std::move(out)}});
          return;
        }
        for (size_t i = 0; i < out.size(); ++i) {
          if (i) std::cout << "\n";
          print_describe(out[i].as_object(), *all_configs);
        }
      });
  cmd->add_option("names", *names, "Topics (default: every topic)");
  cmd->add_flag("--all-configs", *all_configs, "Show every config value, not only the topic's overrides");
  cmd->add_flag("--include-internal", *include_internal, "With no names: also describe internal topics");
}

void register_delete(CLI::App* topic) {
  auto opts = std::make_shared<admin_options>();
  auto name = std::make_shared<std::string>();
  auto if_exists = std::make_shared<bool>(false);
  auto* cmd = add_admin_command(topic, "delete", "Delete a topic and its data (DeleteTopics, sent to the controller)",
                                opts, [opts, name, if_exists](client::cluster_client& c) {
    const bool deleted = client::delete_topic(c, *name, *if_exists);
    if (opts->json())
      print_json(std::cout, json::object{{"topic", *name}, {"deleted", deleted}});
    else
      std::cout << (deleted ? "Deleted topic " : "Topic does not exist: ") << *name << "\n";
  });
  cmd->add_option("name", *name, "Topic name")->required();
  cmd->add_flag("--if-exists", *if_exists, "Succeed when the topic does not exist");
}

void register_alter_config(CLI::App* topic) {
  auto opts = std::make_shared<admin_options>();
  auto name = std::make_shared<std::string>();
  auto sets = std::make_shared<std::vector<std::string>>();
  auto deletes = std::make_shared<std::vector<std::string>>();
  auto* cmd = add_admin_command(
      topic, "alter-config", "Set or delete topic config overrides (IncrementalAlterConfigs)", opts,
      [opts, name, sets, deletes](client::cluster_client& c) {
        std::vector<client::config_change> changes;
        std::set<std::string> seen;
        for (auto& kv : *sets) {
          auto [k, v] = split_key_value(kv, "--set");
          changes.push_back({k, v});
          seen.insert(k);
        }
        for (auto& k : *deletes) {
          if (k.empty()) usage_error("--delete needs a config name");
          if (seen.count(k)) usage_error("config '" + k + "' is both set and deleted");
          changes.push_back({k, std::nullopt});
        }
        if (changes.empty()) usage_error("nothing to change: give --set key=value and/or --delete key");
        client::alter_topic_configs(c, *name, changes);
        if (opts->json()) {
          json::object set_obj;
          json::array del;
          for (auto& ch : changes) {
            if (ch.value)
              set_obj[ch.name] = *ch.value;
            else
              del.push_back(json::value(ch.name));
          }
          print_json(std::cout, json::object{{"topic", *name}, {"set", std::move(set_obj)}, {"deleted", std::move(del)}});
        } else {
          for (auto& ch : changes)
            std::cout << (ch.value ? "Set " + ch.name + "=" + *ch.value : "Deleted override " + ch.name) << "\n";
          std::cout << "Updated configs of topic " << *name << "\n";
        }
      });
  cmd->add_option("name", *name, "Topic name")->required();
  cmd->add_option("--set", *sets, "key=value to set (repeatable)")->allow_extra_args(false)->take_all();
  cmd->add_option("--delete", *deletes, "Config override to remove, back to the default (repeatable)")->allow_extra_args(false)->take_all();
}

void register_add_partitions(CLI::App* topic) {
  auto opts = std::make_shared<admin_options>();
  auto name = std::make_shared<std::string>();
  auto total = std::make_shared<int32_t>(0);
  auto* cmd = add_admin_command(topic, "add-partitions",
                                "Grow a topic to a new total number of partitions (CreatePartitions)", opts,
                                [opts, name, total](client::cluster_client& c) {
    client::create_partitions(c, *name, *total);
    if (opts->json())
      print_json(std::cout, json::object{{"topic", *name}, {"partitions", *total}});
    else
      std::cout << "Topic " << *name << " now has " << *total << " partitions\n";
  });
  cmd->add_option("name", *name, "Topic name")->required();
  cmd->add_option("--partitions", *total, "The new total number of partitions (more than now)")
      ->required()
      ->check(CLI::Range(1, 1 << 30));
}

}  // namespace

void register_topic(CLI::App& app) {
  auto* topic = app.add_subcommand("topic", "Create, list, describe, alter, reassign and delete topics on any Kafka-compatible cluster");
  topic->require_subcommand(1);
  register_create(topic);
  register_list(topic);
  register_describe(topic);
  register_delete(topic);
  register_alter_config(topic);
  register_add_partitions(topic);
  register_topic_reassign(topic);
}

}  // namespace strata::cli
