// Helpers shared by the `strata bench` commands: librdkafka configuration,
// topic creation, progress lines and the summary (text or JSON).
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <thread>
#include <algorithm>

#include "cli/bench.h"
#include "cli/rdkafka_util.h"

namespace strata::cli::bench {

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::size_t poll_batch(rd_kafka_queue_t* q, int timeout_ms, std::vector<rd_kafka_message_t*>& out) {
  rd_kafka_message_t* first = rd_kafka_consume_queue(q, timeout_ms);
  if (!first) return 0;
  out[0] = first;
  ssize_t more = rd_kafka_consume_batch_queue(q, 0, out.data() + 1, out.size() - 1);
  return 1 + static_cast<std::size_t>(std::max<ssize_t>(more, 0));
}

namespace {

void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  std::fprintf(stderr, "%.3f librdkafka %d %s: %s\n", static_cast<double>(now_ns()) / 1e6, level, fac, buf);  // debug lines only with -X debug=...
}

void error_cb(rd_kafka_t*, int err, const char* reason, void*) {
  // Transport errors while a broker restarts are expected noise; fatal ones are not.
  std::fprintf(stderr, "librdkafka error %s: %s\n", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20)
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else
          out += c;
    }
  }
  return out;
}

}  // namespace

void conf_set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  std::string err;
  if (!rdk::conf_set(conf, key, value, err)) {
    std::fprintf(stderr, "strata bench: librdkafka %s\n", err.c_str());
    std::exit(2);
  }
}

rd_kafka_conf_t* make_conf(const common_options& o) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  conf_set(conf, "bootstrap.servers", o.bootstrap);
  conf_set(conf, "client.id", "strata-bench");
  rd_kafka_conf_set_log_cb(conf, log_cb);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  apply_properties(conf, o);
  return conf;
}

rd_kafka_t* new_client(bool consumer, rd_kafka_conf_t* conf, const char* what) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    std::fprintf(stderr, "strata bench %s: %s\n", what, err);
  }
  return rk;
}

void apply_properties(rd_kafka_conf_t* conf, const common_options& o) {
  for (const auto& kv : o.properties) {
    std::string key, value;
    if (!rdk::split_property(kv, key, value)) {
      std::fprintf(stderr, "strata bench: -X expects key=value, got '%s'\n", kv.c_str());
      std::exit(2);
    }
    conf_set(conf, key, value);
  }
}

namespace {

// Partition count of `topic` from a Metadata request for all topics (one for
// the topic alone would auto-create it on a broker that allows that): -1 if
// the request failed, 0 if the topic is absent or has no partitions yet.
int metadata_partitions(rd_kafka_t* rk, const std::string& topic, rd_kafka_resp_err_t* topic_err) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, 10'000);
  if (err) {
    *topic_err = err;
    return -1;
  }
  int n = 0;
  *topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic == md->topics[i].topic) {
      *topic_err = md->topics[i].err;
      n = md->topics[i].err ? 0 : md->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return n;
}

}  // namespace

int ensure_topic(rd_kafka_t* rk, const std::string& topic, int partitions, bool quiet) {
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int n = metadata_partitions(rk, topic, &err);
  if (n < 0) {
    std::fprintf(stderr, "strata bench: Metadata: %s\n", rd_kafka_err2str(err));
    return -1;
  }
  if (n == 0 && partitions > 0) {
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    char errstr[512];
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, errstr, sizeof errstr);
    if (!nt) {
      std::fprintf(stderr, "strata bench: topic %s: %s\n", topic.c_str(), errstr);
      rd_kafka_queue_destroy(q);
      return -1;
    }
    rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 10'000, errstr, sizeof errstr);
    rd_kafka_AdminOptions_set_request_timeout(opts, 10'000, errstr, sizeof errstr);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 15'000);
    if (!ev) {
      std::fprintf(stderr, "strata bench: CreateTopics %s: no answer\n", topic.c_str());
    } else if (rd_kafka_event_error(ev)) {
      // The librdkafka mock has no CreateTopics: its topics come from `mock-broker --topic`.
      if (!quiet && rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE)
        std::fprintf(stderr, "strata bench: CreateTopics %s: %s\n", topic.c_str(), rd_kafka_event_error_string(ev));
    } else {
      const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
      size_t count = 0;
      const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &count);
      for (size_t i = 0; i < count; ++i) {
        auto e = rd_kafka_topic_result_error(results[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
          std::fprintf(stderr, "strata bench: CreateTopics %s: %s\n", topic.c_str(),
                       rd_kafka_topic_result_error_string(results[i]));
      }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
  } else if (n == 0) {
    // No --partitions: a Metadata request for the topic alone lets a producer
    // have the broker auto-create it (consumers do not ask for that).
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
  }
  // A new topic may answer LEADER_NOT_AVAILABLE for a moment.
  for (int attempt = 0; attempt < 50 && n <= 0; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    n = metadata_partitions(rk, topic, &err);
  }
  if (n <= 0) {
    std::fprintf(stderr, "strata bench: topic %s: no partitions in Metadata (%s)\n", topic.c_str(),
                 rd_kafka_err2name(err));
    return -1;
  }
  if (partitions > 0 && n != partitions && !quiet)
    std::fprintf(stderr, "strata bench: topic %s has %d partitions, not %d (it existed already)\n", topic.c_str(), n,
                 partitions);
  return n;
}

std::string fmt_latency_us(std::uint64_t us) {
  if (us < 1000) return fmt::format("{} µs", us);
  if (us < 1'000'000) return fmt::format("{:.2f} ms", static_cast<double>(us) / 1e3);
  return fmt::format("{:.3f} s", static_cast<double>(us) / 1e6);
}

void print_progress(const std::string& mode, double t, std::int64_t interval_msgs, std::int64_t interval_bytes,
                    double interval_s, std::int64_t total, const histogram* lat, std::int64_t errors) {
  double rate = interval_s > 0 ? static_cast<double>(interval_msgs) / interval_s : 0;
  double mib = interval_s > 0 ? static_cast<double>(interval_bytes) / interval_s / (1024.0 * 1024.0) : 0;
  std::string line = fmt::format("{:<8}{:6.1f} s {:>10.0f} msg/s {:>8.2f} MiB/s  total {:>10}", mode, t, rate, mib,
                                 total);
  if (lat && lat->count())
    line += fmt::format("  p50 {}  p99 {}  max {}", fmt_latency_us(lat->percentile(0.50)),
                        fmt_latency_us(lat->percentile(0.99)), fmt_latency_us(lat->max()));
  if (errors) line += fmt::format("  errors {}", errors);
  std::fprintf(stderr, "%s\n", line.c_str());
}

void print_summary(const run_summary& s, bool json) {
  double rate = s.elapsed_s > 0 ? static_cast<double>(s.messages) / s.elapsed_s : 0;
  double mib = s.elapsed_s > 0 ? static_cast<double>(s.bytes) / s.elapsed_s / (1024.0 * 1024.0) : 0;
  if (json) {
    std::string out = fmt::format("{{\"mode\":\"{}\"", s.mode);
    for (const auto& [k, v] : s.params) out += fmt::format(",\"{}\":\"{}\"", json_escape(k), json_escape(v));
    out += fmt::format(
        ",\"messages\":{},\"bytes\":{},\"errors\":{},\"elapsed_s\":{:.6f},\"msgs_per_sec\":{:.1f},\"mib_per_sec\":{:.3f}",
        s.messages, s.bytes, s.errors, s.elapsed_s, rate, mib);
    if (s.latency) {
      const histogram& h = *s.latency;
      out += fmt::format(
          ",\"latency_us\":{{\"what\":\"{}\",\"count\":{},\"min\":{},\"mean\":{:.1f},\"p50\":{},\"p90\":{},\"p99\":{},"
          "\"p999\":{},\"max\":{}}}",
          json_escape(s.latency_what), h.count(), h.min(), h.mean(), h.percentile(0.5), h.percentile(0.9),
          h.percentile(0.99), h.percentile(0.999), h.max());
    }
    out += "}";
    std::printf("%s\n", out.c_str());
  } else {
    std::string settings;
    for (const auto& [k, v] : s.params) settings += fmt::format(" {}={}", k, v);
    std::printf("%s:%s\n", s.mode.c_str(), settings.c_str());
    std::printf("  %lld messages, %.2f MiB in %.3f s: %.0f msg/s, %.2f MiB/s, %lld errors\n",
                static_cast<long long>(s.messages), static_cast<double>(s.bytes) / (1024.0 * 1024.0), s.elapsed_s,
                rate, mib, static_cast<long long>(s.errors));
    if (s.latency && s.latency->count()) {
      const histogram& h = *s.latency;
      std::printf("  latency (%s): p50 %s  p99 %s  p99.9 %s  max %s  (min %s, mean %s, n=%llu)\n",
                  s.latency_what.c_str(), fmt_latency_us(h.percentile(0.5)).c_str(),
                  fmt_latency_us(h.percentile(0.99)).c_str(), fmt_latency_us(h.percentile(0.999)).c_str(),
                  fmt_latency_us(h.max()).c_str(), fmt_latency_us(h.min()).c_str(),
                  fmt_latency_us(static_cast<std::uint64_t>(h.mean())).c_str(),
                  static_cast<unsigned long long>(h.count()));
    }
  }
  std::fflush(stdout);
}

}  // namespace strata::cli::bench
