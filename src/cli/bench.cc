// `strata bench`: the command tree. The loads are in bench_produce.cc and
// bench_consume.cc, the mock cluster and helpers in bench_mock.cc.
#include "cli/bench.h"

#include <CLI/CLI.hpp>

#include <memory>

#include "cli/commands.h"

namespace strata::cli {
namespace {

using namespace bench;

void add_common(CLI::App* cmd, common_options& c) {
  cmd->add_option("-b,--bootstrap-server", c.bootstrap, "Broker to connect to, host:port")->capture_default_str();
  cmd->add_option("-t,--topic", c.topic, "Topic")->capture_default_str();
  cmd->add_option("-X,--property", c.properties,
                  "librdkafka property key=value, applied last (repeatable), e.g. -X queue.buffering.max.messages=500000");
  cmd->add_flag("--json", c.json, "Print the summary as one JSON object on stdout");
  cmd->add_flag("-q,--quiet", c.quiet, "No progress lines on stderr");
}

void add_produce_options(CLI::App* cmd, produce_options& o, bool e2e) {
  add_common(cmd, o.common);
  cmd->add_option("-n,--messages", o.messages, "Messages to send (0: until --duration)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-s,--size", o.size,
                  e2e ? "Payload bytes (at least 16: the send time is stamped in the payload)" : "Payload bytes")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-p,--partitions", o.partitions,
                  "Create the topic with this many partitions if it does not exist (0: leave it to the broker)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-a,--acks", o.acks, "0, 1 or all")
      ->capture_default_str()
      ->check(CLI::IsMember({"0", "1", "all", "-1"}));
  cmd->add_option("-z,--compression", o.compression, "none, gzip, snappy, lz4, zstd")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  cmd->add_option("-l,--linger-ms", o.linger_ms, "librdkafka linger.ms")->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "librdkafka batch.size (bytes per partition batch)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-r,--rate", o.rate, "Fixed rate in messages/s (0: as fast as possible); for latency")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-d,--duration", o.duration, "Stop sending after this many seconds (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--rotate", o.rotate,
                  "Send this many consecutive messages to each partition in turn, so every partition gets the same "
                  "share (0: librdkafka's partitioner, which for messages without a key picks a random partition "
                  "and sticks to it for a batch)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--timeout", o.timeout_s, "Seconds to wait for outstanding deliveries after the last send")
      ->capture_default_str();
  if (e2e)
    cmd->add_option("--fetch-wait-ms", o.fetch_wait_ms,
                    "Consumer fetch.wait.max.ms (the librdkafka mock answers an empty fetch only after this wait)")
        ->capture_default_str();
}

}  // namespace

void register_bench(CLI::App& app) {
  auto* bench = app.add_subcommand(
      "bench",
      "Load generators on librdkafka: produce, consume, e2e; and mock-broker, librdkafka's mock cluster to compare "
      "against (see bench/README.md).");
  bench->require_subcommand(1);

  auto produce = std::make_shared<produce_options>();
  auto* p = bench->add_subcommand(
      "produce",
      "Send messages and report msgs/s, MiB/s and the send -> delivery report latency (p50/p99/p99.9/max).");
  add_produce_options(p, *produce, false);
  p->callback([produce] { set_exit_code(run_produce(*produce)); });

  auto e2e = std::make_shared<produce_options>();
  auto* e = bench->add_subcommand(
      "e2e", "Produce and consume at once; latency is producer send time (stamped in the payload) -> consumer receipt.");
  add_produce_options(e, *e2e, true);
  e->callback([e2e] { set_exit_code(run_e2e(*e2e)); });

  auto consume = std::make_shared<consume_options>();
  auto* c = bench->add_subcommand(
      "consume",
      "Read a topic from the beginning of every partition; report msgs/s and MiB/s. Stops at --messages, at the end "
      "of every partition, after --duration, or when idle.");
  add_common(c, consume->common);
  c->add_option("-n,--messages", consume->messages, "Stop after this many messages (0: at the end of every partition)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c->add_option("-d,--duration", consume->duration, "Stop after this many seconds (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  c->add_option("--idle-timeout", consume->idle_timeout_s, "Stop when nothing arrived for this many seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c->add_option("-g,--group", consume->group, "group.id (only a name: partitions are assigned, nothing committed)");
  c->callback([consume] { set_exit_code(run_consume(*consume)); });

  auto setup = std::make_shared<setup_options>();
  auto* s = bench->add_subcommand("setup", "Create topics (CreateTopics) and print their partition counts.");
  add_common(s, setup->common);
  s->add_option("-p,--partitions", setup->partitions, "Partitions per topic")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  s->add_option("--topics", setup->topics, "Several topics (instead of --topic)")->delimiter(',');
  s->callback([setup] { set_exit_code(run_setup(*setup)); });

  auto mock = std::make_shared<mock_options>();
  auto* m = bench->add_subcommand(
      "mock-broker",
      "Run librdkafka's mock cluster (rdkafka_mock.h) until SIGTERM; prints `bootstrap.servers=host:port`. It keeps "
      "only the newest ~5 MiB per partition in memory and has no CreateTopics: name the topics here.");
  m->add_option("-p,--partitions", mock->partitions, "Partitions of each --topic")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  m->add_option("-t,--topic", mock->topics, "Topic to create (repeatable, or comma-separated)")->delimiter(',');
  m->add_option("--brokers", mock->brokers, "Mock brokers in the cluster")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  m->callback([mock] { set_exit_code(run_mock_broker(*mock)); });

  auto* st = bench->add_subcommand("selftest", "Check the latency histogram (used by the test suite).");
  st->callback([] { set_exit_code(run_selftest()); });
}

}  // namespace strata::cli
