// `strata bench consume`: read a topic back from the beginning of every
// partition with a librdkafka consumer (assign(), no group membership; the
// group id is only a name, nothing is committed), until --messages have
// arrived, every partition has reached its end, --duration has passed, or
// nothing arrived for --idle-timeout seconds.
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <unistd.h>
#include <vector>

#include "cli/bench.h"

namespace strata::cli::bench {

int run_consume(const consume_options& o) {
  rd_kafka_conf_t* conf = make_conf(o.common);
  conf_set(conf, "group.id", o.group.empty() ? fmt::format("strata-bench-{}-{}", getpid(), now_ns()) : o.group);
  conf_set(conf, "enable.auto.commit", "false");
  conf_set(conf, "enable.auto.offset.store", "false");
  conf_set(conf, "enable.partition.eof", "true");
  conf_set(conf, "auto.offset.reset", "earliest");
  // As rdkafka_performance: a deep local queue. With the default (100,000
  // messages, counted over all partitions of the consumer queue) one large
  // fetch response stops all fetching until the application has drained it.
  conf_set(conf, "queued.min.messages", "1000000");
  apply_properties(conf, o.common);
  rd_kafka_t* rk = new_client(true, conf, "consume");
  if (!rk) return 2;
  rd_kafka_poll_set_consumer(rk);
  int partitions = ensure_topic(rk, o.common.topic, 0, o.common.quiet);
  if (partitions <= 0) {
    rd_kafka_destroy(rk);
    return 1;
  }

  // Start offsets asked for explicitly, before the clock starts: assigning
  // at OFFSET_BEGINNING makes librdkafka resolve them itself, and that query
  // is sometimes re-armed on a 500 ms timer, which dwarfs the load.
  rd_kafka_topic_partition_list_t* tpl = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    std::int64_t lo = 0, hi = 0;
    auto e = rd_kafka_query_watermark_offsets(rk, o.common.topic.c_str(), p, &lo, &hi, 10'000);
    if (e) {
      std::fprintf(stderr, "strata bench: watermarks of partition %d: %s\n", p, rd_kafka_err2str(e));
      rd_kafka_topic_partition_list_destroy(tpl);
      rd_kafka_destroy(rk);
      return 1;
    }
    rd_kafka_topic_partition_list_add(tpl, o.common.topic.c_str(), p)->offset = lo;
  }
  const std::int64_t start = now_ns();
  rd_kafka_assign(rk, tpl);
  rd_kafka_topic_partition_list_destroy(tpl);

  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> batch(8192);
  std::vector<char> at_eof(static_cast<std::size_t>(partitions), 0);
  int eof_count = 0;
  std::int64_t received = 0, bytes = 0, errors = 0;
  std::int64_t last_msg = start, first_msg = 0, last_tick = start, tick_count = 0, tick_bytes = 0;
  const std::int64_t deadline = o.duration > 0 ? start + static_cast<std::int64_t>(o.duration * 1e9) : 0;
  const std::int64_t idle_ns = static_cast<std::int64_t>(o.idle_timeout_s) * 1'000'000'000;
  bool idle = false;

  for (;;) {
    const std::size_t n = poll_batch(q, 100, batch);
    std::int64_t now = now_ns();
    const std::int64_t before = received;
    for (std::size_t k = 0; k < n; ++k) {
      rd_kafka_message_t* m = batch[k];
      if (!m->err) {
        ++received;
        bytes += static_cast<std::int64_t>(m->len);
        if (m->partition >= 0 && m->partition < partitions && at_eof[static_cast<std::size_t>(m->partition)]) {
          at_eof[static_cast<std::size_t>(m->partition)] = 0;
          --eof_count;
        }
      } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (m->partition >= 0 && m->partition < partitions && !at_eof[static_cast<std::size_t>(m->partition)]) {
          at_eof[static_cast<std::size_t>(m->partition)] = 1;
          ++eof_count;
        }
      } else {
        if (errors++ == 0)
          std::fprintf(stderr, "strata bench: consume partition %d: %s\n", m->partition, rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
    if (received > before) {
      if (before == 0) first_msg = now;
      last_msg = now;
    }
    if (now - last_tick >= 1'000'000'000) {
      if (!o.common.quiet)
        print_progress("consume", static_cast<double>(now - start) / 1e9, received - tick_count, bytes - tick_bytes,
                       static_cast<double>(now - last_tick) / 1e9, received, nullptr, errors);
      last_tick = now;
      tick_count = received;
      tick_bytes = bytes;
    }
    if (o.messages > 0 && received >= o.messages) break;
    if (o.messages == 0 && eof_count == partitions) break;
    if (deadline && now >= deadline) break;
    if (now - last_msg >= idle_ns) {
      idle = true;
      break;
    }
  }

  run_summary s;
  s.mode = "consume";
  s.params = {{"bootstrap", o.common.bootstrap},
              {"topic", o.common.topic},
              {"partitions", std::to_string(partitions)},
              {"first_message_ms", fmt::format("{:.1f}", first_msg ? static_cast<double>(first_msg - start) / 1e6 : -1.0)}};
  s.messages = received;
  s.bytes = bytes;
  s.errors = errors;
  s.elapsed_s = static_cast<double>(last_msg - start) / 1e9;
  print_summary(s, o.common.json);
  if (idle)
    std::fprintf(stderr, "strata bench: nothing arrived for %d s; stopped at %lld messages\n", o.idle_timeout_s,
                 static_cast<long long>(received));

  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (o.messages > 0 && received < o.messages) return 1;
  return errors ? 1 : 0;
}

}  // namespace strata::cli::bench
