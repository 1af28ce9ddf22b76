#include "admin/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "admin/metrics_text.h"

namespace strata::admin {
namespace {

TEST(prometheus, family_and_samples) {
  prometheus_writer w;
  w.family("x_total", "counter", "Things.");
  w.sample("x_total", {{"topic", "a"}}, uint64_t{3});
  w.sample("x_total", {{"topic", "b"}, {"partition", "1"}}, int64_t{-2});
  w.sample("x_total", {}, 0.5);
  EXPECT_EQ(w.text(),
            "# HELP x_total Things.\n"
            "# TYPE x_total counter\n"
            "x_total{topic=\"a\"} 3\n"
            "x_total{topic=\"b\",partition=\"1\"} -2\n"
            "x_total 0.5\n");
}

TEST(prometheus, label_values_escape_backslash_quote_newline) {
  std::string out;
  append_label_value(out, "a\\b\"c\nd\te");
  EXPECT_EQ(out, "a\\\\b\\\"c\\nd\te");  // a tab is legal as is
}

TEST(prometheus, help_escapes_backslash_and_newline_but_not_quotes) {
  std::string out;
  append_help(out, "say \"hi\"\\\nbye");
  EXPECT_EQ(out, "say \"hi\"\\\\\\nbye");
}

TEST(prometheus, doubles_in_shortest_exact_form_and_special_values) {
  auto fmt = [](double v) {
    std::string s;
    append_double(s, v);
    return s;
  };
  EXPECT_EQ(fmt(0.0001), "0.0001");
  EXPECT_EQ(fmt(0.25), "0.25");
  EXPECT_EQ(fmt(10), "10");
  EXPECT_EQ(fmt(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(fmt(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(fmt(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(fmt(0.1 + 0.2)), 0.1 + 0.2);
}

TEST(metrics_text, without_broker_only_process_families) {
  process_stats p;
  p.cpu_seconds = 1.5;
  p.resident_memory_bytes = 4096;
  std::string t = render_metrics(nullptr, p, health::starting, 1700000000.5);
  EXPECT_NE(t.find("strata_broker_up 0\n"), std::string::npos);
  EXPECT_NE(t.find("process_cpu_seconds_total 1.5\n"), std::string::npos);
  EXPECT_NE(t.find("process_resident_memory_bytes 4096\n"), std::string::npos);
  EXPECT_NE(t.find("strata_broker_start_time_seconds 1700000000.5\n"), std::string::npos);
  EXPECT_EQ(t.find("strata_requests_total"), std::string::npos);
}

TEST(metrics_text, histogram_buckets_are_cumulative_and_end_with_inf) {
  broker_metrics m;
  m.latency_bounds_seconds = {0.001, 0.01};
  api_metrics a;
  a.api = "Produce";
  a.requests = 6;
  a.errors = 1;
  a.latency_seconds_sum = 0.125;
  a.buckets = {2, 3, 1};
  m.apis.push_back(a);
  m.topics.push_back({"t\"1", 100, 4, 50});
  m.partitions.push_back({"t\"1", 0, 4096, 0, 4});
  m.lags.push_back({"g\\1", "t\"1", 0, 3});
  m.active_connections = 2;
  std::string t = render_metrics(&m, {}, health::ready, 1);
  EXPECT_NE(t.find("strata_broker_up 1\n"), std::string::npos);
  EXPECT_NE(t.find("strata_request_duration_seconds_bucket{api=\"Produce\",le=\"0.001\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("strata_request_duration_seconds_bucket{api=\"Produce\",le=\"0.01\"} 5\n"), std::string::npos);
  EXPECT_NE(t.find("strata_request_duration_seconds_bucket{api=\"Produce\",le=\"+Inf\"} 6\n"), std::string::npos);
  EXPECT_NE(t.find("strata_request_duration_seconds_count{api=\"Produce\"} 6\n"), std::string::npos);
  EXPECT_NE(t.find("strata_request_duration_seconds_sum{api=\"Produce\"} 0.125\n"), std::string::npos);
  EXPECT_NE(t.find("strata_request_errors_total{api=\"Produce\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("strata_topic_bytes_in_total{topic=\"t\\\"1\"} 100\n"), std::string::npos);
  EXPECT_NE(t.find("strata_partition_log_size_bytes{topic=\"t\\\"1\",partition=\"0\"} 4096\n"), std::string::npos);
  EXPECT_NE(t.find("strata_consumer_group_lag{group=\"g\\\\1\",topic=\"t\\\"1\",partition=\"0\"} 3\n"),
            std::string::npos);
  EXPECT_NE(t.find("strata_active_connections 2\n"), std::string::npos);
  EXPECT_NE(t.find("strata_partitions 1\n"), std::string::npos);
  // Every family's TYPE line comes before its first sample, exactly once.
  EXPECT_EQ(t.find("# TYPE strata_request_duration_seconds histogram"),
            t.rfind("# TYPE strata_request_duration_seconds histogram"));
  EXPECT_LT(t.find("# TYPE strata_request_duration_seconds histogram"),
            t.find("strata_request_duration_seconds_bucket"));
}

}  // namespace
}  // namespace strata::admin
