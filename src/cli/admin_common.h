#pragma once
// What every admin command (`strata topic|group|cluster ...`) shares: the
// connection options with Kafka's flag names, and one place that turns any
// failure into a single line on stderr and a non-zero exit code.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "client/cluster_client.h"

namespace CLI {
class App;
}

namespace strata::cli {

struct admin_options {
  std::string bootstrap_server = "localhost:9092";
  int64_t timeout_ms = 30000;
  std::string output = "table";
  bool json() const { return output == "json"; }
};

// Adds --bootstrap-server, --timeout-ms and --output to a command.
void add_admin_options(CLI::App* cmd, admin_options& o);

// A leaf command with those options; `run` gets a connected client. Exit
// codes: 0 on success, 1 on any failure, printed as "error: <one line>".
CLI::App* add_admin_command(CLI::App* parent, const std::string& name, const std::string& description,
                            std::shared_ptr<admin_options> opts,
                            std::function<void(client::cluster_client&)> run);

// A failure of the command's own arguments found after parsing (bad
// --config syntax, conflicting flags); printed like the others.
[[noreturn]] void usage_error(const std::string& message);

}  // namespace strata::cli
