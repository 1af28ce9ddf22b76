// `strata group list|describe|delete` (and reset-offsets, group_reset.cc):
// Kafka's kafka-consumer-groups.sh over the Kafka protocol.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <iostream>

#include "cli/admin_common.h"
#include "cli/commands.h"
#include "cli/group_offsets.h"
#include "cli/output.h"
#include "client/errors.h"
#include "client/groups.h"

namespace strata::cli {

namespace json = boost::json;

namespace {

json::value opt_json(const std::optional<int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

std::string assignment_text(const std::vector<client::topic_partition>& a) {
  // "orders:0,1 payments:2" - one topic per word.
  std::string s;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i == 0 || a[i].topic != a[i - 1].topic)
      s += (i ? " " : "") + a[i].topic + ":";
    else
      s += ",";
    s += std::to_string(a[i].partition);
  }
  return s.empty() ? "-" : s;
}

void register_list(CLI::App* group) {
  auto opts = std::make_shared<admin_options>();
  add_admin_command(group, "list", "List the groups of every broker (ListGroups)", opts, [opts](client::cluster_client& c) {
    auto groups = client::list_groups(c);
    if (opts->json()) {
      json::array arr;
      for (auto& g : groups)
        arr.push_back(json::object{{"group", g.group_id},
                                   {"protocol_type", g.protocol_type},
                                   {"state", g.state},
                                   {"coordinator", g.coordinator}});
      print_json(std::cout, json::object{{"groups", std::move(arr)}});
      return;
    }
    table t({"GROUP", "STATE", "PROTOCOL-TYPE", "COORDINATOR"});
    for (auto& g : groups)
      t.add({g.group_id, g.state.empty() ? "-" : g.state, g.protocol_type.empty() ? "-" : g.protocol_type,
             std::to_string(g.coordinator)});
    t.print(std::cout);
  });
}

void register_describe(CLI::App* group) {
  auto opts = std::make_shared<admin_options>();
  auto id = std::make_shared<std::string>();
  auto* cmd = add_admin_command(
      group, "describe", "Show a group's state, members and per-partition committed offset, log-end offset and lag",
      opts, [opts, id](client::cluster_client& c) {
        auto g = client::describe_group(c, *id);
        auto rows = group_partition_offsets(c, g);
        // Kafka reports an unknown group as Dead with nothing in it.
        if (g.state == "Dead" && g.members.empty() && rows.empty())
          throw client::client_error("group '" + *id + "' does not exist", protocol::error_code::group_id_not_found);
        std::optional<int64_t> total_lag;
        for (auto& [tp, r] : rows)
          if (auto l = r.lag()) total_lag = total_lag.value_or(0) + *l;
        if (opts->json()) {
          json::array members;
          for (auto& m : g.members) {
            json::array assignment;
            for (auto& tp : m.assignment) assignment.push_back(json::object{{"topic", tp.topic}, {"partition", tp.partition}});
            members.push_back(json::object{
                {"member_id", m.member_id},
                {"group_instance_id", m.group_instance_id ? json::value(*m.group_instance_id) : json::value(nullptr)},
                {"client_id", m.client_id},
                {"host", m.client_host},
                {"assignment", std::move(assignment)}});
          }
          json::array offsets;
          for (auto& [tp, r] : rows)
            offsets.push_back(json::object{{"topic", tp.topic},
                                           {"partition", tp.partition},
                                           {"current_offset", opt_json(r.committed)},
                                           {"log_end_offset", opt_json(r.log_end)},
                                           {"lag", opt_json(r.lag())},
                                           {"member_id", r.member ? json::value(r.member->member_id) : json::value(nullptr)}});
          print_json(std::cout, json::object{{"group", g.group_id},
                                             {"state", g.state},
                                             {"protocol_type", g.protocol_type},
                                             {"protocol", g.protocol},
                                             {"coordinator", g.coordinator},
                                             {"members", std::move(members)},
                                             {"offsets", std::move(offsets)},
                                             {"total_lag", opt_json(total_lag)}});
          return;
        }
        std::cout << "Group: " << g.group_id << "  State: " << g.state << "  Protocol: "
                  << (g.protocol_type.empty() ? "-" : g.protocol_type) << (g.protocol.empty() ? "" : "/" + g.protocol)
                  << "  Coordinator: " << g.coordinator << "  Members: " << g.members.size()
                  << "  Total lag: " << or_dash(total_lag) << "\n";
        if (!g.members.empty()) {
          table m({"MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"});
          for (auto& mem : g.members) m.add({mem.member_id, mem.client_id, mem.client_host, assignment_text(mem.assignment)});
          std::cout << "\n";
          m.print(std::cout);
        }
        std::cout << "\n";
        table t({"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID"});
        for (auto& [tp, r] : rows)
          t.add({tp.topic, std::to_string(tp.partition), or_dash(r.committed), or_dash(r.log_end), or_dash(r.lag()),
                 r.member ? r.member->member_id : "-"});
        if (t.empty())
          std::cout << "No committed offsets and no assigned partitions.\n";
        else
          t.print(std::cout);
      });
  cmd->add_option("group", *id, "Group id")->required();
}

void register_delete(CLI::App* group) {
  auto opts = std::make_shared<admin_options>();
  auto id = std::make_shared<std::string>();
  auto* cmd = add_admin_command(group, "delete", "Delete an empty group and its committed offsets (DeleteGroups)", opts,
                                [opts, id](client::cluster_client& c) {
    client::delete_group(c, *id);
    if (opts->json())
      print_json(std::cout, json::object{{"group", *id}, {"deleted", true}});
    else
      std::cout << "Deleted group " << *id << "\n";
  });
  cmd->add_option("group", *id, "Group id")->required();
}

}  // namespace

void register_group_reset_offsets(CLI::App* group);  // group_reset.cc

void register_group(CLI::App& app) {
  auto* group = app.add_subcommand("group", "List, describe, reset and delete consumer groups on any Kafka-compatible cluster");
  group->require_subcommand(1);
  register_list(group);
  register_describe(group);
  register_group_reset_offsets(group);
  register_delete(group);
}

}  // namespace strata::cli
