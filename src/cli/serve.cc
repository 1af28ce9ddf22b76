// `strata serve`: start a broker.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "broker/run.h"
#include "cli/commands.h"
#include "config/broker_config.h"
#include "config/config_def.h"
#include "config/config_error.h"

namespace strata::cli {
namespace {

struct serve_options {
  std::string config_file;
  std::vector<std::string> overrides;
  bool list_configs = false;
  std::string log_level = "info";
};

int run_serve(const serve_options& o) {
  if (o.list_configs) {
    for (const auto& d : config::broker_config_defs())
      std::cout << fmt::format("{:<40} {:<8} default={:<28} {}\n", d.name, config::type_name(d.type),
                               d.default_value.empty() ? "(none)" : d.default_value, d.doc);
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] %^%l%$ %v");
  config::properties props;
  try {
    if (!o.config_file.empty()) props = config::load_properties_file(o.config_file);
    for (const auto& kv : o.overrides) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw config::config_error(fmt::format("--override expects key=value, got '{}'", kv));
      props[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    std::vector<std::string> warnings;
    config::broker_config cfg(props, warnings);
    for (const auto& w : warnings) spdlog::warn("{}", w);
    return broker::run(cfg);
  } catch (const config::config_error& e) {
    spdlog::error("configuration error: {}", e.what());
    return 2;
  }
}

}  // namespace

void register_serve(CLI::App& app) {
  auto opts = std::make_shared<serve_options>();
  auto* cmd = app.add_subcommand("serve", "Start a broker (single node by default: localhost:9092, data in ./data).");
  cmd->add_option("-c,--config", opts->config_file, "A server.properties file with Kafka's setting names")
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--override", opts->overrides, "Override a setting: --override key=value (repeatable)");
  cmd->add_flag("--list-configs", opts->list_configs, "List every setting with its default and exit");
  cmd->add_option("--log-level", opts->log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  cmd->callback([opts] { set_exit_code(run_serve(*opts)); });
}

}  // namespace strata::cli
