// `strata consume TOPIC`: print messages, one per line, as Kafka's
// kafka-console-consumer and kcat -C, on a librdkafka consumer.
//
// Without --group the partitions are assigned directly and nothing is
// committed; with --group the consumer joins the group (subscribe) and
// commits what it printed: every few seconds, when partitions are revoked,
// and synchronously before exiting.
//
// Start positions (like Kafka's console consumer, committed offsets of a
// --group win over --from-beginning and the default end; --offset and
// --from-timestamp override them):
//   default            the end: only messages produced from now on
//   --from-beginning   the log start
//   --offset N         offset N (N < 0: |N| messages before the end)
//   --from-timestamp   the first message with a timestamp >= T (ListOffsets by
//                      time); the end where there is none
// The end is resolved to a concrete offset before the "reading" line is
// printed on stderr, so anything produced after that line is seen.
//
// Exit codes: 0 done (end, --max-messages, idle --timeout-ms, Ctrl-C), 1 an
// error (cannot connect, unknown topic, fewer than --max-messages before the
// timeout, a failed commit), 2 bad flags.
#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/rdkafka_util.h"

namespace strata::cli {
namespace {

struct consume_options {
  rdk::client_options client;
  std::string topic;
  std::string group;
  bool from_beginning = false;
  std::int64_t offset = 0;
  bool offset_set = false;
  std::string from_timestamp;
  int partition = -1;
  std::int64_t max_messages = 0;
  int timeout_ms = 0;
  bool exit_at_end = false;
  std::string format = "%v";
  bool quiet = false;
};

constexpr const char* format_help =
    "Output format; a newline follows each message unless the format already ends with \\n. "
    "Placeholders: %k key, %v value (%s also), %p partition, %o offset, %t timestamp (ms since the epoch), "
    "%T topic, %h headers as k=v,k=v, %K key length, %S value length (-1 if null), %% a percent sign; "
    "escapes \\n \\t \\r \\\\. A null key or value prints as nothing.";

// ---- output format --------------------------------------------------------

// A format compiled once: literal text and placeholder letters in turn.
struct format_piece {
  char field = 0;  // 0: literal
  std::string text;
};

bool compile_format(const std::string& f, std::vector<format_piece>& out, std::string& err) {
  std::string lit;
  auto flush = [&] {
    if (!lit.empty()) out.push_back({0, std::move(lit)});
    lit.clear();
  };
  for (std::size_t i = 0; i < f.size(); ++i) {
    const char c = f[i];
    if ((c == '%' || c == '\\') && i + 1 == f.size()) {
      err = std::string("--format ends with a lone '") + c + "'";
      return false;
    }
    if (c == '\\') {
      const char n = f[++i];
      if (n == 'n') lit += '\n';
      else if (n == 't') lit += '\t';
      else if (n == 'r') lit += '\r';
      else if (n == '\\') lit += '\\';
      else {
        err = std::string("--format: unknown escape \\") + n;
        return false;
      }
    } else if (c == '%') {
      const char n = f[++i];
      if (n == '%') {
        lit += '%';
      } else if (std::strchr("kvspotThKS", n)) {
        flush();
        out.push_back({n == 's' ? 'v' : n, {}});
      } else {
        err = std::string("--format: unknown placeholder %") + n + " (see --help)";
        return false;
      }
    } else {
      lit += c;
    }
  }
  if (lit.empty() || lit.back() != '\n') lit += '\n';
  flush();
  return true;
}

void render(const std::vector<format_piece>& fmt, const rd_kafka_message_t* m, std::string& out) {
  out.clear();
  for (const auto& p : fmt) {
    switch (p.field) {
      case 0: out += p.text; break;
      case 'k':
        if (m->key) out.append(static_cast<const char*>(m->key), m->key_len);
        break;
      case 'v':
        if (m->payload) out.append(static_cast<const char*>(m->payload), m->len);
        break;
      case 'K': out += m->key ? std::to_string(m->key_len) : "-1"; break;
      case 'S': out += m->payload ? std::to_string(m->len) : "-1"; break;
      case 'p': out += std::to_string(m->partition); break;
      case 'o': out += std::to_string(m->offset); break;
      case 't': out += std::to_string(rd_kafka_message_timestamp(m, nullptr)); break;
      case 'T': out += rd_kafka_topic_name(m->rkt); break;
      case 'h': {
        rd_kafka_headers_t* hdrs = nullptr;
        if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
        const char* name;
        const void* val;
        std::size_t size;
        for (std::size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          if (i) out += ',';
          out += name;
          if (val) {  // a null-valued header prints as its name alone
            out += '=';
            out.append(static_cast<const char*>(val), size);
          }
        }
        break;
      }
    }
  }
}

// ---- start positions ------------------------------------------------------

enum class start_kind { end, beginning, offset, timestamp };

struct start_spec {
  start_kind kind = start_kind::end;
  std::int64_t value = 0;  // the offset or the timestamp
};

// "1700000000000" (ms) or ISO 8601 "2024-05-01T12:00:00[.123][Z|+02:00]";
// without a zone the time is UTC.
bool parse_timestamp(const std::string& s, std::int64_t& ms) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) {
    ms = std::stoll(s);
    return true;
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed) != 3 || consumed != 10)
    return false;
  std::size_t i = 10;
  std::int64_t frac_ms = 0, zone_s = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    int n = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 3 || n != 8)
      return false;
    i += 1 + 8;
    if (i < s.size() && s[i] == '.') {
      int digits = 0;
      for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++digits)
        if (digits < 3) frac_ms = frac_ms * 10 + (s[i] - '0');
      if (digits == 0) return false;
      for (; digits < 3; ++digits) frac_ms *= 10;
    }
  }
  if (i < s.size()) {
    if (s[i] == 'Z' && i + 1 == s.size()) {
      i = s.size();
    } else if (s[i] == '+' || s[i] == '-') {
      int hh = 0, mm = 0, n = 0;
      if (std::sscanf(s.c_str() + i + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5 || i + 6 != s.size()) return false;
      zone_s = (s[i] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
      i = s.size();
    } else {
      return false;
    }
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return false;
  ms = (static_cast<std::int64_t>(t) - zone_s) * 1000 + frac_ms;
  return true;
}

// Fills the offsets of `tpl` for `spec`. The end is asked for explicitly (the
// high watermark) rather than left to librdkafka's lazy OFFSET_END, so that
// the position is fixed once this returns.
bool resolve_start(rd_kafka_t* rk, rd_kafka_topic_partition_list_t* tpl, const start_spec& spec, int timeout_ms,
                   std::string& err) {
  auto high_watermark = [&](rd_kafka_topic_partition_t& tp) {
    std::int64_t lo = 0, hi = 0;
    auto e = rd_kafka_query_watermark_offsets(rk, tp.topic, tp.partition, &lo, &hi, timeout_ms);
    if (e) {
      err = "end offset of partition " + std::to_string(tp.partition) + ": " + rd_kafka_err2str(e);
      return false;
    }
    tp.offset = hi;
    return true;
  };
  if (spec.kind == start_kind::timestamp) {
    for (int i = 0; i < tpl->cnt; ++i) tpl->elems[i].offset = spec.value;
    auto e = rd_kafka_offsets_for_times(rk, tpl, timeout_ms);
    if (e) {
      err = std::string("offsets for timestamp: ") + rd_kafka_err2str(e);
      return false;
    }
  }
  for (int i = 0; i < tpl->cnt; ++i) {
    rd_kafka_topic_partition_t& tp = tpl->elems[i];
    switch (spec.kind) {
      case start_kind::end:
        if (!high_watermark(tp)) return false;
        break;
      case start_kind::beginning: tp.offset = RD_KAFKA_OFFSET_BEGINNING; break;
      case start_kind::offset: tp.offset = spec.value >= 0 ? spec.value : RD_KAFKA_OFFSET_TAIL(-spec.value); break;
      case start_kind::timestamp:
        if (tp.err) {
          err = "offset for timestamp in partition " + std::to_string(tp.partition) + ": " + rd_kafka_err2str(tp.err);
          return false;
        }
        // -1: no message at or after the timestamp; start at the end.
        if (tp.offset < 0 && !high_watermark(tp)) return false;
        break;
    }
  }
  return true;
}

// ---- the consumer ---------------------------------------------------------

// Conf opaque (the base part serves the log/error callbacks). Touched only on
// the main thread: the rebalance callback runs inside rd_kafka_consumer_poll.
struct consumer_state : rdk::client_state {
  using rdk::client_state::client_state;
  const consume_options* o = nullptr;
  start_spec start;
  std::set<std::int32_t> assigned;
  std::set<std::int32_t> at_end;
  std::map<std::int32_t, std::int64_t> to_commit;  // partition -> next offset, printed but not committed
  std::string fatal;
};

void error_line(const std::string& what) { std::fprintf(stderr, "strata consume: error: %s\n", what.c_str()); }

std::string partition_list(const std::set<std::int32_t>& ps) {
  std::string s;
  for (auto p : ps) s += (s.empty() ? "" : ",") + std::to_string(p);
  return s;
}

// Commits the offsets printed since the last commit, for `only` (all if null).
// Returns "" or the error.
std::string commit(rd_kafka_t* rk, consumer_state& st, const std::set<std::int32_t>* only, bool async) {
  rd_kafka_topic_partition_list_t* tpl = rd_kafka_topic_partition_list_new(static_cast<int>(st.to_commit.size()));
  for (auto it = st.to_commit.begin(); it != st.to_commit.end();) {
    if (only && !only->count(it->first)) {
      ++it;
      continue;
    }
    rd_kafka_topic_partition_list_add(tpl, st.o->topic.c_str(), it->first)->offset = it->second;
    it = st.to_commit.erase(it);
  }
  std::string err;
  if (tpl->cnt > 0) {
    auto e = rd_kafka_commit(rk, tpl, async ? 1 : 0);
    if (e) err = rd_kafka_err2str(e);
    for (int i = 0; !async && err.empty() && i < tpl->cnt; ++i)
      if (tpl->elems[i].err) err = rd_kafka_err2str(tpl->elems[i].err);
  }
  rd_kafka_topic_partition_list_destroy(tpl);
  return err;
}

void announce(const consumer_state& st) {
  if (st.o->quiet) return;
  std::fprintf(stderr, "strata consume: reading %s partition%s %s%s\n", st.o->topic.c_str(),
               st.assigned.size() == 1 ? "" : "s", partition_list(st.assigned).c_str(),
               st.o->group.empty() ? "" : (" as group " + st.o->group).c_str());
}

void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto& st = *static_cast<consumer_state*>(static_cast<rdk::client_state*>(opaque));
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Committed offsets (or auto.offset.reset) decide where a group member
    // starts, unless --offset / --from-timestamp say otherwise.
    if (st.start.kind == start_kind::offset || st.start.kind == start_kind::timestamp) {
      std::string e;
      if (!resolve_start(rk, parts, st.start, st.o->client.connect_timeout_ms, e)) st.fatal = e;
    }
    for (int i = 0; i < parts->cnt; ++i) st.assigned.insert(parts->elems[i].partition);
    if (cooperative)
      rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, parts));
    else
      rd_kafka_assign(rk, parts);
    announce(st);
    return;
  }
  std::set<std::int32_t> revoked;
  for (int i = 0; i < parts->cnt; ++i) revoked.insert(parts->elems[i].partition);
  // Commit what was printed before another member takes these partitions over.
  if (!rd_kafka_assignment_lost(rk)) {
    std::string e = commit(rk, st, &revoked, false);
    if (!e.empty() && !st.o->quiet) std::fprintf(stderr, "strata consume: commit on revoke: %s\n", e.c_str());
  }
  for (auto p : revoked) {
    st.assigned.erase(p);
    st.at_end.erase(p);
    st.to_commit.erase(p);
  }
  if (cooperative)
    rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, parts));
  else
    rd_kafka_assign(rk, nullptr);
}

// Consumer errors that will not go away by retrying.
bool is_fatal(rd_kafka_resp_err_t e) {
  return e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
         e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
         e == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED || e == RD_KAFKA_RESP_ERR__FATAL ||
         e == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || e == RD_KAFKA_RESP_ERR_INVALID_GROUP_ID;
}

int run(const consume_options& o) {
  std::vector<format_piece> fmt;
  std::string err;
  if (!compile_format(o.format, fmt, err)) {
    error_line(err);
    return 2;
  }
  start_spec start;
  if (o.from_beginning) {
    start.kind = start_kind::beginning;
  } else if (o.offset_set) {
    start = {start_kind::offset, o.offset};
  } else if (!o.from_timestamp.empty()) {
    start.kind = start_kind::timestamp;
    if (!parse_timestamp(o.from_timestamp, start.value)) {
      error_line("--from-timestamp expects milliseconds since the epoch or ISO 8601 (2024-05-01T12:00:00Z), got '" +
                 o.from_timestamp + "'");
      return 2;
    }
  }

  consumer_state st(o.client.verbose);
  st.o = &o;
  st.start = start;
  const bool grouped = !o.group.empty();
  rd_kafka_conf_t* conf = rdk::make_conf(o.client, "strata-consume", &st, err);
  if (!conf) {
    error_line(err);
    return 2;
  }
  // Without --group the id is only required by librdkafka, never used: the
  // partitions are assigned and nothing is committed.
  const bool ok = rdk::conf_set(conf, "group.id", grouped ? o.group : "strata-consume", err) &&
                  rdk::conf_set(conf, "enable.auto.commit", "false", err) &&
                  rdk::conf_set(conf, "enable.partition.eof", "true", err) &&
                  rdk::conf_set(conf, "auto.offset.reset", o.from_beginning ? "earliest" : "latest", err) &&
                  rdk::apply_user_properties(conf, o.client, err);
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    error_line(err);
    return 2;
  }
  if (grouped) rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
  int partitions = 0, exit_code = 0;
  rd_kafka_t* rk = rdk::start_client(true, conf, o.topic, o.partition, o.client, st, partitions, err, exit_code);
  if (!rk) {
    error_line(err);
    return exit_code;
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> guard(rk, rd_kafka_destroy);
  rd_kafka_poll_set_consumer(rk);

  if (grouped) {
    rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
    auto e = rd_kafka_subscribe(rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (e) {
      error_line(std::string("subscribe: ") + rd_kafka_err2str(e));
      return 1;
    }
  } else {
    rd_kafka_topic_partition_list_t* tpl = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; ++p)
      if (o.partition < 0 || o.partition == p) {
        rd_kafka_topic_partition_list_add(tpl, o.topic.c_str(), p);
        st.assigned.insert(p);
      }
    const bool resolved = resolve_start(rk, tpl, start, o.client.connect_timeout_ms, err);
    if (resolved) rd_kafka_assign(rk, tpl);
    rd_kafka_topic_partition_list_destroy(tpl);
    if (!resolved) {
      error_line(err);
      return 1;
    }
    announce(st);
  }

  std::int64_t printed = 0;
  std::int64_t last_activity = rdk::monotonic_ms();
  std::int64_t last_commit = last_activity;
  bool timed_out = false;
  std::string line;
  while (!rdk::stop_requested() && st.fatal.empty()) {
    if (o.max_messages > 0 && printed >= o.max_messages) break;
    if (o.exit_at_end && !st.assigned.empty() && st.at_end.size() == st.assigned.size()) break;
    const std::int64_t now = rdk::monotonic_ms();
    if (o.timeout_ms > 0 && now - last_activity >= o.timeout_ms) {
      timed_out = true;
      break;
    }
    if (grouped && now - last_commit >= 5000) {
      commit(rk, st, nullptr, true);
      last_commit = now;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      st.at_end.insert(m->partition);
    } else if (m->err) {
      if (is_fatal(m->err)) st.fatal = rd_kafka_message_errstr(m);
      else if (o.client.verbose) std::fprintf(stderr, "strata consume: %s\n", rd_kafka_message_errstr(m));
    } else {
      st.at_end.erase(m->partition);
      render(fmt, m, line);
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fflush(stdout);
      ++printed;
      last_activity = rdk::monotonic_ms();
      if (grouped) st.to_commit[m->partition] = m->offset + 1;
    }
    rd_kafka_message_destroy(m);
  }

  int rc = 0;
  if (!st.fatal.empty()) {
    error_line(st.fatal);
    rc = 1;
  } else if (timed_out && o.max_messages > 0 && printed < o.max_messages) {
    error_line("no message for " + std::to_string(o.timeout_ms) + " ms: got " + std::to_string(printed) + " of " +
               std::to_string(o.max_messages) + " messages");
    rc = 1;
  }
  if (grouped) {
    std::string e = commit(rk, st, nullptr, false);
    if (!e.empty()) {
      if (rc == 0) error_line("commit: " + e);
      rc = 1;
    }
  }
  rd_kafka_consumer_close(rk);
  if (!o.quiet)
    std::fprintf(stderr, "strata consume: %lld message%s\n", static_cast<long long>(printed), printed == 1 ? "" : "s");
  if (rc == 0 && rdk::stop_requested()) rc = 130;
  return rc;
}

}  // namespace

void register_consume(CLI::App& app) {
  auto o = std::make_shared<consume_options>();
  auto* cmd = app.add_subcommand(
      "consume", "Print messages of TOPIC, one per line, like kafka-console-consumer and kcat -C.");
  cmd->footer(
      "Starts at the end unless told otherwise; runs until Ctrl-C, --max-messages, --exit-at-end or --timeout-ms. "
      "Exits 1 with one error line if the broker cannot be reached, the topic does not exist, or a commit fails.\n"
      "Example: strata consume greetings --from-beginning --exit-at-end --format '%p %o %k=%v'");
  cmd->add_option("topic", o->topic, "Topic to read")->required();
  rdk::add_client_options(cmd, o->client, "--consumer-property");
  cmd->add_option("-g,--group", o->group,
                  "Consume as a member of this consumer group and commit offsets (its committed offsets take "
                  "precedence over --from-beginning and the default end); without it partitions are assigned "
                  "directly and nothing is committed");
  auto* beg = cmd->add_flag("--from-beginning", o->from_beginning, "Start at the beginning of each partition");
  auto* off = cmd->add_option_function<std::int64_t>(
      "-o,--offset",
      [o](std::int64_t v) {
        o->offset = v;
        o->offset_set = true;
      },
      "Start at this offset in each partition (or in --partition); negative: that many messages before the end");
  auto* ts = cmd->add_option("--from-timestamp", o->from_timestamp,
                             "Start at the first message with a timestamp at or after this time: milliseconds since "
                             "the epoch or ISO 8601 such as 2024-05-01T12:00:00Z (UTC without a zone)");
  beg->excludes(off, ts);
  off->excludes(beg, ts);
  ts->excludes(beg, off);
  auto* part = cmd->add_option("-p,--partition", o->partition, "Read only this partition")
                   ->check(CLI::NonNegativeNumber);
  part->excludes("--group");
  cmd->add_option("-n,--max-messages", o->max_messages, "Exit after printing this many messages")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-e,--exit-at-end", o->exit_at_end, "Exit once every partition read has reached its end (kcat -e)");
  cmd->add_option("--timeout-ms", o->timeout_ms,
                  "Exit when no message arrived for this long, counted from the start and then from the last "
                  "message (an error if --max-messages were not reached)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("-f,--format", o->format, format_help)->capture_default_str();
  cmd->add_flag("-q,--quiet", o->quiet, "No 'reading' and summary lines on stderr");
  cmd->callback([o] { set_exit_code(run(*o)); });
}

}  // namespace strata::cli
