#include "cli/rdkafka_util.h"

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

namespace strata::cli::rdk {

void add_client_options(CLI::App* cmd, client_options& o, const std::string& property_flag) {
  cmd->add_option("-b,--bootstrap-server", o.bootstrap, "Broker(s) to connect to, host:port[,host:port...]")
      ->capture_default_str();
  cmd->add_option("--command-config", o.command_config,
                  "File of librdkafka properties (key=value lines), e.g. security settings");
  cmd->add_option("-X," + property_flag, o.properties,
                  "librdkafka property key=value (repeatable), applied last, e.g. -X security.protocol=ssl");
  cmd->add_option("--connect-timeout-ms", o.connect_timeout_ms,
                  "Give up when the broker has not answered Metadata for the topic within this time")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-v,--verbose", o.verbose, "Print librdkafka's log and error lines on stderr");
}

bool split_property(const std::string& kv, std::string& key, std::string& value) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  key = kv.substr(0, eq);
  value = kv.substr(eq + 1);
  return true;
}

bool conf_set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value, std::string& err) {
  char buf[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), buf, sizeof buf) == RD_KAFKA_CONF_OK) return true;
  err = "property " + key + "=" + value + ": " + buf;
  return false;
}

namespace {

std::string trim(const std::string& s) {
  const char* ws = " \t\r\f\v";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace

bool read_properties_file(const std::string& path, std::vector<std::pair<std::string, std::string>>& out,
                          std::string& err) {
  std::ifstream in(path);
  if (!in) {
    err = "cannot read --command-config " + path;
    return false;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    // Java's Properties accepts '=' or ':' between key and value.
    auto sep = line.find_first_of("=:");
    if (sep == std::string::npos || sep == 0) {
      err = path + ":" + std::to_string(n) + ": expected key=value";
      return false;
    }
    out.emplace_back(trim(line.substr(0, sep)), trim(line.substr(sep + 1)));
  }
  return true;
}

void client_state::on_error(int err, const char* reason) {
  if (verbose_) std::fprintf(stderr, "librdkafka: %s: %s\n", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
  // "1/1 brokers are down" says nothing the connection error did not: keep
  // the latter, which names the cause (refused, DNS, TLS, SASL).
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) return;
  // librdkafka's reason reads "host:port/bootstrap: Connect to ... failed:
  // Connection refused (after 0ms in state CONNECT, ...)": keep the middle.
  std::string r = reason;
  auto colon = r.find(": ");
  if (colon != std::string::npos && r.substr(0, colon).find('/') != std::string::npos) r.erase(0, colon + 2);
  auto after = r.rfind(" (after ");
  if (after != std::string::npos && r.back() == ')') r.erase(after);
  std::lock_guard lock(mu_);
  last_error_ = std::move(r);
  last_error_code_ = err;
}

std::string client_state::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

int client_state::last_error_code() const {
  std::lock_guard lock(mu_);
  return last_error_code_;
}

namespace {

void error_cb(rd_kafka_t*, int err, const char* reason, void* opaque) {
  static_cast<client_state*>(opaque)->on_error(err, reason);
}

// librdkafka logs every failed connection attempt, and retries forever: by
// default the commands stay quiet and explain a failure in one line instead.
void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  auto* st = static_cast<client_state*>(rd_kafka_opaque(rk));
  if (st && st->verbose()) std::fprintf(stderr, "librdkafka %d %s: %s\n", level, fac, buf);
}

}  // namespace

bool apply_user_properties(rd_kafka_conf_t* conf, const client_options& o, std::string& err) {
  if (!o.command_config.empty()) {
    std::vector<std::pair<std::string, std::string>> props;
    if (!read_properties_file(o.command_config, props, err)) return false;
    for (const auto& [k, v] : props)
      if (!conf_set(conf, k, v, err)) return false;
  }
  for (const auto& kv : o.properties) {
    std::string k, v;
    if (!split_property(kv, k, v)) {
      err = "-X expects key=value, got '" + kv + "'";
      return false;
    }
    if (!conf_set(conf, k, v, err)) return false;
  }
  return true;
}

rd_kafka_conf_t* make_conf(const client_options& o, const std::string& client_id, client_state* state,
                           std::string& err) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_opaque(conf, state);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  rd_kafka_conf_set_log_cb(conf, log_cb);
  if (conf_set(conf, "bootstrap.servers", o.bootstrap, err) && conf_set(conf, "client.id", client_id, err) &&
      apply_user_properties(conf, o, err))
    return conf;
  rd_kafka_conf_destroy(conf);
  return nullptr;
}

std::int64_t monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int wait_for_topic(rd_kafka_t* rk, const std::string& topic, const client_options& o, const client_state& state,
                   std::string& err) {
  const std::int64_t deadline = monotonic_ms() + o.connect_timeout_ms;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (!rkt) {
    err = "topic '" + topic + "': " + rd_kafka_err2str(rd_kafka_last_error());
    return 0;
  }
  bool answered = false;  // some broker answered Metadata
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
  int partitions = 0;
  while (!stop_requested()) {
    const std::int64_t left = deadline - monotonic_ms();
    if (left <= 0) break;
    // Asking for this topic alone: a producer's request (allow.auto.create.topics
    // defaults to true there) lets the broker create it, as Kafka's console
    // producer does; a consumer's does not.
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, static_cast<int>(std::min<std::int64_t>(left, 1000)));
    // Serves error_cb, which runs only from rd_kafka_poll: that is how the
    // connection error (refused, DNS, TLS) reaches `state`.
    rd_kafka_poll(rk, 0);
    if (e) {
      last = e;
      continue;  // not connected yet: rd_kafka_metadata waited for a broker
    }
    answered = true;
    last = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    partitions = last ? 0 : md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (partitions > 0) break;
    if (last == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || last == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
        last == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION)
      break;
    // LEADER_NOT_AVAILABLE and the like: a new topic settling; ask again.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rd_kafka_topic_destroy(rkt);
  if (partitions > 0) return partitions;

  char fatal[512];
  if (rd_kafka_fatal_error(rk, fatal, sizeof fatal)) {
    err = fatal;
  } else if (stop_requested()) {
    err = "interrupted";
  } else if (!answered) {
    const std::string why = state.last_error();
    if (state.last_error_code() == RD_KAFKA_RESP_ERR__AUTHENTICATION)
      err = "authentication with " + o.bootstrap + " failed: " + why;
    else
      err = "cannot connect to " + o.bootstrap + " within " + std::to_string(o.connect_timeout_ms) + " ms" +
            (why.empty() ? std::string(" (") + rd_kafka_err2str(last) + ")" : ": " + why);
  } else if (last == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    err = "topic '" + topic + "' does not exist";
  } else if (last == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
    err = "not authorized to access topic '" + topic + "'";
  } else if (last == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION) {
    err = "invalid topic name '" + topic + "'";
  } else {
    err = "topic '" + topic + "' is not available: " + rd_kafka_err2str(last);
  }
  return 0;
}

namespace {
std::atomic<bool> g_stop{false};
void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

rd_kafka_t* start_client(bool consumer, rd_kafka_conf_t* conf, const std::string& topic, int partition,
                         const client_options& o, const client_state& state, int& partitions, std::string& err,
                         int& exit_code) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    err = errstr;
    exit_code = 2;
    return nullptr;
  }
  install_stop_signals();
  partitions = wait_for_topic(rk, topic, o, state, err);
  if (partitions <= 0) {
    exit_code = stop_requested() ? 130 : 1;
  } else if (partition >= partitions) {
    err = "partition " + std::to_string(partition) + " does not exist: topic '" + topic + "' has " +
          std::to_string(partitions) + " partition" + (partitions == 1 ? "" : "s");
    exit_code = 2;
  } else {
    return rk;
  }
  rd_kafka_destroy(rk);
  return nullptr;
}

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  // No SA_RESTART: a blocked read of stdin returns EINTR. SA_RESETHAND: a
  // second Ctrl-C kills the process, should flushing or committing hang.
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_stop.load(); }

}  // namespace strata::cli::rdk
