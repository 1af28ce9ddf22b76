// Decode and encode costs of the generated protocol code.
//
//   build/bench/protocol/bench_protocol
//
// produce_decode: a Produce v9 request carrying one 1 MiB records blob. The
// records are a view into the request bytes, so the cost should not depend on
// the blob size. metadata_encode: a Metadata v12 response with 3 brokers and
// 100 topics x 10 partitions x 3 replicas, the shape of a mid-size cluster.
#include <benchmark/benchmark.h>

#include "protocol/frame.h"
#include "protocol/generated/messages.h"

namespace strata::protocol {
namespace {

bytes produce_request_bytes(size_t record_bytes) {
  produce_request r;
  r.transactional_id.reset();
  r.acks = -1;
  r.timeout_ms = 30000;
  auto& t = r.topic_data.emplace_back();
  t.name = "bench-topic";
  t.partition_data.push_back({0, records::copy_of(bytes(record_bytes, 0xab))});
  writer w;
  r.encode(w, 9);
  return std::move(w.buffer());
}

void produce_decode(benchmark::State& state) {
  const bytes wire = produce_request_bytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    reader r(wire);
    produce_request m;
    m.decode(r, 9);
    if (!r.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * wire.size()));
}
BENCHMARK(produce_decode)->Arg(1 << 20)->Arg(1 << 10);

// The same request through the frame parser, as the broker sees it.
void produce_decode_framed(benchmark::State& state) {
  const bytes body_bytes = produce_request_bytes(1 << 20);
  reader body_reader(body_bytes);
  produce_request body;  // its records point into body_bytes
  body.decode(body_reader, 9);
  writer w;
  encode_request_frame(w, 9, 1, "bench-client", body);
  const bytes frame(w.buffer().begin() + 4, w.buffer().end());
  for (auto _ : state) {
    const request_frame f = decode_request_frame(frame);
    reader r(f.body);
    produce_request m;
    m.decode(r, f.api_version());
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * frame.size()));
}
BENCHMARK(produce_decode_framed);

metadata_response sample_metadata(int topics, int partitions) {
  metadata_response m;
  m.cluster_id = "strata-bench-cluster";
  m.controller_id = 1;
  for (int b = 1; b <= 3; ++b)
    m.brokers.push_back({b, "broker-" + std::to_string(b) + ".example.com", 9092, "rack-a"});
  for (int t = 0; t < topics; ++t) {
    auto& topic = m.topics.emplace_back();
    topic.name = "topic-" + std::to_string(t);
    topic.topic_id = uuid::random();
    for (int p = 0; p < partitions; ++p) {
      auto& part = topic.partitions.emplace_back();
      part.partition_index = p;
      part.leader_id = 1 + p % 3;
      part.leader_epoch = 7;
      part.replica_nodes = {1, 2, 3};
      part.isr_nodes = {1, 2, 3};
    }
  }
  return m;
}

void metadata_encode(benchmark::State& state) {
  const metadata_response m = sample_metadata(static_cast<int>(state.range(0)), 10);
  size_t size = 0;
  for (auto _ : state) {
    writer w;
    m.encode(w, 12);
    size = w.size();
    benchmark::DoNotOptimize(w.buffer().data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  state.counters["bytes"] = static_cast<double>(size);
}
BENCHMARK(metadata_encode)->Arg(1)->Arg(100);

void metadata_decode(benchmark::State& state) {
  writer w;
  sample_metadata(100, 10).encode(w, 12);
  for (auto _ : state) {
    reader r(w.buffer());
    metadata_response m;
    m.decode(r, 12);
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * w.size()));
}
BENCHMARK(metadata_decode);

}  // namespace
}  // namespace strata::protocol

BENCHMARK_MAIN();
