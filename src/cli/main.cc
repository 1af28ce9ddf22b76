// The one binary: `strata <command>`. Each command lives in its own file and
// registers itself here.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <string_view>

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
  strata::cli::register_verify(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // `strata verify` is run by scripts: a bad flag is one line and exit 2.
    if (e.get_exit_code() != 0 && argc > 1 && std::string_view(argv[1]) == "verify") {
      std::fprintf(stderr, "strata verify: error: %s\n", e.what());
      return 2;
    }
    return app.exit(e);
  }
  return strata::cli::exit_code();
}
