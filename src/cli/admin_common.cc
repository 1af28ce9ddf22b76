#include "cli/admin_common.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "client/errors.h"

namespace strata::cli {

namespace {

// One line, whatever the broker put in its error message.
std::string one_line(std::string s) {
  for (auto& ch : s)
    if (ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

}  // namespace

void add_admin_options(CLI::App* cmd, admin_options& o) {
  cmd->add_option("-b,--bootstrap-server", o.bootstrap_server,
                  "Broker(s) to connect to first: host:port[,host:port...]")
      ->capture_default_str();
  cmd->add_option("--timeout-ms", o.timeout_ms, "Give up after this many milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{24} * 3600 * 1000));
  cmd->add_option("--output", o.output, "Output format")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json"}));
}

CLI::App* add_admin_command(CLI::App* parent, const std::string& name, const std::string& description,
                            std::shared_ptr<admin_options> opts,
                            std::function<void(client::cluster_client&)> run) {
  auto* cmd = parent->add_subcommand(name, description);
  add_admin_options(cmd, *opts);
  // "strata topic describe: error: ..." like produce/consume's error lines.
  const std::string prefix = "strata " + parent->get_name() + " " + name + ": error: ";
  cmd->callback([opts, run, prefix] {
    try {
      client::cluster_client c(opts->bootstrap_server, std::chrono::milliseconds(opts->timeout_ms));
      run(c);
      std::cout.flush();
      set_exit_code(0);
    } catch (const std::exception& e) {
      std::cout.flush();
      std::cerr << prefix << one_line(e.what()) << std::endl;
      set_exit_code(1);
    }
  });
  return cmd;
}

void usage_error(const std::string& message) { throw client::client_error(message); }

}  // namespace strata::cli
