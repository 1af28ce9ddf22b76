// `strata cluster elect-leaders`: Kafka's kafka-leader-election.sh on any
// Kafka-compatible cluster. ElectLeaders (KIP-460) to the controller: preferred
// (the first replica of the assignment leads again, if live and in sync) or unclean
// (a partition without a live leader gets one, out of sync if need be: data the old
// ISR had may be lost).
#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/admin_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "client/errors.h"
#include "client/leader_election.h"

namespace strata::cli {

namespace json = boost::json;
using protocol::error_code;

namespace {

struct elect_args {
  std::string election_type;
  std::string topic;
  int32_t partition = -1;
  bool all = false;
  std::string json_file;
};

using partition_list = std::vector<client::topic_partition>;

// kafka-leader-election.sh's --path-to-json-file: {"partitions": [{"topic": "t", "partition": 0}, ...]}.
partition_list read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) usage_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  partition_list out;
  try {
    const json::value v = json::parse(ss.str());
    for (const auto& p : v.at("partitions").as_array()) {
      const auto& o = p.as_object();
      out.push_back({json::value_to<std::string>(o.at("topic")), json::value_to<int32_t>(o.at("partition"))});
    }
  } catch (const std::exception& e) {
    usage_error(path + ": not a partition list ({\"partitions\": [{\"topic\": ..., \"partition\": ...}]}): " +
                e.what());
  }
  if (out.empty()) usage_error(path + ": the partition list is empty");
  return out;
}

// The partitions to elect for; nullopt = every partition (--all-topic-partitions).
std::optional<partition_list> partitions_asked(const elect_args& a, client::cluster_client& c) {
  const int given = !a.topic.empty() + a.all + !a.json_file.empty();
  if (given != 1) usage_error("name the partitions with exactly one of --topic, --all-topic-partitions or "
                              "--path-to-json-file");
  if (a.partition >= 0 && a.topic.empty()) usage_error("--partition needs --topic");
  if (a.all) return std::nullopt;
  if (!a.json_file.empty()) return read_json_file(a.json_file);
  if (a.partition >= 0) return partition_list{{a.topic, a.partition}};
  // Every partition of the topic.
  auto md = c.metadata(std::vector<std::string>{a.topic});
  partition_list out;
  for (const auto& t : md.topics) {
    if (t.name.value_or("") != a.topic) continue;
    client::check(t.error_code, "topic '" + a.topic + "'");
    for (const auto& p : t.partitions) out.push_back({a.topic, p.partition_index});
  }
  if (out.empty()) usage_error("topic '" + a.topic + "' has no partitions");
  return out;
}

std::string name(const client::topic_partition& tp) { return tp.topic + "-" + std::to_string(tp.partition); }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

void register_elect_leaders(CLI::App* cluster) {
  auto opts = std::make_shared<admin_options>();
  auto a = std::make_shared<elect_args>();
  a->election_type = "preferred";
  auto* cmd = add_admin_command(
      cluster, "elect-leaders",
      "Elect partition leaders (kafka-leader-election.sh): preferred puts each partition's first replica back in "
      "the lead; unclean gives a leaderless partition a leader even out of sync (data may be lost)",
      opts, [opts, a](client::cluster_client& c) {
        const auto type = a->election_type == "unclean" ? client::election_type::unclean
                                                        : client::election_type::preferred;
        const std::string type_name = type == client::election_type::preferred ? "PREFERRED" : "UNCLEAN";
        const auto parts = partitions_asked(*a, c);
        const auto results = client::elect_leaders(c, type, parts);
        std::vector<std::string> elected, not_needed;
        std::vector<const client::election_outcome*> failed;
        for (const auto& r : results) {
          if (r.error_code == 0)
            elected.push_back(name(r.tp));
          else if (r.error_code == static_cast<int16_t>(error_code::election_not_needed))
            not_needed.push_back(name(r.tp));
          else
            failed.push_back(&r);
        }
        if (opts->json()) {
          json::array arr;
          for (const auto& r : results)
            arr.push_back(json::object{
                {"partition", name(r.tp)},
                {"error", r.error_code ? json::value(protocol::error_name(static_cast<error_code>(r.error_code)))
                                       : json::value(nullptr)},
                {"message", r.message}});
          print_json(std::cout, json::object{{"election_type", type_name}, {"results", std::move(arr)}});
        } else {
          if (!elected.empty())
            std::cout << "Successfully completed leader election (" << type_name << ") for partitions "
                      << join(elected) << "\n";
          if (!not_needed.empty()) std::cout << "Valid replica already elected for partitions " << join(not_needed) << "\n";
          for (const auto* f : failed)
            std::cout << "Error completing leader election (" << type_name << ") for partition: " << name(f->tp)
                      << ": " << f->message << "\n";
          if (results.empty()) std::cout << "No partition needed a leader election (" << type_name << ")\n";
        }
        if (!failed.empty())
          throw client::client_error(std::to_string(failed.size()) + " partition(s) could not be elected");
      });
  cmd->add_option("--election-type", a->election_type, "preferred or unclean")
      ->capture_default_str()
      ->transform(CLI::IsMember({"preferred", "unclean"}, CLI::ignore_case));  // PREFERRED as Kafka's tool
  cmd->add_option("--topic", a->topic, "The topic whose partitions to elect for (all of them unless --partition)");
  cmd->add_option("--partition", a->partition, "With --topic: only this partition")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--all-topic-partitions", a->all, "Every partition of every topic (those already led well are not listed)");
  cmd->add_option("--path-to-json-file", a->json_file,
                  "A JSON file of partitions: {\"partitions\": [{\"topic\": \"t\", \"partition\": 0}]}");
}

}  // namespace strata::cli
