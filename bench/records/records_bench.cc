// Record-batch hot paths: CRC-32C, header validation of a produce payload, record
// iteration. Bytes/s are reported by Google Benchmark as "bytes_per_second".
//
//   ninja -C build-records-bench bench_records && build-records-bench/bench/records/bench_records
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "base/crc32c.h"
#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_validate.h"
#include "protocol/records/record_iterator.h"

namespace {

using namespace strata;
using namespace strata::records;

std::vector<uint8_t> random_buffer(size_t n) {
  std::mt19937_64 rng(42);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

void BM_crc32c_hardware(benchmark::State& state) {
  if (!base::crc32c_hardware_available()) {
    state.SkipWithError("no SSE4.2");
    return;
  }
  const auto buf = random_buffer(size_t(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(base::crc32c(buf.data(), buf.size()));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_crc32c_hardware)->Arg(1 << 10)->Arg(16 << 10)->Arg(1 << 20);

void BM_crc32c_portable(benchmark::State& state) {
  const auto buf = random_buffer(size_t(state.range(0)));
  for (auto _ : state)
    benchmark::DoNotOptimize(base::crc32c_extend_portable(0, buf.data(), buf.size()));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_crc32c_portable)->Arg(1 << 10)->Arg(16 << 10)->Arg(1 << 20);

// A 1 MiB produce payload: 64 uncompressed batches of 16 KiB (16 records of ~1 KiB).
std::vector<uint8_t> produce_payload(compression codec = compression::none) {
  std::mt19937_64 rng(7);
  std::vector<uint8_t> out;
  std::string value(1000, 'x');
  for (int b = 0; b < 64; ++b) {
    batch_options o;
    o.codec = codec;
    o.producer_id = 1;
    o.producer_epoch = 0;
    o.base_sequence = b * 16;
    batch_builder builder(o);
    for (int i = 0; i < 16; ++i) {
      for (auto& c : value) c = char('a' + rng() % 26);
      builder.add(1700000000000 + i, as_bytes("key-" + std::to_string(i)), as_bytes(value));
    }
    builder.finish(out);
  }
  return out;
}

void BM_validate_produce_1MiB_16KiB_batches(benchmark::State& state) {
  const auto payload = produce_payload();
  int64_t batches = 0;
  for (auto _ : state) {
    validate_result r = validate_batches(payload);
    if (!r.ok()) state.SkipWithError("invalid payload");
    batches += int64_t(r.batch_count);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(payload.size()));
  state.counters["payload_bytes"] = double(payload.size());
  state.counters["batches/s"] = benchmark::Counter(double(batches), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_validate_produce_1MiB_16KiB_batches);

// What the produce path pays per record: validate_records on a batch as librdkafka
// sends it in `strata bench produce --size 100` (1,000 records of 100 B, null keys).
void BM_validate_records_100B(benchmark::State& state) {
  std::mt19937_64 rng(11);
  std::string value(100, 'x');
  batch_options o;
  batch_builder builder(o);
  for (int i = 0; i < 1000; ++i) {
    for (auto& c : value) c = char('a' + rng() % 26);
    builder.add(1700000000000 + i, std::nullopt, as_bytes(value));
  }
  std::vector<uint8_t> batch;
  builder.finish(batch);
  std::vector<uint8_t> scratch;
  for (auto _ : state) {
    if (validate_records(batch, scratch) != errc::ok) state.SkipWithError("invalid batch");
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * 1000);
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(batch.size()));
}
BENCHMARK(BM_validate_records_100B);

// Full record iteration (what compaction pays), per codec.
void BM_iterate_records_1MiB(benchmark::State& state) {
  const auto payload = produce_payload(compression(state.range(0)));
  std::vector<uint8_t> scratch;
  size_t uncompressed = 0;
  for (auto _ : state) {
    uncompressed = 0;
    validate_batches(payload, {}, [&](const batch_info& info) {
      record_iterator it(bytes_view(payload).subspan(info.position, info.size), scratch);
      record r;
      while (it.next(r)) uncompressed += r.raw.size();
      if (!it.ok()) state.SkipWithError("iteration failed");
    });
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(uncompressed));
  state.counters["wire_bytes"] = double(payload.size());
}
BENCHMARK(BM_iterate_records_1MiB)
    ->ArgName("codec")
    ->Arg(int(compression::none))
    ->Arg(int(compression::gzip))
    ->Arg(int(compression::snappy))
    ->Arg(int(compression::lz4))
    ->Arg(int(compression::zstd));

}  // namespace

BENCHMARK_MAIN();
