// `strata produce TOPIC`: one message per input line (stdin or --file), as
// Kafka's kafka-console-producer and kcat -P, on a librdkafka producer.
//
// Order of work: connect and look the topic up first (a broker that cannot be
// reached or a missing topic fails in one line before any input is read),
// then read and send lines, then wait for every delivery report. Exit codes:
// 0 all delivered, 1 a delivery or connection failed, 2 bad input or flags,
// 130 interrupted (after flushing what was read).
#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli/rdkafka_util.h"

namespace strata::cli {
namespace {

struct produce_options {
  rdk::client_options client;
  std::string topic;
  std::string file;  // empty or "-": stdin
  std::string key_separator;
  std::vector<std::string> headers;  // k=v, on every message
  bool parse_headers = false;        // each line: k=v,k=v<TAB>rest
  std::string compression = "none";
  std::string acks = "all";
  int partition = -1;
  int linger_ms = 5;
  int delivery_timeout_ms = 30'000;
  bool quiet = false;
};

struct header {
  std::string name;
  std::string value;
};

// Conf opaque: the base part serves the log/error callbacks, the rest counts
// delivery reports. Reports are served by rd_kafka_poll/flush on the main
// thread, so the counters need no locking.
struct producer_state : rdk::client_state {
  using rdk::client_state::client_state;
  std::int64_t delivered = 0;
  std::int64_t failed = 0;
  std::string first_error;
};

void dr_msg_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<producer_state*>(static_cast<rdk::client_state*>(opaque));
  if (!m->err) {
    ++st->delivered;
    return;
  }
  if (st->failed++ == 0) st->first_error = rd_kafka_err2str(m->err);
}

void error_line(const std::string& what) { std::fprintf(stderr, "strata produce: error: %s\n", what.c_str()); }

bool parse_header(std::string_view s, header& h) {
  auto eq = s.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  h.name = std::string(s.substr(0, eq));
  h.value = std::string(s.substr(eq + 1));
  return true;
}

// "k=v,k2=v2" (empty: no headers).
bool parse_header_list(std::string_view s, std::vector<header>& out) {
  while (!s.empty()) {
    auto comma = s.find(',');
    header h;
    if (!parse_header(s.substr(0, comma), h)) return false;
    out.push_back(std::move(h));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return true;
}

class line_reader {
 public:
  ~line_reader() {
    std::free(buf_);
    if (fp_ && fp_ != stdin) std::fclose(fp_);
  }
  bool open(const std::string& path, std::string& err) {
    if (path.empty() || path == "-") {
      fp_ = stdin;
      return true;
    }
    fp_ = std::fopen(path.c_str(), "rb");
    if (!fp_) err = "cannot open " + path + ": " + std::strerror(errno);
    return fp_ != nullptr;
  }
  // The next line without its '\n' (a last line without one counts too);
  // nullopt at the end of input, on a read error, or when interrupted.
  std::optional<std::string_view> next() {
    errno = 0;
    ssize_t n = getline(&buf_, &cap_, fp_);
    if (n < 0) {
      if (errno && errno != EINTR) error_ = std::strerror(errno);
      return std::nullopt;
    }
    if (n > 0 && buf_[n - 1] == '\n') --n;
    return std::string_view(buf_, static_cast<std::size_t>(n));
  }
  const std::string& error() const { return error_; }

 private:
  FILE* fp_ = nullptr;
  char* buf_ = nullptr;
  std::size_t cap_ = 0;
  std::string error_;
};

rd_kafka_vu_t vu_header(const header& h) {
  rd_kafka_vu_t v{};
  v.vtype = RD_KAFKA_VTYPE_HEADER;
  v.u.header.name = h.name.c_str();
  v.u.header.val = h.value.data();
  v.u.header.size = static_cast<ssize_t>(h.value.size());
  return v;
}

// Sends one message (librdkafka copies everything), waiting while its queue
// is full. Returns an error string, or "" when queued.
std::string send(rd_kafka_t* rk, const produce_options& o, std::optional<std::string_view> key, std::string_view value,
                 const std::vector<header>& fixed, const std::vector<header>& per_line) {
  std::vector<rd_kafka_vu_t> vus;
  vus.reserve(5 + fixed.size() + per_line.size());
  rd_kafka_vu_t v{};
  v.vtype = RD_KAFKA_VTYPE_TOPIC;
  v.u.cstr = o.topic.c_str();
  vus.push_back(v);
  v = {};
  v.vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  v.u.i = RD_KAFKA_MSG_F_COPY;
  vus.push_back(v);
  if (o.partition >= 0) {
    v = {};
    v.vtype = RD_KAFKA_VTYPE_PARTITION;
    v.u.i32 = o.partition;
    vus.push_back(v);
  }
  v = {};
  v.vtype = RD_KAFKA_VTYPE_VALUE;
  v.u.mem.ptr = const_cast<char*>(value.data());
  v.u.mem.size = value.size();
  vus.push_back(v);
  if (key) {  // absent: a null key
    v = {};
    v.vtype = RD_KAFKA_VTYPE_KEY;
    v.u.mem.ptr = const_cast<char*>(key->data());
    v.u.mem.size = key->size();
    vus.push_back(v);
  }
  for (const auto& h : fixed) vus.push_back(vu_header(h));
  for (const auto& h : per_line) vus.push_back(vu_header(h));
  for (;;) {
    rd_kafka_error_t* e = rd_kafka_produceva(rk, vus.data(), vus.size());
    if (!e) return {};
    const bool full = rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR__QUEUE_FULL;
    std::string what = rd_kafka_error_string(e);
    rd_kafka_error_destroy(e);
    if (!full) return what;
    rd_kafka_poll(rk, 100);  // serve delivery reports to make room
  }
}

int run(const produce_options& o) {
  std::vector<header> fixed;
  for (const auto& s : o.headers) {
    header h;
    if (!parse_header(s, h)) {
      error_line("--header expects key=value, got '" + s + "'");
      return 2;
    }
    fixed.push_back(std::move(h));
  }
  line_reader in;
  std::string err;
  if (!in.open(o.file, err)) {
    error_line(err);
    return 2;
  }

  producer_state state(o.client.verbose);
  rd_kafka_conf_t* conf = rdk::make_conf(o.client, "strata-produce", &state, err);
  if (!conf) {
    error_line(err);
    return 2;
  }
  const bool ok = rdk::conf_set(conf, "acks", o.acks, err) &&
                  rdk::conf_set(conf, "compression.codec", o.compression, err) &&
                  rdk::conf_set(conf, "linger.ms", std::to_string(o.linger_ms), err) &&
                  rdk::conf_set(conf, "message.timeout.ms", std::to_string(o.delivery_timeout_ms), err) &&
                  rdk::apply_user_properties(conf, o.client, err);  // the user's -X wins
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    error_line(err);
    return 2;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  int partitions = 0, exit_code = 0;
  rd_kafka_t* rk = rdk::start_client(false, conf, o.topic, o.partition, o.client, state, partitions, err, exit_code);
  if (!rk) {
    error_line(err);
    return exit_code;
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> guard(rk, rd_kafka_destroy);

  std::int64_t sent = 0, line_no = 0;
  std::string input_error;
  std::vector<header> per_line;
  while (!rdk::stop_requested()) {
    auto line = in.next();
    if (!line) break;
    ++line_no;
    std::string_view rest = *line;
    per_line.clear();
    if (o.parse_headers) {
      auto tab = rest.find('\t');
      if (tab == std::string_view::npos || !parse_header_list(rest.substr(0, tab), per_line)) {
        input_error = "line " + std::to_string(line_no) + ": expected headers k=v[,k=v...] and a tab before the message";
        break;
      }
      rest.remove_prefix(tab + 1);
    }
    std::optional<std::string_view> key;
    if (!o.key_separator.empty()) {
      // As kcat -K: a line without the separator is a value with a null key.
      auto sep = rest.find(o.key_separator);
      if (sep != std::string_view::npos) {
        key = rest.substr(0, sep);
        rest.remove_prefix(sep + o.key_separator.size());
      }
    }
    std::string e = send(rk, o, key, rest, fixed, per_line);
    if (!e.empty()) {
      input_error = "line " + std::to_string(line_no) + ": " + e;
      break;
    }
    ++sent;
    rd_kafka_poll(rk, 0);
  }
  if (input_error.empty() && !in.error().empty()) input_error = "reading input: " + in.error();

  // Every queued message gets a report within message.timeout.ms; the extra
  // second covers the report's own trip.
  const std::int64_t flush_deadline = rdk::monotonic_ms() + o.delivery_timeout_ms + 1000;
  while (rd_kafka_outq_len(rk) > 0 && rdk::monotonic_ms() < flush_deadline) rd_kafka_flush(rk, 100);
  rd_kafka_poll(rk, 0);

  const std::int64_t unreported = sent - state.delivered - state.failed;
  if (state.failed > 0 || unreported > 0) {
    std::string why = state.failed ? state.first_error : "no delivery report";
    // A timeout says little by itself: name the connection problem behind it.
    const std::string conn = state.last_error();
    if (!conn.empty()) why += " (last connection error: " + conn + ")";
    error_line(std::to_string(state.failed + unreported) + " of " + std::to_string(sent) + " messages to '" + o.topic +
               "' failed: " + why);
    return 1;
  }
  if (!input_error.empty()) {
    error_line(input_error + " (" + std::to_string(sent) + " earlier messages were delivered)");
    return 2;
  }
  if (!o.quiet)
    std::fprintf(stderr, "strata produce: %lld message%s to %s\n", static_cast<long long>(sent), sent == 1 ? "" : "s",
                 o.topic.c_str());
  return rdk::stop_requested() ? 130 : 0;
}

}  // namespace

void register_produce(CLI::App& app) {
  auto o = std::make_shared<produce_options>();
  auto* cmd = app.add_subcommand(
      "produce", "Send one message per line of stdin (or --file) to TOPIC, like kafka-console-producer and kcat -P.");
  cmd->footer(
      "Lines end at \\n only (a \\r before it stays in the message); an empty line is an empty message. Waits for "
      "every delivery report, then prints `N messages to TOPIC` on stderr; exits 1 with one error line if any "
      "delivery failed or the broker cannot be reached, 2 on bad input.\n"
      "Example: printf 'k1:hello\\nk2:bye\\n' | strata produce greetings --key-separator :");
  cmd->add_option("topic", o->topic, "Topic to write to (created on first use if the broker allows it)")->required();
  rdk::add_client_options(cmd, o->client, "--producer-property");
  cmd->add_option("-f,--file", o->file, "Read lines from this file instead of stdin");
  cmd->add_option("-K,--key-separator", o->key_separator,
                  "Split each line at the first occurrence of this string into key and value; a line without it "
                  "is sent with a null key");
  cmd->add_option("-H,--header", o->headers, "Header key=value added to every message (repeatable)");
  cmd->add_flag("--parse-headers", o->parse_headers,
                "Each line starts with its own headers, key=value[,key=value...], then a tab, then the "
                "(key and) value");
  cmd->add_option("-z,--compression", o->compression, "none, gzip, snappy, lz4 or zstd")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  cmd->add_option("-a,--acks", o->acks, "0, 1 or all")
      ->capture_default_str()
      ->check(CLI::IsMember({"0", "1", "all", "-1"}));
  cmd->add_option("-p,--partition", o->partition,
                  "Send every message to this partition (default: librdkafka's partitioner, by key hash)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--linger-ms", o->linger_ms, "Wait this long to fill a batch (librdkafka linger.ms)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--delivery-timeout-ms", o->delivery_timeout_ms,
                  "A message not acknowledged within this time fails (librdkafka message.timeout.ms)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-q,--quiet", o->quiet, "No summary line on success");
  cmd->callback([o] { set_exit_code(run(*o)); });
}

}  // namespace strata::cli
