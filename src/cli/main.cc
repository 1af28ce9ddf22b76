// The one binary: `strata <command>`. Each command lives in its own file and
// registers itself here.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Strata: a Kafka-compatible streaming log broker.\n"
               "Run `strata serve` to start a single-node broker on localhost:9092."};
  app.set_version_flag("--version", std::string(strata::cli::version_string()));
  app.require_subcommand(1);
  strata::cli::register_serve(app);
  strata::cli::register_topic(app);
  strata::cli::register_produce(app);
  strata::cli::register_consume(app);
  strata::cli::register_group(app);
  strata::cli::register_cluster(app);
  strata::cli::register_bench(app);
  strata::cli::register_api_versions(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return strata::cli::exit_code();
}
