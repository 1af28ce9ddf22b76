// `strata cluster info`: cluster id, brokers, controller and each broker's
// API version ranges (Metadata + ApiVersions), on any Kafka-compatible cluster.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <iostream>

#include "cli/admin_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "client/broker_connection.h"

namespace strata::cli {

namespace json = boost::json;

namespace {

void register_info(CLI::App* cluster) {
  auto opts = std::make_shared<admin_options>();
  auto show_apis = std::make_shared<bool>(false);
  auto* cmd = add_admin_command(cluster, "info", "Show the cluster id, brokers, controller and API versions", opts,
                                [opts, show_apis](client::cluster_client& c) {
    auto md = c.metadata(std::vector<std::string>{});
    std::vector<client::broker_info> brokers = c.brokers();
    std::sort(brokers.begin(), brokers.end(), [](auto& a, auto& b) { return a.node_id < b.node_id; });
    // Each broker's ApiVersions, from the connection negotiated with it.
    std::map<int32_t, std::map<int16_t, client::version_range>> apis;
    for (auto& b : brokers) apis[b.node_id] = c.broker(b.node_id).broker_versions();
    const std::string cluster_id = md.cluster_id.value_or("");
    if (opts->json()) {
      json::array arr;
      for (auto& b : brokers) {
        json::array versions;
        for (auto& [key, r] : apis[b.node_id])
          versions.push_back(json::object{{"api_key", key}, {"name", client::api_name(key)}, {"min", r.min}, {"max", r.max}});
        arr.push_back(json::object{{"node_id", b.node_id},
                                   {"host", b.host},
                                   {"port", b.port},
                                   {"rack", b.rack ? json::value(*b.rack) : json::value(nullptr)},
                                   {"controller", b.node_id == md.controller_id},
                                   {"api_versions", std::move(versions)}});
      }
      print_json(std::cout, json::object{{"cluster_id", cluster_id.empty() ? json::value(nullptr) : json::value(cluster_id)},
                                         {"controller_id", md.controller_id},
                                         {"brokers", std::move(arr)}});
      return;
    }
    std::cout << "Cluster id: " << (cluster_id.empty() ? "-" : cluster_id) << "\n"
              << "Controller: " << (md.controller_id < 0 ? "-" : std::to_string(md.controller_id)) << "\n\n";
    table t({"ID", "HOST", "PORT", "RACK", "CONTROLLER", "APIS"});
    for (auto& b : brokers)
      t.add({std::to_string(b.node_id), b.host, std::to_string(b.port), b.rack.value_or("-"),
             b.node_id == md.controller_id ? "yes" : "no", std::to_string(apis[b.node_id].size())});
    t.print(std::cout);
    if (!*show_apis) return;
    for (auto& b : brokers) {
      std::cout << "\nBroker " << b.node_id << " API versions:\n";
      table v({"KEY", "API", "MIN", "MAX"});
      for (auto& [key, r] : apis[b.node_id])
        v.add({std::to_string(key), client::api_name(key), std::to_string(r.min), std::to_string(r.max)});
      v.print(std::cout);
    }
  });
  cmd->add_flag("--api-versions", *show_apis, "Also print each broker's API version ranges");
}

}  // namespace

void register_cluster(CLI::App& app) {
  auto* cluster = app.add_subcommand("cluster", "Inspect a Kafka-compatible cluster, elect its partition leaders, rebalance or empty brokers");
  cluster->require_subcommand(1);
  register_info(cluster);
  register_elect_leaders(cluster);
  register_rebalance(cluster);
}

}  // namespace strata::cli
