// `strata cluster rebalance` and `strata cluster decommission`: plan a spread of
// replicas and preferred leaders over the brokers (cluster/rebalance_plan.h), print
// it, and with --execute carry it out with AlterPartitionReassignments (KIP-455),
// showing progress until every move is done, then elect the preferred leaders.
// Works on any Kafka-compatible cluster that supports KIP-455 and KIP-460.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "cli/admin_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "client/errors.h"
#include "client/leader_election.h"
#include "client/move_throttles.h"
#include "client/reassignments.h"
#include "client/topics.h"
#include "cluster/rebalance_plan.h"

namespace strata::cli {

namespace json = boost::json;

namespace {

using steady = std::chrono::steady_clock;

struct rebalance_args {
  std::vector<int32_t> brokers;  // --brokers: the brokers to spread over (default: every broker)
  std::vector<int32_t> exclude;  // decommission: the brokers to empty
  std::vector<std::string> topics;
  bool keep_leaders = false;
  bool execute = false;
  std::string write_plan, write_rollback;
  int64_t wait_s = 3600;
  int64_t poll_ms = 1000;
  int64_t throttle = -1;  // bytes/s for the moves' replication; -1: none
};

std::string name(const std::string& topic, int32_t p) { return topic + "-" + std::to_string(p); }

std::string list(const std::vector<int32_t>& v) {
  std::string s;
  for (int32_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// kafka-reassign-partitions.sh's plan format.
json::value kafka_plan(const std::vector<cluster::partition_move>& moves, bool proposed) {
  json::array parts;
  for (const auto& m : moves) {
    json::array replicas, dirs;
    for (int32_t r : proposed ? m.to : m.from) {
      replicas.push_back(r);
      dirs.push_back("any");
    }
    parts.push_back(json::object{{"topic", m.topic}, {"partition", m.partition}, {"replicas", std::move(replicas)},
                                 {"log_dirs", std::move(dirs)}});
  }
  return json::object{{"version", 1}, {"partitions", std::move(parts)}};
}

void write_file(const std::string& path, const json::value& v) {
  std::ofstream out(path);
  out << json::serialize(v) << "\n";
  if (!out) throw client::client_error("cannot write " + path);
}

struct cluster_view {
  std::vector<client::topic_description> topics;
  std::vector<client::broker_info> brokers;
};

cluster_view read_cluster(client::cluster_client& c, const std::vector<std::string>& only) {
  cluster_view v;
  v.topics = client::describe_topics(c, only.empty() ? std::nullopt : std::optional(only));
  v.brokers = c.brokers();
  return v;
}

cluster::rebalance_plan make_plan(client::cluster_client& c, const rebalance_args& a, const cluster_view& v) {
  std::set<int32_t> known;
  for (const auto& b : v.brokers) known.insert(b.node_id);
  for (int32_t id : a.brokers)
    if (!known.count(id)) usage_error("broker " + std::to_string(id) + " is not in the cluster (brokers: " +
                                      list({known.begin(), known.end()}) + ")");
  for (int32_t id : a.exclude)
    if (!known.count(id)) usage_error("broker " + std::to_string(id) + " is not in the cluster");
  cluster::rebalance_input in;
  in.spread_leaders = !a.keep_leaders;
  for (const auto& b : v.brokers) {
    const bool wanted = a.brokers.empty() || std::count(a.brokers.begin(), a.brokers.end(), b.node_id);
    const bool excluded = std::count(a.exclude.begin(), a.exclude.end(), b.node_id);
    if (wanted && !excluded) in.brokers.push_back({b.node_id, b.rack});
  }
  if (in.brokers.empty()) usage_error("no broker would be left to hold the replicas");
  const auto sizes = client::replica_sizes(c, v.topics);
  for (const auto& t : v.topics) {
    for (const auto& p : t.partitions) {
      cluster::partition_replicas pr{t.name, p.partition, p.replicas, 0};
      // What a new replica copies: the largest replica's log (the leader's, usually).
      if (auto it = sizes.find({t.name, p.partition}); it != sizes.end())
        for (const auto& [broker, bytes] : it->second) pr.size_bytes = std::max(pr.size_bytes, bytes);
      in.partitions.push_back(std::move(pr));
    }
  }
  auto plan = cluster::plan_rebalance(in);
  if (plan.error) throw client::client_error("no plan: " + *plan.error);
  return plan;
}

void print_plan(const cluster::rebalance_plan& plan) {
  if (plan.moves.empty()) {
    std::cout << "The replicas and preferred leaders are already spread evenly: nothing to move.\n";
    return;
  }
  table t({"PARTITION", "REPLICAS NOW", "REPLICAS AFTER", "COPY"});
  for (const auto& m : plan.moves)
    t.add({name(m.topic, m.partition), list(m.from), list(m.to),
           m.adding().empty() ? "-" : mib(static_cast<int64_t>(m.adding().size()) * m.size_bytes)});
  t.print(std::cout);
  std::cout << "\n";
  table b({"BROKER", "REPLICAS NOW", "REPLICAS AFTER", "LEADERS NOW", "LEADERS AFTER"});
  std::set<int32_t> ids;
  for (const auto& [id, n] : plan.replicas_before) ids.insert(id);
  for (int32_t id : ids)
    b.add({std::to_string(id), std::to_string(plan.replicas_before.at(id)), std::to_string(plan.replicas_after.at(id)),
           std::to_string(plan.leaders_before.at(id)), std::to_string(plan.leaders_after.at(id))});
  b.print(std::cout);
  std::cout << "\n"
            << plan.moves.size() << " partition(s) change; " << plan.replicas_moved << " replica(s) to copy ("
            << mib(plan.bytes_to_move) << ").\n";
}

json::value plan_json(const cluster::rebalance_plan& plan) {
  json::object brokers;
  for (const auto& [id, n] : plan.replicas_before)
    brokers[std::to_string(id)] = json::object{{"replicas_before", n},
                                               {"replicas_after", plan.replicas_after.at(id)},
                                               {"leaders_before", plan.leaders_before.at(id)},
                                               {"leaders_after", plan.leaders_after.at(id)}};
  return json::object{{"plan", kafka_plan(plan.moves, true)},
                      {"rollback", kafka_plan(plan.moves, false)},
                      {"brokers", std::move(brokers)},
                      {"replicas_to_copy", plan.replicas_moved},
                      {"bytes_to_copy", plan.bytes_to_move}};
}

// Bytes the new replicas hold now, against what they must copy.
int64_t bytes_copied(client::cluster_client& c, const std::vector<cluster::partition_move>& moves,
                     const std::set<client::topic_partition>& done) {
  std::set<std::string> names;
  for (const auto& m : moves) names.insert(m.topic);
  const auto topics = client::describe_topics(c, std::vector<std::string>(names.begin(), names.end()));
  const auto sizes = client::replica_sizes(c, topics);
  int64_t copied = 0;
  for (const auto& m : moves) {
    for (int32_t r : m.adding()) {
      if (done.count({m.topic, m.partition})) {
        copied += m.size_bytes;
        continue;
      }
      auto it = sizes.find({m.topic, m.partition});
      if (it == sizes.end()) continue;
      auto b = it->second.find(r);
      if (b != it->second.end()) copied += std::min(b->second, m.size_bytes);
    }
  }
  return copied;
}

std::vector<client::partition_move_replicas> as_moves(const std::vector<cluster::partition_move>& moves) {
  std::vector<client::partition_move_replicas> out;
  for (const auto& m : moves) out.push_back({{m.topic, m.partition}, m.from, m.to});
  return out;
}

// --execute: start every move, report progress until none is left, then put the
// preferred leaders in the lead. Each poll uses a client of its own, so --timeout-ms
// bounds one step, and --wait-s the whole wait.
void execute(const admin_options& opts, const rebalance_args& a, client::cluster_client& c,
             const cluster::rebalance_plan& plan) {
  std::set<int32_t> throttled;
  if (a.throttle >= 0) {
    throttled = client::set_move_throttles(c, as_moves(plan.moves), a.throttle);
    std::cout << "Replication of the moves throttled to " << mib(a.throttle) << "/s on broker(s) "
              << list({throttled.begin(), throttled.end()}) << " until they are done.\n";
  }
  std::vector<client::reassignment_target> targets;
  for (const auto& m : plan.moves) targets.push_back({{m.topic, m.partition}, m.to});
  int failures = 0;
  for (const auto& r : client::alter_partition_reassignments(c, targets)) {
    if (r.error_code == 0) continue;
    ++failures;
    std::cerr << "cannot move " << name(r.tp.topic, r.tp.partition) << ": "
              << client::error_text(r.error_code, r.error_message) << "\n";
  }
  if (failures) throw client::client_error(std::to_string(failures) + " move(s) refused; the others are under way");
  std::cout << "Moving " << plan.moves.size() << " partition(s) (" << mib(plan.bytes_to_move)
            << " to copy). Interrupting this command does not stop the moves: `strata topic reassign --cancel` "
               "does.\n";
  std::vector<client::topic_partition> moving;
  for (const auto& m : plan.moves) moving.push_back({m.topic, m.partition});
  const auto start = steady::now();
  const auto give_up = start + std::chrono::seconds(a.wait_s);
  for (;;) {
    client::cluster_client poll(opts.bootstrap_server, std::chrono::milliseconds(opts.timeout_ms));
    const auto ongoing = client::list_partition_reassignments(poll, moving);
    std::set<client::topic_partition> done(moving.begin(), moving.end());
    for (const auto& o : ongoing) done.erase(o.tp);
    const int64_t copied = plan.bytes_to_move ? bytes_copied(poll, plan.moves, done) : 0;
    const double secs = std::chrono::duration<double>(steady::now() - start).count();
    const double rate = secs > 0 ? static_cast<double>(copied) / secs : 0;
    std::cout << "[" << static_cast<int64_t>(secs) << " s] " << done.size() << "/" << moving.size()
              << " partition(s) moved; copied " << mib(copied) << " of " << mib(plan.bytes_to_move);
    if (rate > 0) {
      std::cout << " (" << mib(static_cast<int64_t>(rate)) << "/s";
      if (copied < plan.bytes_to_move)
        std::cout << ", about " << static_cast<int64_t>(static_cast<double>(plan.bytes_to_move - copied) / rate)
                  << " s left";
      std::cout << ")";
    }
    std::cout << std::endl;
    if (ongoing.empty()) break;
    if (steady::now() >= give_up)
      throw client::client_error("still moving after --wait-s " + std::to_string(a.wait_s) + " s: " +
                                 std::to_string(ongoing.size()) + " partition(s) left (the moves go on)");
    std::this_thread::sleep_for(std::chrono::milliseconds(a.poll_ms));  // the progress interval
  }
  if (!throttled.empty()) {
    client::cluster_client tc(opts.bootstrap_server, std::chrono::milliseconds(opts.timeout_ms));
    std::set<std::string> topics;
    for (const auto& m : plan.moves) topics.insert(m.topic);
    client::clear_move_throttles(tc, topics, throttled);
    std::cout << "Throttles removed.\n";
  }
  if (!a.keep_leaders) {
    client::cluster_client ec(opts.bootstrap_server, std::chrono::milliseconds(opts.timeout_ms));
    int elected = 0, unavailable = 0;
    for (const auto& r : client::elect_leaders(ec, client::election_type::preferred, moving)) {
      if (r.error_code == 0) ++elected;
      if (r.error_code != 0 && r.error_code != static_cast<int16_t>(protocol::error_code::election_not_needed))
        ++unavailable;
    }
    std::cout << "Preferred leaders elected for " << elected << " partition(s)";
    if (unavailable) std::cout << "; " << unavailable << " not yet (their preferred replica is not in sync)";
    std::cout << ".\n";
  }
  const double secs = std::chrono::duration<double>(steady::now() - start).count();
  std::cout << "Done in " << static_cast<int64_t>(secs) << " s.\n";
}

void add_common(CLI::App* cmd, rebalance_args& a) {
  cmd->add_option("--topics", a.topics, "Only these topics (default: every topic)")->delimiter(',');
  cmd->add_flag("--keep-leaders", a.keep_leaders,
                "Do not reorder replicas to spread preferred leaders, nor elect them after the moves");
  cmd->add_flag("--execute", a.execute, "Carry the plan out (without it: print the plan only)");
  cmd->add_option("--write-plan", a.write_plan, "Write the plan as kafka-reassign-partitions.sh JSON");
  cmd->add_option("--write-rollback", a.write_rollback, "Write the current assignment of the moved partitions "
                                                        "(to move them back with strata topic reassign)");
  cmd->add_option("--throttle", a.throttle,
                  "With --execute: bytes per second the moves may replicate at (Kafka's --throttle; removed when "
                  "they are done)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--wait-s", a.wait_s, "With --execute: give up waiting after this many seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--progress-ms", a.poll_ms, "With --execute: progress every this many milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{60000}));
}

void run(const admin_options& opts, const rebalance_args& a, client::cluster_client& c) {
  const auto view = read_cluster(c, a.topics);
  const auto plan = make_plan(c, a, view);
  if (!a.write_plan.empty()) write_file(a.write_plan, kafka_plan(plan.moves, true));
  if (!a.write_rollback.empty()) write_file(a.write_rollback, kafka_plan(plan.moves, false));
  if (opts.json() && !a.execute) {
    print_json(std::cout, plan_json(plan));
    return;
  }
  print_plan(plan);
  if (plan.moves.empty()) return;
  if (!a.execute) {
    std::cout << "Dry run: nothing was changed. Run again with --execute to move.\n";
    return;
  }
  execute(opts, a, c, plan);
}

}  // namespace

void register_rebalance(CLI::App* cluster) {
  {
    auto opts = std::make_shared<admin_options>();
    auto a = std::make_shared<rebalance_args>();
    auto* cmd = add_admin_command(
        cluster, "rebalance",
        "Spread replicas and preferred leaders evenly over the brokers (rack-aware), moving as few replicas as "
        "possible: prints the plan; --execute carries it out with progress",
        opts, [opts, a](client::cluster_client& c) { run(*opts, *a, c); });
    cmd->add_option("--brokers", a->brokers, "Spread over these brokers only (default: every broker)")
        ->delimiter(',');
    add_common(cmd, *a);
  }
  {
    auto opts = std::make_shared<admin_options>();
    auto a = std::make_shared<rebalance_args>();
    auto* cmd = add_admin_command(
        cluster, "decommission",
        "Move every replica off a broker (spread over the others) so it can be stopped: prints the plan; "
        "--execute carries it out with progress",
        opts, [opts, a](client::cluster_client& c) {
          run(*opts, *a, c);
          if (!a->execute) return;
          // A client of its own: the moves may have outlasted the first one's deadline.
          client::cluster_client check(opts->bootstrap_server, std::chrono::milliseconds(opts->timeout_ms));
          const auto after =
              client::describe_topics(check, a->topics.empty() ? std::nullopt : std::optional(a->topics));
          for (const auto& t : after)
            for (const auto& p : t.partitions)
              for (int32_t b : a->exclude)
                if (std::count(p.replicas.begin(), p.replicas.end(), b))
                  throw client::client_error(name(t.name, p.partition) + " still has a replica on broker " +
                                             std::to_string(b));
          std::cout << "Broker(s) " << list(a->exclude) << " hold no replica now: they can be stopped.\n";
        });
    cmd->add_option("--broker", a->exclude, "The broker(s) to empty")->required()->delimiter(',');
    add_common(cmd, *a);
  }
}

}  // namespace strata::cli
