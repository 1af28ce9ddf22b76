// `strata bench mock-broker`: librdkafka's in-process mock cluster
// (rdkafka_mock.h) in a process of its own, so bench/compare.sh can run the
// same loads against it and read its CPU time from /proc/<pid>/stat.
// `strata bench setup`: create topics. `strata bench selftest`: checks of the
// latency histogram (a CI smoke test).
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <csignal>
#include <cstdio>
#include <random>

#include "cli/bench.h"

namespace strata::cli::bench {

int run_mock_broker(const mock_options& o) {
  // Block the stop signals before librdkafka starts its threads, so they
  // inherit the mask and only sigwait() below sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err);  // no "no bootstrap.servers" notice
  // A dummy client handle that never connects anywhere: it only hosts the mock.
  rd_kafka_t* rk = new_client(false, conf, "mock-broker");
  if (!rk) return 1;
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, o.brokers);
  if (!mc) {
    std::fprintf(stderr, "strata bench mock-broker: rd_kafka_mock_cluster_new failed\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  for (const auto& t : o.topics) {
    auto e = rd_kafka_mock_topic_create(mc, t.c_str(), o.partitions, 1);
    if (e) {
      std::fprintf(stderr, "strata bench mock-broker: topic %s: %s\n", t.c_str(), rd_kafka_err2str(e));
      rd_kafka_mock_cluster_destroy(mc);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  std::printf("bootstrap.servers=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  std::printf("topics=%zu partitions=%d\n", o.topics.size(), o.partitions);
  std::fflush(stdout);

  int sig = 0;
  sigwait(&set, &sig);
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}

int run_setup(const setup_options& o) {
  rd_kafka_t* rk = new_client(false, make_conf(o.common), "setup");
  if (!rk) return 2;
  std::vector<std::string> topics = o.topics.empty() ? std::vector<std::string>{o.common.topic} : o.topics;
  int rc = 0;
  for (const auto& t : topics) {
    int n = ensure_topic(rk, t, o.partitions, o.common.quiet);
    if (n < 0) rc = 1;
    if (o.common.json)
      std::printf("{\"topic\":\"%s\",\"partitions\":%d}\n", t.c_str(), n);
    else
      std::printf("%s: %d partitions\n", t.c_str(), n);
  }
  rd_kafka_destroy(rk);
  return rc;
}

int run_selftest() {
  int failures = 0;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) {
      std::fprintf(stderr, "selftest: FAILED %s\n", what.c_str());
      ++failures;
    }
  };
  // Every bucket's top maps back to the bucket; buckets are contiguous.
  for (std::size_t i = 0; i + 1 < histogram::bucket_count; ++i) {
    check(histogram::index_of(histogram::bucket_top(i)) == i, fmt::format("top of bucket {}", i));
    check(histogram::index_of(histogram::bucket_top(i) + 1) == i + 1, fmt::format("bucket {} contiguous", i));
  }
  // Percentiles of 1..100000 within the 1/128 bucket error.
  histogram h;
  for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    auto exact = static_cast<double>(q * 100'000);
    auto got = static_cast<double>(h.percentile(q));
    check(got >= exact && got <= exact * (1.0 + 1.0 / 128) + 1, fmt::format("p{} = {} (exact {})", q * 100, got, exact));
  }
  check(h.max() == 100'000 && h.min() == 1 && h.count() == 100'000, "count/min/max");
  check(h.percentile(1.0) == 100'000, "p100 is the max");
  // Merge equals recording into one.
  histogram a, b, ab;
  std::mt19937_64 gen(7);
  for (int i = 0; i < 10'000; ++i) {
    auto v = gen() % 10'000'000;
    (i % 2 ? a : b).record(v);
    ab.record(v);
  }
  a.merge(b);
  for (double q : {0.5, 0.99, 0.999}) check(a.percentile(q) == ab.percentile(q), "merge");
  std::printf("selftest: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}

}  // namespace strata::cli::bench
