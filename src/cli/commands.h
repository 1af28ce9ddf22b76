#pragma once
// Subcommands of the `strata` binary. Each register_* adds a CLI11
// subcommand whose callback runs the command and records its exit code.
#include <string_view>

namespace CLI {
class App;
}

namespace strata::cli {

std::string_view version_string();
void register_serve(CLI::App& app);
void register_api_versions(CLI::App& app);
void register_bench(CLI::App& app);
void register_produce(CLI::App& app);
void register_consume(CLI::App& app);
void register_topic(CLI::App& app);    // topic.cc
void register_topic_reassign(CLI::App* topic);  // topic_reassign.cc: reassign, reassignments
void register_group(CLI::App& app);    // group.cc, group_reset.cc
void register_cluster(CLI::App& app);  // cluster.cc
void register_elect_leaders(CLI::App* cluster);  // cluster_elect.cc
void register_rebalance(CLI::App* cluster);       // cluster_rebalance.cc
void register_verify(CLI::App& app);   // verify.cc

// Exit code of the command that ran (set by its callback).
int exit_code();
void set_exit_code(int code);

}  // namespace strata::cli
