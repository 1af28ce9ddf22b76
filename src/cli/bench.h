#pragma once
// `strata bench`: load generators on librdkafka (produce, consume, e2e), an
// in-process librdkafka mock cluster to compare against (mock-broker), and
// a topic helper (setup). See bench/README.md.
#include <cstdint>
#include <string>
#include <vector>

#include "cli/bench_histogram.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;
typedef struct rd_kafka_queue_s rd_kafka_queue_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;

namespace strata::cli::bench {

struct common_options {
  std::string bootstrap = "localhost:9092";
  std::string topic = "strata-bench";
  std::vector<std::string> properties;  // -X key=value, passed to librdkafka
  bool json = false;
  bool quiet = false;  // no progress lines
};

struct produce_options {
  common_options common;
  std::int64_t messages = 1'000'000;  // 0: unbounded (use --duration)
  int size = 100;
  int partitions = 0;  // > 0: create the topic with this many partitions if missing
  std::string acks = "1";
  std::string compression = "none";
  int linger_ms = 5;
  int batch_size = 1'048'576;
  double rate = 0;       // messages per second; 0: as fast as possible
  double duration = 0;   // seconds; 0: no limit
  int timeout_s = 60;    // give up waiting for outstanding deliveries/receipts
  int fetch_wait_ms = 100;  // e2e consumer: fetch.wait.max.ms
  int rotate = 1000;  // consecutive messages per partition, partitions in turn; 0: librdkafka's partitioner
};

struct consume_options {
  common_options common;
  std::int64_t messages = 0;  // 0: until every partition reaches its end
  double duration = 0;
  int idle_timeout_s = 10;
  std::string group;  // empty: a fresh one per run
};

struct setup_options {
  common_options common;
  int partitions = 1;
  std::vector<std::string> topics;
};

struct mock_options {
  int partitions = 64;
  int brokers = 1;
  std::vector<std::string> topics;
};

int run_produce(const produce_options& o);
int run_e2e(const produce_options& o);
int run_consume(const consume_options& o);
int run_setup(const setup_options& o);
int run_mock_broker(const mock_options& o);
int run_selftest();

// --- shared helpers (bench_common.cc) ---

std::int64_t now_ns();  // CLOCK_MONOTONIC

// Waits up to timeout_ms for one message on `q`, then takes whatever else is
// already queued without waiting (rd_kafka_consume_batch_queue alone waits
// until the array is full or the timeout passes, which would delay receipt
// times by up to the timeout). Returns how many were stored in `out`.
std::size_t poll_batch(rd_kafka_queue_t* q, int timeout_ms, std::vector<rd_kafka_message_t*>& out);

// A conf with bootstrap.servers, the -X properties and an error/log callback
// that prints to stderr. Exits the process on a bad property.
rd_kafka_conf_t* make_conf(const common_options& o);
// Applies the -X properties (again): a load calls it after its own settings
// so that the user's -X wins. Exits the process on a bad property.
void apply_properties(rd_kafka_conf_t* conf, const common_options& o);
void conf_set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);
// rd_kafka_new that takes `conf` over also on failure (librdkafka keeps it with the
// caller then) and prints "strata bench <what>: <reason>"; null on failure, which
// is a configuration error (exit code 2).
rd_kafka_t* new_client(bool consumer, rd_kafka_conf_t* conf, const char* what);

// Creates the topic with `partitions` partitions if it does not exist
// (CreateTopics; a broker without the API, like the mock, is tolerated) and
// returns the partition count from Metadata, or -1.
int ensure_topic(rd_kafka_t* rk, const std::string& topic, int partitions, bool quiet);

struct run_summary {
  std::string mode;  // produce, consume, e2e
  std::int64_t messages = 0;
  std::int64_t bytes = 0;  // payload bytes
  std::int64_t errors = 0;
  double elapsed_s = 0;
  const histogram* latency = nullptr;  // null: not measured
  std::string latency_what;
  std::vector<std::pair<std::string, std::string>> params;  // echoed settings
};
void print_summary(const run_summary& s, bool json);

// One progress line on stderr: "<mode> <t>s  <fields>".
void print_progress(const std::string& mode, double t, std::int64_t interval_msgs, std::int64_t interval_bytes,
                    double interval_s, std::int64_t total, const histogram* interval_latency,
                    std::int64_t errors);

std::string fmt_latency_us(std::uint64_t us);

}  // namespace strata::cli::bench
