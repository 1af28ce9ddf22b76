#pragma once
// librdkafka plumbing shared by the client commands (`strata produce`,
// `strata consume`, `strata bench`): client options and their flags,
// property passthrough (-X, --command-config), quiet logging with the last
// connection error kept for a one-line diagnosis, topic lookup with a
// bounded wait, and stop-on-signal.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_conf_s rd_kafka_conf_t;

namespace CLI {
class App;
}

namespace strata::cli::rdk {

// Flags every client command takes.
struct client_options {
  std::string bootstrap = "localhost:9092";
  std::string command_config;           // properties file, applied before -X
  std::vector<std::string> properties;  // -X key=value, applied last
  int connect_timeout_ms = 10'000;      // how long to wait for the broker's Metadata
  bool verbose = false;                 // print librdkafka's log and error lines
};

// Adds --bootstrap-server, --command-config, -X (long name `property_flag`,
// Kafka's --producer-property / --consumer-property), --connect-timeout-ms, -v.
void add_client_options(CLI::App* cmd, client_options& o, const std::string& property_flag);

// Splits "key=value" at the first '='. False if there is no '=' or no key.
bool split_property(const std::string& kv, std::string& key, std::string& value);

// rd_kafka_conf_set; on failure fills `err` with "property k=v: reason".
bool conf_set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value, std::string& err);

// Reads a Java-style properties file (key=value or key: value lines, '#' and
// '!' comments). Returns false with `err` naming the file and line.
bool read_properties_file(const std::string& path, std::vector<std::pair<std::string, std::string>>& out,
                          std::string& err);

// What librdkafka reported through error_cb, kept so that a timeout can be
// explained ("Connection refused") without printing librdkafka's retries.
// Set as the conf opaque; must outlive the rd_kafka_t. Thread-safe: the
// callbacks run on librdkafka's threads.
class client_state {
 public:
  explicit client_state(bool verbose) : verbose_(verbose) {}
  void on_error(int err, const char* reason);
  // The last transport/authentication error, or "" if none.
  std::string last_error() const;
  int last_error_code() const;
  bool verbose() const { return verbose_; }

 private:
  const bool verbose_;
  mutable std::mutex mu_;
  std::string last_error_;
  int last_error_code_ = 0;
};

// A conf with bootstrap.servers, client.id, the quiet log/error callbacks
// bound to `state`, then --command-config and -X (so they override anything
// the command set before calling apply_user_properties again). Returns null
// with `err` on a bad property.
rd_kafka_conf_t* make_conf(const client_options& o, const std::string& client_id, client_state* state,
                           std::string& err);

// Applies --command-config then -X to `conf`. Commands call this again after
// their own settings so that the user's properties win.
bool apply_user_properties(rd_kafka_conf_t* conf, const client_options& o, std::string& err);

// Waits up to o.connect_timeout_ms for Metadata naming `topic` with at least
// one partition (a producer's request may auto-create it, as Kafka's console
// producer does; a consumer's does not). Returns the partition count, or 0
// with `err` set to one line: cannot connect (with librdkafka's last
// connection error), topic does not exist, not authorized, ...
// Serves rd_kafka_poll: a consumer must call rd_kafka_poll_set_consumer only
// after this returns.
int wait_for_topic(rd_kafka_t* rk, const std::string& topic, const client_options& o, const client_state& state,
                   std::string& err);

// What produce and consume do once their conf is ready: create the client
// (taking `conf` over, also on failure), install the stop signals, and wait
// for `topic` (wait_for_topic) to have `partition` (-1: any). Returns the
// client (the caller destroys it) and its partition count in `partitions`;
// on failure returns null with `err` set and the exit code in `exit_code`
// (2: bad configuration or partition, 1: no broker or topic, 130: interrupted).
rd_kafka_t* start_client(bool consumer, rd_kafka_conf_t* conf, const std::string& topic, int partition,
                         const client_options& o, const client_state& state, int& partitions, std::string& err,
                         int& exit_code);

// SIGINT/SIGTERM set a flag instead of killing the process (no SA_RESTART, so
// a blocking read returns EINTR), letting commands flush and commit first.
void install_stop_signals();
bool stop_requested();

std::int64_t monotonic_ms();

}  // namespace strata::cli::rdk
