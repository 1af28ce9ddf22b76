// `strata verify`: a checker any user can point at any Kafka-compatible
// cluster. Producers (each its own librdkafka producer on its own thread)
// write unique self-describing values ("strata-verify RUN PRODUCER SEQ");
// consumers (plain assignment, or a group committing after each batch) read
// them back; every send, delivery report, read and commit goes into a history
// that src/verify/checker.h judges: lost, duplicated, reordered, phantom,
// offset conflicts, commits going backwards (violations) versus failed sends
// whose value may or may not be there (indeterminate, legal).
//
// `strata verify check --history FILE` judges a saved history again;
// `--reread` first reads the topic again (what is there now), e.g. after
// faults healed.
//
// Threads: one per producer and per consumer, each appending to its own event
// vector (no locks on the hot path); the main thread prints progress, drives
// the drain and merges the vectors by time at the end. Counters shared with
// the progress line are atomics.
//
// Exit codes: 0 no violation, 1 violations, 2 bad flags or cannot
// connect/create the topic, 3 reading did not reach the end (no violation).
// SIGINT/SIGTERM ends production early; the run is still drained and judged.
#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/rdkafka_util.h"
#include "verify/checker.h"
#include "verify/history.h"
#include "verify/summary.h"

namespace strata::cli {
namespace {

using verify::event;
using verify::event_kind;

struct verify_options {
  rdk::client_options client;
  std::string topic = "strata-verify";
  bool create = false;
  int partitions = 3;
  int replication_factor = -1;
  int min_insync_replicas = -1;
  std::vector<std::string> configs;
  std::string acks = "all";
  bool idempotence = false;
  bool no_idempotence = false;
  int producers = 2;
  double rate = 1000;
  std::int64_t messages = 0;
  double duration = 0;
  int delivery_timeout_ms = 30'000;
  int request_timeout_ms = 0;  // 0: librdkafka's default
  int consumers = 1;
  std::string group;
  double drain_timeout = 60;
  double settle = 10;  // how long a high watermark below an acked offset must stay put before it counts
  std::size_t value_bytes = 0;
  std::string history;
  std::string summary_json;
  bool quiet = false;
  bool no_final_read = false;
  // check
  bool reread = false;
  std::string history_out;
};

void error_line(const std::string& what) { std::fprintf(stderr, "strata verify: error: %s\n", what.c_str()); }

std::int64_t now_ms(std::int64_t start) { return rdk::monotonic_ms() - start; }

// Partition positions and acknowledged offsets, shared by every thread.
struct partition_table {
  explicit partition_table(int n)
      : count(n), position(new std::atomic<std::int64_t>[n]), max_acked(new std::atomic<std::int64_t>[n]) {
    for (int i = 0; i < n; ++i) {
      position[i] = -1;
      max_acked[i] = -1;
    }
  }
  static void raise(std::atomic<std::int64_t>& a, std::int64_t v) {
    std::int64_t cur = a.load();
    while (v > cur && !a.compare_exchange_weak(cur, v)) {
    }
  }
  const int count;
  std::unique_ptr<std::atomic<std::int64_t>[]> position;   // next offset reading reached (-1: none yet)
  std::unique_ptr<std::atomic<std::int64_t>[]> max_acked;  // highest acknowledged offset
};

struct run_state {
  std::int64_t start_ms = 0;
  std::string run_id;
  std::string topic;
  std::atomic<std::int64_t> sent{0}, acked{0}, failed{0}, read{0}, foreign{0};
  std::atomic<bool> stop_producing{false}, stop_consuming{false};
  std::unique_ptr<partition_table> parts;
};

// ---- producers ------------------------------------------------------------

// Conf opaque of one producer: the base serves librdkafka's log/error
// callbacks; delivery reports run on the producer's own thread (rd_kafka_poll)
// and append to its vector.
struct producer_ctx : rdk::client_state {
  producer_ctx(bool verbose, run_state& rs, int id) : rdk::client_state(verbose), run(rs), id(id) {}
  run_state& run;
  const int id;
  rd_kafka_t* rk = nullptr;
  std::vector<event> events;  // complete once events_ready is set
  std::int64_t quota = 0;     // messages to send (0: until the duration ends)
  std::atomic<bool> events_ready{false}, done{false};
};

void dr_msg_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* p = static_cast<producer_ctx*>(static_cast<rdk::client_state*>(opaque));
  event e;
  e.time_ms = now_ms(p->run.start_ms);
  e.producer = p->id;
  e.seq = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(m->_private));
  e.partition = m->partition;
  if (!m->err) {
    e.kind = event_kind::ack;
    e.offset = m->offset;  // RD_KAFKA_OFFSET_INVALID (-1001) with acks=0
    if (e.offset < 0) e.offset = -1;
    if (e.offset >= 0 && e.partition >= 0 && e.partition < p->run.parts->count)
      partition_table::raise(p->run.parts->max_acked[e.partition], e.offset);
    ++p->run.acked;
  } else {
    e.kind = event_kind::fail;
    e.error = rd_kafka_err2name(m->err);
    e.error_code = m->err;
    ++p->run.failed;
  }
  p->events.push_back(std::move(e));
}

void produce_loop(producer_ctx& p, const verify_options& o, std::int64_t deadline_ms) {
  const double rate = o.rate > 0 ? o.rate / o.producers : 0;
  const std::int64_t begin = rdk::monotonic_ms();
  std::int64_t seq = 0;
  while (!p.run.stop_producing && !rdk::stop_requested()) {
    if (p.quota > 0 && seq >= p.quota) break;
    if (deadline_ms > 0 && rdk::monotonic_ms() >= deadline_ms) break;
    if (rate > 0) {
      // Paced from the start, so the schedule does not drift. Sends are
      // asynchronous: an unavailable cluster does not slow it down (values
      // wait in librdkafka's queue until they are acked or time out); only a
      // full queue does, and then a burst catches up.
      const auto due = begin + static_cast<std::int64_t>(static_cast<double>(seq) * 1000.0 / rate);
      const std::int64_t wait = due - rdk::monotonic_ms();
      if (wait > 0) {
        rd_kafka_poll(p.rk, static_cast<int>(std::min<std::int64_t>(wait, 100)));
        continue;
      }
    }
    const std::string value = verify::make_value(p.run.run_id, p.id, seq, o.value_bytes);
    const int partition = static_cast<int>((seq + p.id) % p.run.parts->count);
    event e;
    e.kind = event_kind::send;
    e.time_ms = now_ms(p.run.start_ms);
    e.producer = p.id;
    e.seq = seq;
    e.partition = partition;
    p.events.push_back(e);
    ++p.run.sent;
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          p.rk, RD_KAFKA_V_TOPIC(p.run.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::intptr_t>(seq))), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !rdk::stop_requested()) {
        rd_kafka_poll(p.rk, 50);
        continue;
      }
      // Not queued at all: it cannot be there, but say so as a failed send.
      event f = e;
      f.kind = event_kind::fail;
      f.time_ms = now_ms(p.run.start_ms);
      f.error = rd_kafka_err2name(err);
      f.error_code = err;
      p.events.push_back(std::move(f));
      ++p.run.failed;
      break;
    }
    ++seq;
    rd_kafka_poll(p.rk, 0);
    if (rd_kafka_fatal_error(p.rk, nullptr, 0)) break;
  }
  // An idempotent producer that gave up (e.g. on a sequence gap the broker
  // reported) sends nothing more: worth a line, it says something about the
  // cluster. Its queued messages fail (indeterminate).
  char why[512];
  if (rd_kafka_fatal_error(p.rk, why, sizeof why))
    std::fprintf(stderr, "strata verify: producer %d stopped on a fatal error: %s\n", p.id, why);
  // Every queued message gets its report within message.timeout.ms.
  const std::int64_t flush_deadline = rdk::monotonic_ms() + o.delivery_timeout_ms + 5000;
  while (rd_kafka_outq_len(p.rk) > 0 && rdk::monotonic_ms() < flush_deadline) rd_kafka_flush(p.rk, 100);
  // Whatever is still unreported (interrupted, or librdkafka overran its
  // timeout) fails now, as indeterminate: in flight, it may have been written.
  rd_kafka_purge(p.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
  rd_kafka_poll(p.rk, 0);
}

// ---- consumers ------------------------------------------------------------

// One consumer. Its events are locked (briefly, never across a poll or a
// commit) because a consumer stuck in a commit or a close while the cluster
// is down is abandoned after a while, and the main thread takes what it read.
struct consumer_ctx : rdk::client_state {
  consumer_ctx(bool verbose, run_state& rs, int id) : rdk::client_state(verbose), run(rs), id(id) {}
  void add(event e) {
    std::lock_guard lock(mu);
    events.push_back(std::move(e));
  }
  run_state& run;
  const int id;
  rd_kafka_t* rk = nullptr;
  std::mutex mu;
  std::vector<event> events;  // guarded by mu
  std::atomic<bool> done{false};
  bool final_read = false;  // its reads are the final read's
};

// Commits the batch's offsets of the partitions this member still owns. A
// partition revoked by a rebalance (handled inside the previous poll) is
// skipped: its new owner may already have fetched the committed offset, and a
// late commit from here would make the group's commits go backwards for a
// reason that is this client's, not the cluster's.
void commit_batch(consumer_ctx& c, const std::string& group, const std::vector<std::int64_t>& next) {
  rd_kafka_topic_partition_list_t* owned = nullptr;
  if (rd_kafka_assignment(c.rk, &owned) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(4);
  for (int p = 0; p < static_cast<int>(next.size()); ++p)
    if (next[p] >= 0 && rd_kafka_topic_partition_list_find(owned, c.run.topic.c_str(), p))
      rd_kafka_topic_partition_list_add(list, c.run.topic.c_str(), p)->offset = next[p];
  rd_kafka_topic_partition_list_destroy(owned);
  if (list->cnt > 0 && rd_kafka_commit(c.rk, list, 0) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const std::int64_t t = now_ms(c.run.start_ms);
    for (int i = 0; i < list->cnt; ++i) {
      if (list->elems[i].err) continue;
      event e;
      e.kind = event_kind::commit;
      e.time_ms = t;
      e.group = group;
      e.partition = list->elems[i].partition;
      e.offset = list->elems[i].offset;
      c.add(std::move(e));
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
}

void consume_loop(consumer_ctx& c, const std::string& group) {
  std::vector<std::int64_t> next(c.run.parts->count, -1);  // batch's next offset per partition, for the commit
  bool pending = false;
  int in_batch = 0;  // a batch also ends after 500 records, so commits keep up under a steady stream
  std::string run;
  while (!c.run.stop_consuming) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(c.rk, pending ? 0 : 100);
    if (!m) {
      // The batch ends when nothing more is ready: commit what was processed.
      if (pending && !group.empty()) commit_batch(c, group, next);
      std::fill(next.begin(), next.end(), -1);
      pending = false;
      in_batch = 0;
      continue;
    }
    const int p = m->partition;
    const bool known = p >= 0 && p < c.run.parts->count;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (known) partition_table::raise(c.run.parts->position[p], m->offset);
    } else if (m->err) {
      if (c.verbose()) std::fprintf(stderr, "strata verify: consumer %d: %s\n", c.id, rd_kafka_message_errstr(m));
    } else if (known) {
      event e;
      if (verify::parse_value(static_cast<const char*>(m->payload), m->len, run, e.producer, e.seq) &&
          run == c.run.run_id) {
        e.kind = event_kind::read;
        e.time_ms = now_ms(c.run.start_ms);
        e.consumer = c.id;
        e.partition = p;
        e.offset = m->offset;
        e.final_read = c.final_read;
        c.add(std::move(e));
        ++c.run.read;
      } else {
        ++c.run.foreign;
      }
      partition_table::raise(c.run.parts->position[p], m->offset + 1);
      next[p] = std::max(next[p], m->offset + 1);
      pending = true;
      if (!group.empty() && ++in_batch >= 500) {
        in_batch = 0;
        commit_batch(c, group, next);
        std::fill(next.begin(), next.end(), -1);
        pending = false;
      }
    }
    rd_kafka_message_destroy(m);
  }
  if (pending && !group.empty()) commit_batch(c, group, next);
  if (!group.empty()) rd_kafka_consumer_close(c.rk);
  rd_kafka_destroy(c.rk);
  c.done = true;
}

// ---- setup ----------------------------------------------------------------

std::string random_run_id() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) | rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return std::string(buf, 12);
}

// Creates the topic if missing (an existing one is used as is). "" or an error line.
std::string create_topic(rd_kafka_t* rk, const verify_options& o, const rdk::client_state& state) {
  char errstr[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, o.replication_factor, errstr, sizeof errstr);
  if (!nt) return std::string("topic '") + o.topic + "': " + errstr;
  std::vector<std::pair<std::string, std::string>> configs;
  if (o.min_insync_replicas > 0) configs.emplace_back("min.insync.replicas", std::to_string(o.min_insync_replicas));
  for (const auto& kv : o.configs) {
    std::string k, v;
    if (!rdk::split_property(kv, k, v)) {
      rd_kafka_NewTopic_destroy(nt);
      return "--config expects key=value, got '" + kv + "'";
    }
    configs.emplace_back(k, v);
  }
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, o.client.connect_timeout_ms, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_request_timeout(opts, o.client.connect_timeout_ms, errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
  rd_kafka_event_t* ev = nullptr;
  const std::int64_t deadline = rdk::monotonic_ms() + o.client.connect_timeout_ms + 2000;
  while (!ev && rdk::monotonic_ms() < deadline && !rdk::stop_requested()) {
    ev = rd_kafka_queue_poll(q, 100);
    rd_kafka_poll(rk, 0);  // serves error_cb: the connection error, if any
  }
  std::string err;
  if (!ev) {
    err = "cannot connect to " + o.client.bootstrap + " within " + std::to_string(o.client.connect_timeout_ms) + " ms";
  } else if (rd_kafka_event_error(ev)) {
    const auto code = rd_kafka_event_error(ev);
    if (code == RD_KAFKA_RESP_ERR__TIMED_OUT || code == RD_KAFKA_RESP_ERR__TRANSPORT) {
      const std::string why = state.last_error();
      err = "cannot connect to " + o.client.bootstrap + " within " + std::to_string(o.client.connect_timeout_ms) +
            " ms" + (why.empty() ? std::string() : ": " + why);
    } else {
      err = "creating topic '" + o.topic + "': " + rd_kafka_event_error_string(ev);
    }
  } else {
    std::size_t n = 0;
    const rd_kafka_topic_result_t** res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto e = rd_kafka_topic_result_error(res[i]);
      if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        err = "creating topic '" + o.topic + "': " + rd_kafka_topic_result_error_string(res[i]);
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  return err;
}

// A producer or consumer conf with the command's settings, then the user's -X.
rd_kafka_conf_t* client_conf(const verify_options& o, bool consumer, const std::string& client_id,
                             rdk::client_state* state, std::string& err) {
  rd_kafka_conf_t* conf = rdk::make_conf(o.client, client_id, state, err);
  if (!conf) return nullptr;
  bool ok = true;
  if (!consumer) {
    const bool idem = o.idempotence || (!o.no_idempotence && o.acks == "all");
    ok = rdk::conf_set(conf, "acks", o.acks, err) &&
         rdk::conf_set(conf, "enable.idempotence", idem ? "true" : "false", err) &&
         rdk::conf_set(conf, "message.timeout.ms", std::to_string(o.delivery_timeout_ms), err) &&
         rdk::conf_set(conf, "linger.ms", "5", err) &&
         (o.request_timeout_ms <= 0 ||
          rdk::conf_set(conf, "request.timeout.ms", std::to_string(o.request_timeout_ms), err));
    if (ok) rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  } else {
    ok = rdk::conf_set(conf, "group.id", o.group.empty() ? "strata-verify-assign-only" : o.group, err) &&
         rdk::conf_set(conf, "enable.auto.commit", "false", err) &&
         rdk::conf_set(conf, "enable.auto.offset.store", "false", err) &&
         rdk::conf_set(conf, "auto.offset.reset", "earliest", err) &&
         rdk::conf_set(conf, "enable.partition.eof", "true", err) &&
         rdk::conf_set(conf, "fetch.wait.max.ms", "100", err);
  }
  ok = ok && rdk::apply_user_properties(conf, o.client, err);  // the user's -X wins
  if (ok) return conf;
  rd_kafka_conf_destroy(conf);
  return nullptr;
}

rd_kafka_t* new_client(bool consumer, rd_kafka_conf_t* conf, std::string& err) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    err = errstr;
  }
  return rk;
}

bool bounded_join(std::thread& t, const std::atomic<bool>& done, std::int64_t deadline_ms);

// The consumers of a run or a re-read, on their threads.
class consumer_pool {
 public:
  // final_read: the pool reads everything once more after writing ended.
  consumer_pool(const verify_options& o, run_state& rs, bool final_read = false)
      : o_(o), run_(rs), final_read_(final_read) {}
  ~consumer_pool() {
    stop();
    for (auto* c : consumers_) {
      if (c && c->rk) rd_kafka_destroy(c->rk);  // created, never started
      delete c;
    }
  }

  // Creates every consumer (an error line on a bad configuration).
  std::string create() {
    for (int i = 0; i < o_.consumers; ++i) {
      auto c = std::make_unique<consumer_ctx>(o_.client.verbose, run_, i);
      c->final_read = final_read_;
      std::string err;
      rd_kafka_conf_t* conf = client_conf(o_, true, "strata-verify-consumer-" + std::to_string(i), c.get(), err);
      if (!conf || !(c->rk = new_client(true, conf, err))) return err;
      rd_kafka_poll_set_consumer(c->rk);
      consumers_.push_back(c.release());
    }
    return {};
  }

  void start() {
    const int n = static_cast<int>(consumers_.size());
    for (int i = 0; i < n; ++i) {
      auto& c = *consumers_[i];
      if (o_.group.empty()) {
        rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(run_.parts->count);
        for (int p = i; p < run_.parts->count; p += n)
          rd_kafka_topic_partition_list_add(list, run_.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(c.rk, list);
        rd_kafka_topic_partition_list_destroy(list);
      } else {
        rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, run_.topic.c_str(), RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(c.rk, list);
        rd_kafka_topic_partition_list_destroy(list);
      }
      threads_.emplace_back([this, &c] { consume_loop(c, o_.group); });
    }
  }

  // Stops every consumer. One still stuck after `grace_ms` (a commit or a
  // group close waiting for a coordinator that is down) is abandoned: its
  // thread is detached and its client leaked, and the caller must end the
  // process with std::_Exit once done (abandoned()).
  void stop(std::int64_t grace_ms = 15'000) {
    run_.stop_consuming = true;
    const std::int64_t deadline = rdk::monotonic_ms() + grace_ms;
    for (std::size_t i = 0; i < threads_.size(); ++i) {
      auto* c = consumers_[i];
      if (bounded_join(threads_[i], c->done, deadline)) {
        c->rk = nullptr;  // the thread destroyed it
      } else {
        std::fprintf(stderr, "strata verify: consumer %d did not stop within %lld ms; keeping what it read\n", c->id,
                     static_cast<long long>(grace_ms));
        abandoned_.push_back(c);
        consumers_[i] = nullptr;  // leaked on purpose: the thread may still use it
      }
    }
    threads_.clear();
  }

  bool abandoned() const { return !abandoned_.empty(); }

  void take_events(std::vector<event>& out) {
    auto take = [&](consumer_ctx* c) {
      std::lock_guard lock(c->mu);
      out.insert(out.end(), std::make_move_iterator(c->events.begin()), std::make_move_iterator(c->events.end()));
      c->events.clear();
    };
    for (auto* c : consumers_)
      if (c) take(c);
    for (auto* c : abandoned_) take(c);
  }

 private:
  const verify_options& o_;
  run_state& run_;
  const bool final_read_;
  std::vector<consumer_ctx*> consumers_;  // owned, except those moved to abandoned_
  std::vector<consumer_ctx*> abandoned_;  // leaked: their detached threads may still run
  std::vector<std::thread> threads_;
};

// "verify: 12s sent=... acked=... failed=... read=..." then the phase, if any.
void progress(const run_state& rs, const char* phase) {
  std::fprintf(stderr, "verify: %llds sent=%lld acked=%lld failed=%lld read=%lld%s%s\n",
               static_cast<long long>(now_ms(rs.start_ms) / 1000), static_cast<long long>(rs.sent.load()),
               static_cast<long long>(rs.acked.load()), static_cast<long long>(rs.failed.load()),
               static_cast<long long>(rs.read.load()), *phase ? " " : "", phase);
}

// librdkafka calls that may block past their timeout while a broker is
// stopped (rd_kafka_query_watermark_offsets waits for its reply; destroying a
// client waits for its broker threads) run on helper threads; the main thread
// only waits for them a bounded time. One still stuck is detached and its
// state leaked: the command then ends with std::_Exit (end_now) once its
// output is written.
bool bounded_join(std::thread& t, const std::atomic<bool>& done, std::int64_t deadline_ms) {
  while (!done && rdk::monotonic_ms() < deadline_ms) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (done) {
    t.join();
    return true;
  }
  t.detach();
  return false;
}

// Queries every partition's watermarks in rounds on its own thread, with the
// handle it is given (and destroys). The drain reads the latest values.
class watermark_watcher {
 public:
  watermark_watcher(rd_kafka_t* rk, const std::string& topic, int partitions)
      : rk_(rk), topic_(topic), n_(partitions), low_(new std::atomic<std::int64_t>[partitions]),
        high_(new std::atomic<std::int64_t>[partitions]), high_round_(new std::atomic<std::int64_t>[partitions]),
        last_error_(new std::atomic<int>[partitions]) {
    for (int p = 0; p < n_; ++p) {
      low_[p] = 0;
      high_[p] = -1;
      high_round_[p] = -1;
      last_error_[p] = 0;
    }
  }
  // The last query's error for p (RD_KAFKA_RESP_ERR_NO_ERROR once one answered).
  rd_kafka_resp_err_t last_error(int p) const { return static_cast<rd_kafka_resp_err_t>(last_error_[p].load()); }
  void start() {
    thread_ = std::thread([this] {
      while (!stop_) {
        const std::int64_t r = ++round_;
        for (int p = 0; p < n_ && !stop_; ++p) {
          std::int64_t lo = 0, hi = 0;
          const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk_, topic_.c_str(), p, &lo, &hi, 1000);
          last_error_[p] = err;
          if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            low_[p] = lo;
            high_[p] = hi;
            high_round_[p] = r;
          }
        }
        for (int i = 0; i < 5 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      rd_kafka_destroy(rk_);
      done_ = true;
    });
  }
  // The round a query starting from now belongs to (or a later one).
  std::int64_t next_round() const { return round_.load() + 1; }
  // False until a query of round `since` or later answered for p.
  bool get(int p, std::int64_t since, std::int64_t& lo, std::int64_t& hi) const {
    if (high_round_[p].load() < since) return false;
    lo = low_[p].load();
    hi = high_[p].load();
    return true;
  }
  ~watermark_watcher() {
    if (thread_.joinable()) {  // an early return: not stopped yet
      stop_ = true;
      thread_.join();
    }
  }
  // False if the thread had to be abandoned.
  bool stop(std::int64_t deadline_ms) {
    stop_ = true;
    return !thread_.joinable() || bounded_join(thread_, done_, deadline_ms);
  }

 private:
  rd_kafka_t* const rk_;
  const std::string topic_;
  const int n_;
  std::unique_ptr<std::atomic<std::int64_t>[]> low_, high_, high_round_;
  std::unique_ptr<std::atomic<int>[]> last_error_;
  std::atomic<std::int64_t> round_{0};
  std::atomic<bool> stop_{false}, done_{false};
  std::thread thread_;
};

// After production: reads until every partition's position reached its high
// watermark (as asked after production ended), and every acked offset is
// below that watermark (or the watermark stayed below it for `settle`
// seconds: then the value is not there to read). Appends position events;
// returns whether reading reached the end.
bool drain(const watermark_watcher& wm, const verify_options& o, run_state& rs, std::vector<event>& out) {
  const int n = rs.parts->count;
  const std::int64_t deadline = rdk::monotonic_ms() + static_cast<std::int64_t>(o.drain_timeout * 1000);
  const std::int64_t since = wm.next_round();
  std::vector<std::int64_t> target(n, -1), low(n, 0), changed(n, 0);
  std::int64_t last_progress = rdk::monotonic_ms();
  bool complete = false;
  for (;;) {
    bool all = true;
    for (int p = 0; p < n; ++p) {
      std::int64_t lo = 0, hi = 0;
      if (wm.get(p, since, lo, hi)) {
        low[p] = lo;
        if (hi > target[p]) {
          target[p] = hi;
          changed[p] = rdk::monotonic_ms();
        }
      }
      if (target[p] < 0) {
        all = false;
        continue;
      }
      const std::int64_t acked = rs.parts->max_acked[p].load();
      const bool settled = acked < target[p] || rdk::monotonic_ms() - changed[p] >= o.settle * 1000;
      // An empty partition (low == high) has nothing to read.
      const std::int64_t pos = std::max(rs.parts->position[p].load(), low[p]);
      if (!settled || pos < target[p]) all = false;
    }
    if (all) {
      complete = true;
      break;
    }
    // A first SIGINT/SIGTERM only ends production: the drain still runs
    // (bounded), so that an interrupted run is judged; a second one kills.
    if (rdk::monotonic_ms() >= deadline) {
      // Say why, so a run that cannot finish reading can be examined.
      for (int p = 0; p < n; ++p) {
        if (target[p] < 0)
          std::fprintf(stderr, "verify: partition %d: no high watermark after production (last query: %s)\n", p,
                       rd_kafka_err2str(wm.last_error(p)));
        else if (std::max(rs.parts->position[p].load(), low[p]) < target[p])
          std::fprintf(stderr, "verify: partition %d: read to %lld of high watermark %lld\n", p,
                       static_cast<long long>(std::max(rs.parts->position[p].load(), low[p])),
                       static_cast<long long>(target[p]));
      }
      break;
    }
    if (!o.quiet && rdk::monotonic_ms() - last_progress >= 1000) {
      progress(rs, "(draining)");
      last_progress = rdk::monotonic_ms();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::int64_t t = now_ms(rs.start_ms);
  for (int p = 0; p < n; ++p) {
    event e;
    e.kind = event_kind::position;
    e.time_ms = t;
    e.partition = p;
    e.offset = std::max(rs.parts->position[p].load(), target[p] >= 0 ? low[p] : -1);
    e.high_watermark = target[p];
    out.push_back(std::move(e));
  }
  return complete;
}

// Stable sort by time (the run event stays first, a consumer's commits stay in
// order) without std::stable_sort's buffer of as many events: sorts 4-byte
// indices, then permutes in place.
void sort_by_time(std::vector<event>& events) {
  std::vector<std::uint32_t> order(events.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return events[a].time_ms != events[b].time_ms ? events[a].time_ms < events[b].time_ms : a < b;
  });
  // Position i must receive events[order[i]]: follow each cycle once.
  for (std::uint32_t i = 0; i < order.size(); ++i) {
    if (order[i] == i) continue;
    event tmp = std::move(events[i]);
    std::uint32_t j = i;
    while (order[j] != i) {
      const std::uint32_t k = order[j];
      events[j] = std::move(events[k]);
      order[j] = j;
      j = k;
    }
    events[j] = std::move(tmp);
    order[j] = j;
  }
}

// Ends the process now: an abandoned consumer thread still uses the run's
// state, which returning would destroy.
[[noreturn]] void end_now(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(code);
}

// Sorts by time (stable: the run event stays first), writes --history, checks,
// prints the table, writes --summary-json. Returns the exit code.
int finish(std::vector<event>& events, const verify_options& o, const std::string& history_path) {
  sort_by_time(events);
  if (!history_path.empty()) {
    std::ofstream out(history_path);
    verify::write_history(out, events);
    if (!out) {
      error_line("cannot write history to " + history_path);
      return 2;
    }
  }
  const verify::report r = verify::check(events);
  std::fputs(verify::summary_table(r).c_str(), stdout);
  std::fflush(stdout);
  if (!o.summary_json.empty()) {
    std::ofstream out(o.summary_json);
    out << verify::summary_json(r);
    if (!out) {
      error_line("cannot write summary to " + o.summary_json);
      return 2;
    }
  }
  return r.exit_code();
}

// Connects (bounded by --connect-timeout-ms), creates the topic if asked,
// waits for its partitions. Returns a producer handle used for metadata and
// watermarks, or null with `err`.
rd_kafka_t* connect(const verify_options& o, bool create, rdk::client_state& state, int& partitions,
                    std::string& err) {
  rd_kafka_conf_t* conf = rdk::make_conf(o.client, "strata-verify-admin", &state, err);
  if (!conf) return nullptr;
  // This handle asks each partition's leader for its watermarks, and nothing it does
  // makes librdkafka refresh a stale view: metadata taken from a broker that had just
  // restarted (and not yet heard from the controller) would otherwise stand for the
  // default five minutes, longer than any drain.
  char errstr[256];
  rd_kafka_conf_set(conf, "topic.metadata.refresh.interval.ms", "2000", errstr, sizeof errstr);
  rd_kafka_t* rk = new_client(false, conf, err);
  if (!rk) return nullptr;
  rdk::install_stop_signals();
  if (create) err = create_topic(rk, o, state);
  if (err.empty()) partitions = rdk::wait_for_topic(rk, o.topic, o.client, state, err);
  if (err.empty() && partitions > 0) return rk;
  rd_kafka_destroy(rk);
  return nullptr;
}

bool final_read(const watermark_watcher& wm, const verify_options& o, run_state& rs, std::vector<event>& positions,
                std::vector<event>& events, bool& abandoned);

int run(const verify_options& o) {
  if (o.messages <= 0 && o.duration <= 0) {
    error_line("give --messages N and/or --duration SECONDS");
    return 2;
  }
  if (o.idempotence && o.no_idempotence) {
    error_line("--idempotence and --no-idempotence exclude each other");
    return 2;
  }
  for (const auto& kv : o.configs) {
    std::string k, v;
    if (!rdk::split_property(kv, k, v)) {
      error_line("--config expects key=value, got '" + kv + "'");
      return 2;
    }
  }
  run_state rs;
  rs.start_ms = rdk::monotonic_ms();
  rs.run_id = random_run_id();
  rs.topic = o.topic;
  const bool idem = o.idempotence || (!o.no_idempotence && o.acks == "all");

  // Every client is created before anything runs, so that a bad -X fails
  // with one line and exit 2.
  rdk::client_state admin_state(o.client.verbose);
  std::string err;
  int partitions = 0;
  rd_kafka_t* admin = connect(o, o.create, admin_state, partitions, err);
  if (!admin) {
    error_line(err);
    return 2;
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> admin_guard(admin, rd_kafka_destroy);
  rs.parts = std::make_unique<partition_table>(partitions);

  std::vector<std::unique_ptr<producer_ctx>> producers;
  bool abandoned = false;  // a helper thread stuck in librdkafka: end with end_now
  for (int i = 0; i < o.producers; ++i) {
    auto p = std::make_unique<producer_ctx>(o.client.verbose, rs, i);
    rd_kafka_conf_t* conf = client_conf(o, false, "strata-verify-producer-" + std::to_string(i), p.get(), err);
    if (!conf || !(p->rk = new_client(false, conf, err))) {
      for (auto& q : producers) rd_kafka_destroy(q->rk);
      error_line(err);
      return 2;
    }
    if (o.messages > 0) p->quota = o.messages / o.producers + (i < o.messages % o.producers ? 1 : 0);
    producers.push_back(std::move(p));
  }
  // Each producer learns the topic's leaders before production starts, so
  // that longest_unavailable_ms measures the cluster, not a client warming up.
  for (auto& p : producers) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(p->rk, o.topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rkt && rd_kafka_metadata(p->rk, 0, rkt, &md, o.client.connect_timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
      rd_kafka_metadata_destroy(md);
    if (rkt) rd_kafka_topic_destroy(rkt);
  }
  consumer_pool pool(o, rs);
  err = pool.create();
  if (!err.empty()) {
    for (auto& q : producers) rd_kafka_destroy(q->rk);
    error_line(err);
    return 2;
  }

  std::vector<event> events;
  event head;
  head.kind = event_kind::run;
  head.time_ms = 0;
  head.run = std::make_shared<verify::run_info>(
      verify::run_info{rs.run_id, o.topic, o.acks == "-1" ? "all" : o.acks, idem});
  events.push_back(head);
  if (!o.quiet)
    std::fprintf(stderr, "verify: run %s on topic %s (%d partitions), acks=%s idempotence=%s\n", rs.run_id.c_str(),
                 o.topic.c_str(), partitions, head.run->acks.c_str(), idem ? "on" : "off");

  pool.start();
  event ps;
  ps.kind = event_kind::produce_start;
  ps.time_ms = now_ms(rs.start_ms);
  events.push_back(ps);
  const std::int64_t deadline = o.duration > 0 ? rdk::monotonic_ms() + static_cast<std::int64_t>(o.duration * 1000) : 0;
  std::atomic<int> running{o.producers};
  std::vector<std::thread> threads;
  for (auto& p : producers)
    threads.emplace_back([&o, &running, deadline, pp = p.get()] {
      produce_loop(*pp, o, deadline);
      pp->events_ready = true;
      --running;
      rd_kafka_destroy(pp->rk);  // may wait for a stopped broker: the main thread does not
      pp->done = true;
    });
  std::int64_t last_progress = rdk::monotonic_ms();
  while (running > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!o.quiet && rdk::monotonic_ms() - last_progress >= 1000) {
      progress(rs, "");
      last_progress = rdk::monotonic_ms();
    }
  }
  event pe;
  pe.kind = event_kind::produce_end;
  pe.time_ms = now_ms(rs.start_ms);
  events.push_back(pe);
  const std::int64_t destroy_deadline = rdk::monotonic_ms() + 10'000;
  for (std::size_t i = 0; i < producers.size(); ++i) {
    auto& p = *producers[i];
    // Its events are complete (events_ready): no delivery report is served
    // after that, even by a destroy still under way.
    events.insert(events.end(), std::make_move_iterator(p.events.begin()), std::make_move_iterator(p.events.end()));
    p.events.clear();
    if (!bounded_join(threads[i], p.done, destroy_deadline)) {
      std::fprintf(stderr, "strata verify: producer %d did not close within 10 s\n", p.id);
      producers[i].release();  // leaked on purpose: its thread may still use it
      abandoned = true;
    }
  }

  watermark_watcher wm(admin_guard.release(), o.topic, partitions);
  wm.start();
  std::vector<event> positions;
  bool complete = drain(wm, o, rs, positions);
  pool.stop();
  pool.take_events(events);
  // A consumer left running would move the positions the final read waits on.
  if (complete && !o.no_final_read && !pool.abandoned()) complete = final_read(wm, o, rs, positions, events, abandoned);
  abandoned |= !wm.stop(rdk::monotonic_ms() + 5000);
  events.insert(events.end(), positions.begin(), positions.end());
  event end;
  end.kind = event_kind::end;
  end.time_ms = now_ms(rs.start_ms);
  end.read_complete = complete;
  events.push_back(end);
  if (!o.quiet) {
    progress(rs, complete ? "(done)" : "(drain timed out)");
    if (rs.foreign > 0)
      std::fprintf(stderr, "verify: ignored %lld records of other runs\n", static_cast<long long>(rs.foreign.load()));
  }
  const int code = finish(events, o, o.history);
  if (abandoned || pool.abandoned()) end_now(code);
  return code;
}

// The final read: once writing ended and the run's consumers caught up, one
// fresh consumer reads every partition from the beginning to its high
// watermark: the log as it stands. The checker counts an acknowledged value
// missing from it as lost even if a consumer saw it during the run (it was
// truncated away later, as after an unclean election), and a value read at an
// offset that now holds another as an offset conflict.
bool final_read(const watermark_watcher& wm, const verify_options& o, run_state& rs, std::vector<event>& positions,
                std::vector<event>& events, bool& abandoned) {
  verify_options fo = o;
  fo.group.clear();
  fo.consumers = 1;
  for (int p = 0; p < rs.parts->count; ++p) rs.parts->position[p] = -1;
  rs.stop_consuming = false;
  rs.read = 0;
  consumer_pool pool(fo, rs, true);
  if (std::string err = pool.create(); !err.empty()) {
    std::fprintf(stderr, "strata verify: final read: %s\n", err.c_str());
    return false;
  }
  if (!o.quiet) progress(rs, "(final read)");
  pool.start();
  const bool complete = drain(wm, fo, rs, positions);
  pool.stop();
  pool.take_events(events);
  abandoned |= pool.abandoned();
  return complete;
}

// `strata verify check`: judges a saved history again, or (--reread) reads
// its topic again first and judges what is there now.
int check(verify_options o) {
  std::ifstream in(o.history);
  if (!in) {
    error_line("cannot read history " + o.history);
    return 2;
  }
  std::vector<event> events;
  std::string err;
  if (!verify::read_history(in, events, err)) {
    error_line(o.history + ": " + err);
    return 2;
  }
  if (!o.reread) return finish(events, o, o.history_out);

  run_state rs;
  rs.start_ms = rdk::monotonic_ms();
  std::int64_t offset_ms = 0;  // the re-read's events come after the saved ones
  for (const auto& e : events) {
    offset_ms = std::max(offset_ms, e.time_ms + 1);
    if (e.kind == event_kind::run && e.run) {
      rs.run_id = e.run->run_id;
      rs.topic = e.run->topic;
    }
  }
  if (rs.run_id.empty() || rs.topic.empty()) {
    error_line(o.history + ": no run event (run id and topic)");
    return 2;
  }
  o.topic = rs.topic;
  o.group.clear();  // a re-read assigns partitions, it does not commit
  rdk::client_state admin_state(o.client.verbose);
  int partitions = 0;
  rd_kafka_t* admin = connect(o, false, admin_state, partitions, err);
  if (!admin) {
    error_line(err);
    return 2;
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> admin_guard(admin, rd_kafka_destroy);
  rs.parts = std::make_unique<partition_table>(partitions);
  // Keep what was produced; forget what was read.
  std::erase_if(events, [](const event& e) {
    return e.kind == event_kind::read || e.kind == event_kind::position || e.kind == event_kind::end;
  });
  for (const auto& e : events)
    if (e.kind == event_kind::ack && e.offset >= 0 && e.partition >= 0 && e.partition < partitions)
      partition_table::raise(rs.parts->max_acked[e.partition], e.offset);
  rs.start_ms -= offset_ms;
  consumer_pool pool(o, rs, true);  // what is there now decides, as a final read
  err = pool.create();
  if (!err.empty()) {
    error_line(err);
    return 2;
  }
  pool.start();
  watermark_watcher wm(admin_guard.release(), o.topic, partitions);
  wm.start();
  std::vector<event> positions;
  const bool complete = drain(wm, o, rs, positions);
  const bool abandoned = !wm.stop(rdk::monotonic_ms() + 5000);
  pool.stop();
  pool.take_events(events);
  events.insert(events.end(), positions.begin(), positions.end());
  event end;
  end.kind = event_kind::end;
  end.time_ms = now_ms(rs.start_ms);
  end.read_complete = complete;
  events.push_back(end);
  if (!o.quiet) progress(rs, complete ? "(re-read done)" : "(re-read timed out)");
  const int code = finish(events, o, o.history_out);
  if (abandoned || pool.abandoned()) end_now(code);
  return code;
}

}  // namespace

void register_verify(CLI::App& app) {
  auto o = std::make_shared<verify_options>();
  auto* cmd = app.add_subcommand(
      "verify",
      "Check a Kafka-compatible cluster: produce unique values, read them back, report lost, duplicated, reordered "
      "or phantom records (violations) apart from failed sends that may or may not be there (legal).");
  cmd->footer(
      "Exit codes: 0 no violation, 1 violations, 2 bad flags or cannot connect/create the topic, 3 reading did not "
      "reach the end within --drain-timeout (and no violation).\n"
      "Example: strata verify --create --messages 10000 --history h.jsonl --summary-json s.json");
  rdk::add_client_options(cmd, o->client, "--property");
  cmd->add_option("-t,--topic", o->topic, "Topic to write and read (an existing one is used as is)")
      ->capture_default_str();
  cmd->add_flag("--create", o->create, "Create the topic if it does not exist");
  cmd->add_option("--partitions", o->partitions, "Partitions of a topic --create makes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--replication-factor", o->replication_factor,
                  "Replication factor of a topic --create makes (-1: the broker's default)")
      ->capture_default_str();
  cmd->add_option("--min-insync-replicas", o->min_insync_replicas, "min.insync.replicas of a topic --create makes")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--config", o->configs, "Topic config key=value for --create (repeatable)");
  cmd->add_option("-a,--acks", o->acks, "all, 1 or 0")
      ->capture_default_str()
      ->check(CLI::IsMember({"all", "-1", "1", "0"}));
  cmd->add_flag("--idempotence", o->idempotence, "Idempotent producers (the default with --acks all)");
  cmd->add_flag("--no-idempotence", o->no_idempotence, "Plain producers (retries may duplicate or reorder)");
  cmd->add_option("--producers", o->producers, "Producers, each its own client on its own thread")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--rate", o->rate, "Messages per second, all producers together (0: as fast as possible)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--messages", o->messages, "Stop producing after this many messages")->check(CLI::PositiveNumber);
  cmd->add_option("--duration", o->duration, "Stop producing after this many seconds")->check(CLI::PositiveNumber);
  cmd->add_option("--value-bytes", o->value_bytes, "Pad each value with this many bytes")->check(CLI::NonNegativeNumber);
  cmd->add_option("--delivery-timeout-ms", o->delivery_timeout_ms,
                  "A send not acknowledged within this time fails (librdkafka message.timeout.ms)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--request-timeout-ms", o->request_timeout_ms, "librdkafka request.timeout.ms")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--consumers", o->consumers, "Consumers, each its own client on its own thread")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-g,--group", o->group,
                  "Consume as this group (--consumers members), committing after each batch; default: the "
                  "partitions are assigned, split among the consumers");
  cmd->add_option("--drain-timeout", o->drain_timeout,
                  "After production, read until every partition reached its high watermark, for at most this many "
                  "seconds")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-final-read", o->no_final_read,
                "Skip the final read (a fresh consumer reading every partition from the beginning once writing "
                "ended), which decides what is lost");
  cmd->add_option("--settle", o->settle,
                  "Seconds a high watermark must stay below an acknowledged offset before reading may end "
                  "without it")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--history", o->history, "Write every event here, one JSON object per line");
  cmd->add_option("--summary-json", o->summary_json, "Write the summary here as one JSON object");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress lines on stderr");
  cmd->callback([cmd, o] {
    if (cmd->got_subcommand("check")) return;
    set_exit_code(run(*o));
  });

  auto c = std::make_shared<verify_options>();
  auto* chk = cmd->add_subcommand("check", "Check a saved --history again: same table, same exit codes.");
  chk->add_option("--history", c->history, "History written by `strata verify --history`")->required();
  chk->add_option("--summary-json", c->summary_json, "Write the summary here as one JSON object");
  chk->add_flag("--reread", c->reread,
                "First read the history's topic again from the beginning and judge what is there now (needs "
                "the cluster)");
  chk->add_option("--history-out", c->history_out, "Write the history that was checked here (with --reread)");
  rdk::add_client_options(chk, c->client, "--property");
  chk->add_option("--consumers", c->consumers, "Consumers for --reread")->capture_default_str()->check(CLI::PositiveNumber);
  chk->add_option("--drain-timeout", c->drain_timeout, "Seconds --reread may take")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  chk->add_option("--settle", c->settle, "As for a run")->capture_default_str()->check(CLI::NonNegativeNumber);
  chk->add_flag("-q,--quiet", c->quiet, "No progress lines on stderr");
  chk->callback([c] { set_exit_code(check(*c)); });
}

}  // namespace strata::cli
