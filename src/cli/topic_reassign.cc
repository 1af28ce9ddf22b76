// `strata topic reassign` and `strata topic reassignments`: Kafka's
// kafka-reassign-partitions.sh over KIP-455's AlterPartitionReassignments and
// ListPartitionReassignments (sent to the controller), with the tool's JSON plan:
//
//   {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2,3],
//                               "log_dirs":["any","any","any"]}]}
//
// "log_dirs" is optional; only "any" is accepted (Strata has no AlterReplicaLogDirs).
// --generate reads {"version":1,"topics":[{"topic":"t"}]} and proposes a plan with
// Kafka's placement (cluster/replica_placement.h) over --broker-list.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "cli/admin_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "client/errors.h"
#include "client/move_throttles.h"
#include "client/reassignments.h"
#include "client/topics.h"
#include "cluster/replica_placement.h"

namespace strata::cli {

namespace json = boost::json;

namespace {

struct plan_entry {
  client::topic_partition tp;
  std::vector<int32_t> replicas;
};

std::string name_of(const client::topic_partition& tp) { return tp.topic + "-" + std::to_string(tp.partition); }

json::value read_json_file(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in) usage_error(std::string(flag) + " '" + path + "': cannot open the file");
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  auto v = json::parse(ss.str(), ec);
  if (ec) usage_error(std::string(flag) + " '" + path + "': not JSON (" + ec.message() + ")");
  return v;
}

int32_t as_int32(const json::value& v, const std::string& what) {
  if (v.is_int64() && v.as_int64() >= INT32_MIN && v.as_int64() <= INT32_MAX) return static_cast<int32_t>(v.as_int64());
  if (v.is_uint64() && v.as_uint64() <= INT32_MAX) return static_cast<int32_t>(v.as_uint64());
  usage_error(what + " is not an integer");
}

// kafka-reassign-partitions.sh's parsePartitionReassignmentData, with its checks:
// a partition listed twice, an empty or duplicated replica list, log_dirs of the
// wrong length.
std::vector<plan_entry> parse_plan(const json::value& v, const std::string& path) {
  const std::string where = "--reassignment-json-file '" + path + "'";
  if (!v.is_object()) usage_error(where + ": expected a JSON object");
  const auto& o = v.as_object();
  if (auto* ver = o.if_contains("version"); ver && !(ver->is_int64() && ver->as_int64() == 1))
    usage_error(where + ": unsupported \"version\" (expected 1)");
  auto* parts = o.if_contains("partitions");
  if (!parts || !parts->is_array()) usage_error(where + ": missing \"partitions\" array");
  std::vector<plan_entry> out;
  std::set<client::topic_partition> seen;
  for (const auto& e : parts->as_array()) {
    if (!e.is_object()) usage_error(where + ": a partition entry is not an object");
    const auto& po = e.as_object();
    auto* t = po.if_contains("topic");
    auto* p = po.if_contains("partition");
    auto* r = po.if_contains("replicas");
    if (!t || !t->is_string() || !p || !r || !r->is_array())
      usage_error(where + ": each entry needs \"topic\", \"partition\" and \"replicas\"");
    plan_entry pe;
    pe.tp = {std::string(t->as_string()), as_int32(*p, where + ": \"partition\"")};
    for (const auto& id : r->as_array()) pe.replicas.push_back(as_int32(id, where + ": a replica id"));
    const std::string n = name_of(pe.tp);
    if (pe.replicas.empty()) usage_error(where + ": partition " + n + " has an empty replica list");
    if (std::set<int32_t>(pe.replicas.begin(), pe.replicas.end()).size() != pe.replicas.size())
      usage_error(where + ": partition " + n + " has duplicate replicas [" + join_ids(pe.replicas) + "]");
    if (auto* dirs = po.if_contains("log_dirs")) {
      if (!dirs->is_array() || dirs->as_array().size() != pe.replicas.size())
        usage_error(where + ": partition " + n + ": \"log_dirs\" must list one entry per replica");
      for (const auto& d : dirs->as_array())
        if (!d.is_string() || d.as_string() != "any")
          usage_error(where + ": partition " + n + ": only \"any\" log dirs are supported");
    }
    if (!seen.insert(pe.tp).second) usage_error(where + ": partition " + n + " is listed more than once");
    out.push_back(std::move(pe));
  }
  if (out.empty()) usage_error(where + ": no partitions to reassign");
  return out;
}

json::value plan_json(const std::vector<plan_entry>& plan) {
  json::array parts;
  for (const auto& e : plan) {
    json::array dirs;
    for (size_t i = 0; i < e.replicas.size(); ++i) dirs.emplace_back("any");
    parts.push_back(json::object{{"topic", e.tp.topic},
                                 {"partition", e.tp.partition},
                                 {"replicas", json::value_from(e.replicas)},
                                 {"log_dirs", std::move(dirs)}});
  }
  return json::object{{"version", 1}, {"partitions", std::move(parts)}};
}

// The current assignment (Metadata) of the plan's partitions; throws for a partition
// that does not exist.
std::vector<plan_entry> current_assignment(client::cluster_client& c, const std::vector<plan_entry>& plan) {
  std::set<std::string> topics;
  for (const auto& e : plan) topics.insert(e.tp.topic);
  std::map<client::topic_partition, std::vector<int32_t>> replicas;
  for (const auto& d : client::describe_topics(c, std::vector<std::string>(topics.begin(), topics.end())))
    for (const auto& p : d.partitions) replicas[{d.name, p.partition}] = p.replicas;
  std::vector<plan_entry> out;
  for (const auto& e : plan) {
    auto it = replicas.find(e.tp);
    if (it == replicas.end()) throw client::client_error("partition " + name_of(e.tp) + " does not exist");
    out.push_back({e.tp, it->second});
  }
  return out;
}

// One error line naming every partition the controller refused, if any.
void throw_if_failed(const std::string& what, const std::vector<std::string>& failed) {
  if (failed.empty()) return;
  std::string msg = what + " failed for " + std::to_string(failed.size()) + " partition(s): ";
  for (size_t i = 0; i < failed.size(); ++i) msg += (i ? "; " : "") + failed[i];
  throw client::client_error(msg);
}

struct reassign_args {
  std::string plan_file;
  bool execute = false, verify = false, cancel = false, generate = false, additional = false;
  std::string topics_file;
  std::string broker_list;
  bool disable_rack_aware = false;
  int64_t throttle = -1;  // --execute: bytes/s for the moves' replication; -1: none
  bool preserve_throttles = false;
};

void run_execute(client::cluster_client& c, const admin_options& o, const std::vector<plan_entry>& plan,
                 bool additional, int64_t throttle) {
  // As Kafka's tool: moves already running are not replaced by accident.
  if (!additional) {
    const auto running = client::list_partition_reassignments(c, std::nullopt);
    if (!running.empty())
      throw client::client_error("cannot execute because there are reassignments in progress (" +
                                 name_of(running.front().tp) + (running.size() > 1 ? ", ..." : "") +
                                 "); use --additional to start these as well");
  }
  const auto before = current_assignment(c, plan);
  if (throttle >= 0) {
    // Kafka's tool: the throttles are set before the moves start.
    std::vector<client::partition_move_replicas> moves;
    for (size_t i = 0; i < plan.size(); ++i) moves.push_back({plan[i].tp, before[i].replicas, plan[i].replicas});
    const auto brokers = client::set_move_throttles(c, moves, throttle);
    if (!o.json())
      std::cout << "Warning: You must run --verify periodically, until the reassignment completes, to ensure the "
                   "throttle is removed.\nThe inter-broker throttle limit was set to "
                << throttle << " B/s on broker(s) " << join_ids({brokers.begin(), brokers.end()}) << "\n";
  }
  std::vector<client::reassignment_target> targets;
  for (const auto& e : plan) targets.push_back({e.tp, e.replicas});
  const auto results = client::alter_partition_reassignments(c, targets);
  std::vector<std::string> ok, failed;
  for (const auto& r : results)
    (r.error_code == 0 ? ok : failed)
        .push_back(name_of(r.tp) + (r.error_code == 0 ? "" : ": " + client::error_text(r.error_code, r.error_message)));
  if (o.json()) {
    print_json(std::cout, json::object{{"current", plan_json(before)},
                                       {"started", json::value_from(ok)},
                                       {"failed", json::value_from(failed)}});
  } else {
    std::cout << "Current partition replica assignment\n\n"
              << json::serialize(plan_json(before))
              << "\n\nSave this to use as the --reassignment-json-file option during rollback\n";
    if (!ok.empty()) {
      std::cout << "Successfully started partition reassignment" << (ok.size() > 1 ? "s" : "") << " for ";
      for (size_t i = 0; i < ok.size(); ++i) std::cout << (i ? "," : "") << ok[i];
      std::cout << "\n";
    }
  }
  throw_if_failed("reassignment", failed);
}

// Kafka's verifyAssignment: per partition, in progress, complete (the replicas are the
// target) or neither (no move running, and the replicas differ: exit code 1).
void run_verify(client::cluster_client& c, const admin_options& o, const std::vector<plan_entry>& plan,
                bool preserve_throttles) {
  std::vector<client::topic_partition> tps;
  for (const auto& e : plan) tps.push_back(e.tp);
  const auto ongoing = client::list_partition_reassignments(c, tps);
  std::set<client::topic_partition> moving;
  for (const auto& r : ongoing) moving.insert(r.tp);
  const auto now = current_assignment(c, plan);
  json::array arr;
  int mismatched = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    const auto& e = plan[i];
    std::string state, line;
    if (moving.count(e.tp)) {
      state = "in_progress";
      line = "Reassignment of partition " + name_of(e.tp) + " is still in progress.";
    } else if (now[i].replicas == e.replicas) {
      state = "complete";
      line = "Reassignment of partition " + name_of(e.tp) + " is completed.";
    } else {
      state = "mismatch";
      ++mismatched;
      line = "There is no active reassignment of partition " + name_of(e.tp) + ", but replica set is [" +
             join_ids(now[i].replicas) + "] rather than [" + join_ids(e.replicas) + "].";
    }
    arr.push_back(json::object{{"topic", e.tp.topic},
                               {"partition", e.tp.partition},
                               {"state", state},
                               {"replicas", json::value_from(now[i].replicas)},
                               {"target", json::value_from(e.replicas)}});
    if (!o.json()) std::cout << line << "\n";
  }
  if (o.json()) print_json(std::cout, json::object{{"partitions", std::move(arr)}});
  if (mismatched) throw client::client_error(std::to_string(mismatched) + " partition(s) are not at their target");
  // Kafka's tool: once every move is done, the throttles --execute --throttle set go
  // (from every broker and the plan's topics), unless --preserve-throttles.
  if (moving.empty() && !preserve_throttles) {
    std::set<std::string> topics;
    for (const auto& e : plan) topics.insert(e.tp.topic);
    std::set<int32_t> brokers;
    for (const auto& b : c.brokers()) brokers.insert(b.node_id);
    client::clear_move_throttles(c, topics, brokers);
    std::string names;
    for (const auto& t : topics) names += (names.empty() ? "" : ",") + t;
    if (!o.json())
      std::cout << "Clearing broker-level throttles on brokers " << join_ids({brokers.begin(), brokers.end()})
                << "\nClearing topic-level throttles on topic(s) " << names << "\n";
  }
}

void run_cancel(client::cluster_client& c, const admin_options& o, const std::vector<plan_entry>& plan) {
  std::vector<client::reassignment_target> targets;
  for (const auto& e : plan) targets.push_back({e.tp, std::nullopt});
  const auto results = client::alter_partition_reassignments(c, targets);
  std::vector<std::string> ok, failed;
  for (const auto& r : results)
    (r.error_code == 0 ? ok : failed)
        .push_back(name_of(r.tp) + (r.error_code == 0 ? "" : ": " + client::error_text(r.error_code, r.error_message)));
  if (o.json()) {
    print_json(std::cout, json::object{{"cancelled", json::value_from(ok)}, {"failed", json::value_from(failed)}});
  } else if (!ok.empty()) {
    std::cout << "Successfully cancelled partition reassignment" << (ok.size() > 1 ? "s" : "") << " for: ";
    for (size_t i = 0; i < ok.size(); ++i) std::cout << (i ? "," : "") << ok[i];
    std::cout << "\n";
  }
  throw_if_failed("cancelling", failed);
}

std::vector<int32_t> parse_broker_list(const std::string& s) {
  std::vector<int32_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      const int v = std::stoi(item, &used);
      if (used != item.size() || v < 0) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      usage_error("--broker-list '" + s + "': expected broker ids such as 1,2,3");
    }
  }
  if (out.empty()) usage_error("--broker-list is empty");
  if (std::set<int32_t>(out.begin(), out.end()).size() != out.size())
    usage_error("--broker-list '" + s + "' names a broker twice");
  return out;
}

// Kafka's generateAssignment: each topic's partitions placed anew over the listed
// brokers with the topic's current replication factor (random start, as Kafka).
void run_generate(client::cluster_client& c, const admin_options& o, const reassign_args& a) {
  const auto v = read_json_file(a.topics_file, "--topics-to-move-json-file");
  const std::string where = "--topics-to-move-json-file '" + a.topics_file + "'";
  std::vector<std::string> topics;
  if (!v.is_object() || !v.as_object().if_contains("topics") || !v.as_object().at("topics").is_array())
    usage_error(where + ": expected {\"version\":1,\"topics\":[{\"topic\":\"t\"}]}");
  for (const auto& t : v.as_object().at("topics").as_array()) {
    if (!t.is_object() || !t.as_object().if_contains("topic") || !t.as_object().at("topic").is_string())
      usage_error(where + ": each entry needs a \"topic\" name");
    topics.emplace_back(t.as_object().at("topic").as_string());
  }
  if (topics.empty()) usage_error(where + ": no topics");
  const auto ids = parse_broker_list(a.broker_list);
  std::map<int32_t, std::optional<std::string>> racks;
  for (const auto& b : c.brokers()) racks[b.node_id] = b.rack;
  std::vector<cluster::broker_metadata> brokers;
  for (int32_t id : ids) {
    if (!racks.count(id)) throw client::client_error("--broker-list names broker " + std::to_string(id) + ", which is not in the cluster");
    brokers.push_back({id, racks[id]});
  }
  auto listed = cluster::brokers_for_placement(brokers, a.disable_rack_aware ? cluster::rack_aware_mode::disabled
                                                                             : cluster::rack_aware_mode::enforced);
  if (!listed.ok()) throw client::client_error(listed.message);
  std::mt19937 rng(std::random_device{}());
  std::vector<plan_entry> current, proposed;
  for (const auto& d : client::describe_topics(c, topics)) {
    if (d.partitions.empty()) continue;
    for (const auto& p : d.partitions) current.push_back({{d.name, p.partition}, p.replicas});
    const auto rf = static_cast<int32_t>(d.partitions.front().replicas.size());
    auto placed = cluster::assign_replicas_to_brokers(
        listed.brokers, static_cast<int32_t>(d.partitions.size()), rf,
        cluster::random_placement_start(listed.brokers.size(), rng));
    if (!placed.ok()) throw client::client_error("topic '" + d.name + "': " + placed.message);
    for (const auto& [p, r] : placed.assignment) proposed.push_back({{d.name, p}, r});
  }
  if (o.json()) {
    print_json(std::cout, json::object{{"current", plan_json(current)}, {"proposed", plan_json(proposed)}});
  } else {
    std::cout << "Current partition replica assignment\n"
              << json::serialize(plan_json(current)) << "\n\nProposed partition reassignment configuration\n"
              << json::serialize(plan_json(proposed)) << "\n";
  }
}

void register_reassign(CLI::App* topic) {
  auto opts = std::make_shared<admin_options>();
  auto a = std::make_shared<reassign_args>();
  auto* cmd = add_admin_command(
      topic, "reassign",
      "Move partition replicas between brokers (kafka-reassign-partitions.sh: AlterPartitionReassignments and "
      "ListPartitionReassignments, sent to the controller)",
      opts, [opts, a](client::cluster_client& c) {
        const int modes = a->execute + a->verify + a->cancel + a->generate;
        if (modes != 1) usage_error("give exactly one of --execute, --verify, --cancel, --generate");
        if (a->generate) {
          if (a->topics_file.empty() || a->broker_list.empty())
            usage_error("--generate needs --topics-to-move-json-file and --broker-list");
          return run_generate(c, *opts, *a);
        }
        if (a->plan_file.empty()) usage_error("--execute, --verify and --cancel need --reassignment-json-file");
        const auto plan = parse_plan(read_json_file(a->plan_file, "--reassignment-json-file"), a->plan_file);
        if (a->throttle >= 0 && !a->execute) usage_error("--throttle goes with --execute");
        if (a->execute) return run_execute(c, *opts, plan, a->additional, a->throttle);
        if (a->verify) return run_verify(c, *opts, plan, a->preserve_throttles);
        run_cancel(c, *opts, plan);
      });
  cmd->add_option("--reassignment-json-file", a->plan_file,
                  "The plan: {\"version\":1,\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"replicas\":[1,2,3]}]}");
  cmd->add_flag("--execute", a->execute, "Start the plan's reassignments (prints the current assignment for rollback)");
  cmd->add_flag("--additional", a->additional,
                "With --execute: start even though other reassignments are in progress (a partition already "
                "moving gets the new target)");
  cmd->add_option("--throttle", a->throttle,
                  "With --execute: bytes per second the moves may replicate at (KIP-73 throttles on the brokers and "
                  "topics taking part; --verify removes them once every move is done)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--verify", a->verify,
                "Report each partition of the plan: in progress, complete, or neither (exit 1 if any is neither); "
                "once all are complete, remove the replication throttles");
  cmd->add_flag("--preserve-throttles", a->preserve_throttles, "With --verify: leave the throttles in place");
  cmd->add_flag("--cancel", a->cancel, "Cancel the plan's reassignments in progress (back to the original replicas)");
  cmd->add_flag("--generate", a->generate, "Propose a plan moving whole topics onto --broker-list");
  cmd->add_option("--topics-to-move-json-file", a->topics_file,
                  "For --generate: {\"version\":1,\"topics\":[{\"topic\":\"t\"}]}");
  cmd->add_option("--broker-list", a->broker_list, "For --generate: the brokers to place replicas on, e.g. 1,2,3");
  cmd->add_flag("--disable-rack-aware", a->disable_rack_aware, "For --generate: ignore broker racks");
}

void register_reassignments(CLI::App* topic) {
  auto opts = std::make_shared<admin_options>();
  auto* cmd = add_admin_command(topic, "reassignments",
                                "List the partition reassignments in progress (ListPartitionReassignments)", opts,
                                [opts](client::cluster_client& c) {
    const auto ongoing = client::list_partition_reassignments(c, std::nullopt);
    json::array arr;
    table t({"TOPIC", "PARTITION", "REPLICAS", "ADDING", "REMOVING"});
    for (const auto& r : ongoing) {
      arr.push_back(json::object{{"topic", r.tp.topic},
                                 {"partition", r.tp.partition},
                                 {"replicas", json::value_from(r.replicas)},
                                 {"adding_replicas", json::value_from(r.adding)},
                                 {"removing_replicas", json::value_from(r.removing)}});
      t.add({r.tp.topic, std::to_string(r.tp.partition), join_ids(r.replicas), join_ids(r.adding),
             join_ids(r.removing)});
    }
    if (opts->json())
      print_json(std::cout, json::object{{"reassignments", std::move(arr)}});
    else if (t.empty())
      std::cout << "No partition reassignments in progress.\n";
    else
      t.print(std::cout);
  });
  (void)cmd;
}

}  // namespace

void register_topic_reassign(CLI::App* topic) {
  register_reassign(topic);
  register_reassignments(topic);
}

}  // namespace strata::cli
