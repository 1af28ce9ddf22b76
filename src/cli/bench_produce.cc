// `strata bench produce` and `strata bench e2e`.
//
// produce: one thread calls rd_kafka_produce() (at full speed, or at a fixed
// --rate on an absolute schedule); a second thread serves librdkafka's
// delivery reports and owns the latency histograms, so a report is timed
// when librdkafka hands it over, not when the producing thread next looks.
// Latency is send call -> delivery report; the send time travels in the
// message's opaque pointer.
//
// e2e: the same producer, plus a consumer assigned to every partition at its
// current end. The producer writes its send time (CLOCK_MONOTONIC, ns) into
// the first 16 bytes of each payload; the consumer thread records receipt -
// send time.
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <unistd.h>

#include "cli/bench.h"

namespace strata::cli::bench {
namespace {

constexpr char e2e_magic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'B', '1'};
constexpr int e2e_header = 16;

void sleep_until_ns(std::int64_t t) {
  timespec ts{};
  ts.tv_sec = t / 1'000'000'000;
  ts.tv_nsec = t % 1'000'000'000;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// Owned by the delivery-report thread (histograms) or atomic (counters).
struct producer_state {
  histogram total_latency;
  histogram interval_latency;
  std::atomic<std::int64_t> sent{0};
  std::atomic<std::int64_t> delivered{0};
  std::atomic<std::int64_t> delivered_bytes{0};
  std::atomic<std::int64_t> errors{0};
  std::atomic<std::int64_t> last_report_ns{0};
  std::atomic<bool> first_error_printed{false};
  bool measure_latency = true;
};

void dr_msg_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<producer_state*>(opaque);
  std::int64_t now = now_ns();
  if (m->err) {
    st->errors.fetch_add(1, std::memory_order_relaxed);
    if (!st->first_error_printed.exchange(true))
      std::fprintf(stderr, "strata bench: delivery failed: %s\n", rd_kafka_err2str(m->err));
  } else {
    if (st->measure_latency) {
      auto sent = reinterpret_cast<std::intptr_t>(m->_private);
      auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - sent) / 1000);
      st->total_latency.record(us);
      st->interval_latency.record(us);
    }
    st->delivered.fetch_add(1, std::memory_order_relaxed);
    st->delivered_bytes.fetch_add(static_cast<std::int64_t>(m->len), std::memory_order_relaxed);
  }
  st->last_report_ns.store(now, std::memory_order_relaxed);
}

std::string acks_value(const std::string& a) { return a == "-1" ? "all" : a; }

std::vector<std::pair<std::string, std::string>> produce_params(const produce_options& o, int partitions) {
  return {{"bootstrap", o.common.bootstrap},
          {"topic", o.common.topic},
          {"partitions", std::to_string(partitions)},
          {"size", std::to_string(o.size)},
          {"acks", acks_value(o.acks)},
          {"compression", o.compression},
          {"linger_ms", std::to_string(o.linger_ms)},
          {"batch_size", std::to_string(o.batch_size)},
          {"rate", o.rate > 0 ? fmt::format("{:g}", o.rate) : std::string("max")},
          {"partitioner", o.rotate > 0 ? fmt::format("rotate/{}", o.rotate) : std::string("librdkafka")}};
}

rd_kafka_t* make_producer(const produce_options& o, producer_state* st) {
  rd_kafka_conf_t* conf = make_conf(o.common);
  conf_set(conf, "acks", o.acks);
  conf_set(conf, "compression.codec", o.compression);
  conf_set(conf, "linger.ms", std::to_string(o.linger_ms));
  conf_set(conf, "batch.size", std::to_string(o.batch_size));
  // librdkafka refuses a batch.size above message.max.bytes (default 1000000);
  // the broker's own limit (message.max.bytes 1048588) still applies to batches.
  if (o.batch_size > 1'000'000) conf_set(conf, "message.max.bytes", std::to_string(o.batch_size + 1024));
  rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  rd_kafka_conf_set_opaque(conf, st);
  // Re-apply -X last so that it can override anything above.
  apply_properties(conf, o.common);
  return new_client(false, conf, "producer");
}

// Runs the producer side. `on_tick` (may be null) is called by the report
// thread once a second after its own progress line.
struct producer_result {
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  bool complete = false;
};

producer_result produce_loop(const produce_options& o, int partitions, rd_kafka_t* rk, producer_state* st, bool e2e,
                             const std::function<void(double)>& on_tick, std::atomic<bool>* abort_flag) {
  producer_result r;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.common.topic.c_str(), nullptr);

  // Payload: random upper-case letters (as kafka-producer-perf-test), each
  // message a different window of one buffer, not copied by librdkafka.
  constexpr int window = 4096;
  std::vector<char> pool(static_cast<std::size_t>(o.size) + window);
  std::mt19937 gen(42);
  std::uniform_int_distribution<int> letter('A', 'Z');
  for (auto& c : pool) c = static_cast<char>(letter(gen));
  std::vector<char> stamped(static_cast<std::size_t>(o.size));

  std::atomic<bool> done{false};
  std::thread reporter([&] {
    std::int64_t t0 = now_ns(), last = t0;
    std::int64_t last_count = 0, last_bytes = 0;
    while (!done.load()) {
      rd_kafka_poll(rk, 20);
      std::int64_t now = now_ns();
      if (now - last >= 1'000'000'000) {
        std::int64_t c = st->delivered.load(), b = st->delivered_bytes.load();
        double t = static_cast<double>(now - t0) / 1e9;
        if (!o.common.quiet)
          print_progress(e2e ? "acked" : "produce", t, c - last_count, b - last_bytes,
                         static_cast<double>(now - last) / 1e9, c,
                         st->measure_latency ? &st->interval_latency : nullptr, st->errors.load());
        st->interval_latency.reset();
        if (on_tick) on_tick(t);
        last = now;
        last_count = c;
        last_bytes = b;
      }
    }
    rd_kafka_poll(rk, 0);
  });

  const std::int64_t interval_ns = o.rate > 0 ? static_cast<std::int64_t>(1e9 / o.rate) : 0;
  const std::int64_t deadline_ns = o.duration > 0 ? static_cast<std::int64_t>(o.duration * 1e9) : 0;
  const int msgflags = e2e ? RD_KAFKA_MSG_F_COPY : 0;
  r.start_ns = now_ns();
  std::int64_t i = 0;
  for (; o.messages == 0 || i < o.messages; ++i) {
    std::int64_t now = 0;
    if (interval_ns) {
      std::int64_t due = r.start_ns + i * interval_ns;
      now = now_ns();
      if (due > now + 20'000) {
        sleep_until_ns(due);
        now = now_ns();
      } else {
        while (now < due) now = now_ns();
      }
    } else {
      now = now_ns();
    }
    if (deadline_ns && now - r.start_ns >= deadline_ns) break;
    if ((i & 1023) == 0 && abort_flag && abort_flag->load()) break;
    const std::int32_t partition =
        o.rotate > 0 ? static_cast<std::int32_t>((i / o.rotate) % partitions) : RD_KAFKA_PARTITION_UA;
    char* payload = pool.data() + (i * 131) % window;
    if (e2e) {
      std::memcpy(stamped.data(), pool.data() + (i * 131) % window, stamped.size());
      std::memcpy(stamped.data(), e2e_magic, 8);
      std::memcpy(stamped.data() + 8, &now, 8);
      payload = stamped.data();
    }
    for (;;) {
      if (rd_kafka_produce(rkt, partition, msgflags, payload, static_cast<size_t>(o.size), nullptr, 0,
                           reinterpret_cast<void*>(static_cast<std::intptr_t>(now))) == 0)
        break;
      rd_kafka_resp_err_t err = rd_kafka_last_error();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::fprintf(stderr, "strata bench: produce: %s\n", rd_kafka_err2str(err));
        st->sent.store(i);
        r.end_ns = now_ns();
        done = true;
        reporter.join();
        rd_kafka_topic_destroy(rkt);
        return r;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      if (!interval_ns) now = now_ns();  // at full speed, time from the accepted send
    }
  }
  st->sent.store(i);

  // Wait for every delivery report (the report thread keeps polling).
  std::int64_t wait_until = now_ns() + static_cast<std::int64_t>(o.timeout_s) * 1'000'000'000;
  while (st->delivered.load() + st->errors.load() < i && now_ns() < wait_until)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  r.complete = st->delivered.load() + st->errors.load() >= i;
  r.end_ns = r.complete ? st->last_report_ns.load() : now_ns();
  if (i == 0) r.end_ns = r.start_ns;
  done = true;
  reporter.join();
  if (!r.complete)
    std::fprintf(stderr, "strata bench: %lld of %lld messages still undelivered after %d s\n",
                 static_cast<long long>(i - st->delivered.load() - st->errors.load()), static_cast<long long>(i),
                 o.timeout_s);
  rd_kafka_topic_destroy(rkt);
  return r;
}

bool validate(const produce_options& o, bool e2e) {
  if (o.size < (e2e ? e2e_header : 0)) {
    std::fprintf(stderr, "strata bench: --size must be at least %d\n", e2e ? e2e_header : 0);
    return false;
  }
  if (o.messages == 0 && o.duration <= 0) {
    std::fprintf(stderr, "strata bench: --messages 0 needs --duration\n");
    return false;
  }
  return true;
}

}  // namespace

int run_produce(const produce_options& o) {
  if (!validate(o, false)) return 2;
  producer_state st;
  rd_kafka_t* rk = make_producer(o, &st);
  if (!rk) return 2;
  int partitions = ensure_topic(rk, o.common.topic, o.partitions, o.common.quiet);
  if (partitions < 0) {
    rd_kafka_destroy(rk);
    return 1;
  }
  producer_result r = produce_loop(o, partitions, rk, &st, false, nullptr, nullptr);
  run_summary s;
  s.mode = "produce";
  s.params = produce_params(o, partitions);
  s.messages = st.delivered.load();
  s.bytes = st.delivered_bytes.load();
  s.errors = st.errors.load() + (st.sent.load() - st.delivered.load() - st.errors.load());
  s.elapsed_s = static_cast<double>(r.end_ns - r.start_ns) / 1e9;
  s.latency = &st.total_latency;
  s.latency_what = "send -> delivery report";
  print_summary(s, o.common.json);
  rd_kafka_flush(rk, 5000);
  rd_kafka_destroy(rk);
  return (r.complete && s.errors == 0) ? 0 : 1;
}

namespace {

struct consumer_side {
  histogram total;
  histogram interval;
  std::mutex mu;  // guards `interval` (read by the progress printer)
  std::atomic<std::int64_t> received{0};
  std::atomic<std::int64_t> received_bytes{0};
  std::atomic<std::int64_t> foreign{0};  // messages without our stamp
  std::atomic<std::int64_t> last_ns{0};
};

}  // namespace

int run_e2e(const produce_options& o) {
  if (!validate(o, true)) return 2;
  producer_state st;
  st.measure_latency = false;
  rd_kafka_t* prod = make_producer(o, &st);
  if (!prod) return 2;
  int partitions = ensure_topic(prod, o.common.topic, o.partitions, o.common.quiet);
  if (partitions < 0) {
    rd_kafka_destroy(prod);
    return 1;
  }

  // Consumer: every partition from its current end (asked explicitly, so no
  // message produced after this point can be skipped).
  rd_kafka_conf_t* conf = make_conf(o.common);
  conf_set(conf, "group.id", fmt::format("strata-bench-e2e-{}", getpid()));
  conf_set(conf, "enable.auto.commit", "false");
  conf_set(conf, "enable.auto.offset.store", "false");
  conf_set(conf, "fetch.wait.max.ms", std::to_string(o.fetch_wait_ms));
  conf_set(conf, "queued.min.messages", "1000000");  // as rdkafka_performance
  apply_properties(conf, o.common);
  rd_kafka_t* cons = new_client(true, conf, "e2e consumer");
  if (!cons) {
    rd_kafka_destroy(prod);
    return 2;
  }
  rd_kafka_poll_set_consumer(cons);
  rd_kafka_topic_partition_list_t* tpl = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    std::int64_t lo = 0, hi = 0;
    auto e = rd_kafka_query_watermark_offsets(cons, o.common.topic.c_str(), p, &lo, &hi, 10'000);
    if (e) {
      std::fprintf(stderr, "strata bench: watermarks of partition %d: %s\n", p, rd_kafka_err2str(e));
      rd_kafka_topic_partition_list_destroy(tpl);
      rd_kafka_destroy(cons);
      rd_kafka_destroy(prod);
      return 1;
    }
    rd_kafka_topic_partition_list_add(tpl, o.common.topic.c_str(), p)->offset = hi;
  }
  rd_kafka_assign(cons, tpl);
  rd_kafka_topic_partition_list_destroy(tpl);

  consumer_side cs;
  std::atomic<bool> stop_consumer{false};
  std::thread consumer([&] {
    rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(cons);
    std::vector<rd_kafka_message_t*> batch(4096);
    while (!stop_consumer.load()) {
      const std::size_t n = poll_batch(q, 50, batch);
      if (n == 0) continue;
      std::int64_t now = now_ns();
      std::lock_guard lock(cs.mu);
      for (std::size_t k = 0; k < n; ++k) {
        rd_kafka_message_t* m = batch[k];
        if (!m->err) {
          if (m->len >= static_cast<size_t>(e2e_header) && std::memcmp(m->payload, e2e_magic, 8) == 0) {
            std::int64_t sent = 0;
            std::memcpy(&sent, static_cast<const char*>(m->payload) + 8, 8);
            auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - sent) / 1000);
            cs.total.record(us);
            cs.interval.record(us);
            cs.received_bytes.fetch_add(static_cast<std::int64_t>(m->len), std::memory_order_relaxed);
            cs.received.fetch_add(1, std::memory_order_relaxed);
          } else {
            cs.foreign.fetch_add(1, std::memory_order_relaxed);
          }
        }
        rd_kafka_message_destroy(m);
      }
      cs.last_ns.store(now);
    }
    rd_kafka_queue_destroy(q);
  });
  // Let the consumer connect and park its first fetch before the clock starts.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  std::int64_t last_recv = 0;
  double last_t = 0;
  auto on_tick = [&](double t) {
    std::int64_t c = cs.received.load();
    if (!o.common.quiet) {
      std::lock_guard lock(cs.mu);
      print_progress("e2e", t, c - last_recv, (c - last_recv) * o.size, t - last_t, c, &cs.interval, 0);
      cs.interval.reset();
    }
    last_recv = c;
    last_t = t;
  };
  producer_result r = produce_loop(o, partitions, prod, &st, true, on_tick, nullptr);

  std::int64_t expect = st.delivered.load();
  std::int64_t wait_until = now_ns() + static_cast<std::int64_t>(o.timeout_s) * 1'000'000'000;
  while (cs.received.load() < expect && now_ns() < wait_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  stop_consumer = true;
  consumer.join();

  run_summary s;
  s.mode = "e2e";
  s.params = produce_params(o, partitions);
  s.params.emplace_back("fetch_wait_ms", std::to_string(o.fetch_wait_ms));
  s.messages = cs.received.load();
  s.bytes = cs.received_bytes.load();
  s.errors = st.errors.load() + std::max<std::int64_t>(0, expect - s.messages);
  std::int64_t end = std::max(cs.last_ns.load(), r.end_ns);
  s.elapsed_s = static_cast<double>(end - r.start_ns) / 1e9;
  s.latency = &cs.total;
  s.latency_what = "producer send -> consumer receipt";
  print_summary(s, o.common.json);
  if (s.messages < expect)
    std::fprintf(stderr, "strata bench: %lld of %lld acknowledged messages not received within %d s\n",
                 static_cast<long long>(expect - s.messages), static_cast<long long>(expect), o.timeout_s);

  rd_kafka_consumer_close(cons);
  rd_kafka_destroy(cons);
  rd_kafka_flush(prod, 5000);
  rd_kafka_destroy(prod);
  return (r.complete && s.errors == 0) ? 0 : 1;
}

}  // namespace strata::cli::bench
