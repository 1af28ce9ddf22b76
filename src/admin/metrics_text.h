#pragma once
// Renders /metrics: the broker's counters (when the broker is up) and the
// process figures, in Prometheus' text format. Metric names are listed in
// src/admin/README.md.
#include <string>

#include "admin/process_stats.h"
#include "admin/source.h"

namespace strata::admin {

// `broker` is null while the broker starts or after it stopped serving: only
// the process and up/start-time families are written then.
std::string render_metrics(const broker_metrics* broker, const process_stats& process, health state,
                           double start_time_seconds);

}  // namespace strata::admin
