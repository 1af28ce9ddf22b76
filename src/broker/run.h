#pragma once
#include "config/broker_config.h"

namespace strata::broker {

// Runs a broker until SIGTERM or SIGINT: opens the data directory, recovers
// the logs, serves the listeners, and on a signal shuts down gracefully
// (stop accepting, answer in-flight requests, flush, clean-shutdown marker).
// Returns the process exit code.
int run(config::broker_config& cfg);

}  // namespace strata::broker
