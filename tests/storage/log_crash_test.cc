// Crash tests: write a log, damage its files the ways a crash or a bad disk does, reopen
// as after a crash, and check that every batch before the damage is still served,
// nothing after it is, offsets keep increasing, and the log takes appends again.
// Many seeded random cases; a failure prints its seed (STRATA_CRASH_SEED=<n> reruns one,
// STRATA_CRASH_CASES=<n> changes how many run).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "protocol/records/batch_header.h"
#include "storage/file_names.h"
#include "storage/fs/fault_injection_file_system.h"
#include "storage/log.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;

struct stored_batch {
  std::string file;  // segment .log path
  uint64_t position;
  uint64_t size;
  int64_t base_offset;
  int64_t last_offset;
};

// The batches as laid out on disk, segment by segment.
std::vector<stored_batch> layout(const std::string& dir) {
  std::vector<stored_batch> out;
  for (const auto& f : list_files(dir)) {
    if (!parse_segment_file_name(f, kLogSuffix)) continue;
    std::ifstream in(dir + "/" + f, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    size_t pos = 0;
    while (pos + records::kBatchHeaderSize <= bytes.size()) {
      records::batch_header_view h(bytes.data() + pos);
      out.push_back({dir + "/" + f, pos, uint64_t(h.total_size()), h.base_offset(), h.last_offset()});
      pos += size_t(h.total_size());
    }
  }
  return out;
}

void truncate_file(const std::string& path, uint64_t size) { ASSERT_EQ(::truncate(path.c_str(), off_t(size)), 0); }

void patch_byte(const std::string& path, uint64_t pos, uint8_t mask) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(long(pos));
  char c;
  f.read(&c, 1);
  c = char(uint8_t(c) ^ mask);
  f.seekp(long(pos));
  f.write(&c, 1);
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes, bool append) {
  std::ofstream f(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  f.write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
}

enum class damage {
  truncate_any_segment,   // a file cut at a random byte (lost pages, bad disk)
  truncate_last_batch,    // the torn tail of the last write
  flip_in_last_batch,     // bit rot or a torn page in the last batch
  delete_index,           // an index file gone
  zero_index,             // an index file full of zeros
  half_written_segment,   // a roll whose first write only partly reached the disk
  zero_tail,              // the file grew but its last pages never did (zeros)
  count,
};

const char* name(damage d) {
  switch (d) {
    case damage::truncate_any_segment: return "truncate_any_segment";
    case damage::truncate_last_batch: return "truncate_last_batch";
    case damage::flip_in_last_batch: return "flip_in_last_batch";
    case damage::delete_index: return "delete_index";
    case damage::zero_index: return "zero_index";
    case damage::half_written_segment: return "half_written_segment";
    case damage::zero_tail: return "zero_tail";
    case damage::count: break;
  }
  return "?";
}

void run_case(uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto uni = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  temp_dir d(/*in_memory=*/true);
  // Damage is done by editing files, not by losing the page cache: fsyncs add nothing.
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  ffs.set_skip_syncs(true);
  log_config cfg;
  cfg.segment_bytes = uni(1200, 4000);  // the largest test batch is about 1100 bytes
  cfg.index_interval_bytes = int32_t(uni(1, 600));
  auto opts = log_options(d.path(), cfg);
  opts.fs = &ffs;
  const std::string pdir = opts.dir;
  const auto kind = damage(uni(0, int(damage::count) - 1));
  SCOPED_TRACE(name(kind));

  int64_t recovery_point = 0;
  {
    auto lg = log::open(opts).value();
    int n = int(uni(1, 40));
    int flush_at = int(uni(0, n));
    for (int i = 0; i < n; ++i) {
      auto b = make_batch(int(uni(1, 5)), size_t(uni(0, 200)), 1000 + i);
      auto ar = lg->append(b, int32_t(i / 10), 1);
      ASSERT_TRUE(ar) << ar.error().message();
      if (i == flush_at) {
        ASSERT_FALSE(lg->flush());
        recovery_point = lg->recovery_point();
      }
    }
    // Dropped without close(): indexes keep their reserved zero tails, nothing trimmed.
  }
  auto stored = layout(pdir);
  ASSERT_FALSE(stored.empty());
  size_t keep = stored.size();  // batches expected to survive
  const auto& last = stored.back();

  switch (kind) {
    case damage::truncate_any_segment: {
      size_t victim = size_t(uni(0, int64_t(stored.size()) - 1));
      const auto& v = stored[victim];
      uint64_t cut = v.position + uint64_t(uni(0, int64_t(v.size) - 1));
      truncate_file(v.file, cut);
      // Batches of earlier segments, and whole batches before the cut, survive.
      keep = 0;
      while (keep < stored.size() && (stored[keep].file != v.file || stored[keep].position + stored[keep].size <= cut)) {
        if (stored[keep].file > v.file) break;
        keep++;
      }
      break;
    }
    case damage::truncate_last_batch:
      truncate_file(last.file, last.position + uint64_t(uni(0, int64_t(last.size) - 1)));
      keep = stored.size() - 1;
      break;
    case damage::flip_in_last_batch: {
      // Any byte but the partition leader epoch (12..15), which neither the CRC nor
      // anything else protects: the format cannot notice a change there.
      uint64_t at;
      do at = uint64_t(uni(0, int64_t(last.size) - 1)); while (at >= 12 && at < 16);
      patch_byte(last.file, last.position + at, uint8_t(1u << uni(0, 7)));
      keep = stored.size() - 1;
      break;
    }
    case damage::delete_index:
    case damage::zero_index: {
      const auto& v = stored[size_t(uni(0, int64_t(stored.size()) - 1))];
      std::string idx = v.file.substr(0, v.file.size() - 4) + (uni(0, 1) ? ".index" : ".timeindex");
      if (kind == damage::delete_index) {
        std::remove(idx.c_str());
      } else {
        int64_t sz = file_size(idx);
        write_file(idx, std::vector<uint8_t>(size_t(std::max<int64_t>(sz, 0)), 0), false);
      }
      break;
    }
    case damage::half_written_segment: {
      int64_t next = last.last_offset + 1;
      auto b = make_batch(2, 50, 99);
      records::batch_header_mut(b.data()).set_base_offset(next);
      b.resize(size_t(uni(0, int64_t(b.size()) - 1)));
      write_file(pdir + "/" + segment_file_name(next, kLogSuffix), b, false);
      if (uni(0, 1)) write_file(pdir + "/" + segment_file_name(next, kIndexSuffix), {}, false);
      break;
    }
    case damage::zero_tail:
      write_file(last.file, std::vector<uint8_t>(size_t(uni(1, 5000)), 0), true);
      break;
    case damage::count: break;
  }

  std::vector<stored_batch> expected(stored.begin(), stored.begin() + long(keep));
  const int64_t expected_leo = expected.empty() ? 0 : expected.back().last_offset + 1;
  opts.recovery_point = recovery_point;  // may lie beyond the damage (a bad disk)
  for (int round = 0; round < 2; ++round) {  // recovery is idempotent
    SCOPED_TRACE("round " + std::to_string(round));
    auto lg = log::open(opts);
    ASSERT_TRUE(lg) << lg.error().message();
    auto all = read_all(*lg.value());
    ASSERT_EQ(all.size(), expected.size());
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(all[i].base_offset, expected[i].base_offset);
      EXPECT_EQ(all[i].last_offset, expected[i].last_offset);
      EXPECT_TRUE(all[i].crc_ok);
    }
    ASSERT_EQ(lg.value()->log_end_offset(), expected_leo);
    if (round == 1) {
      for (int i = 0; i < 3; ++i) {
        auto b = make_batch(2, 20, 5000 + i);
        auto r = lg.value()->append(b, 9, 1);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->base_offset, expected_leo + 2 * i);
      }
      auto after = read_all(*lg.value());
      ASSERT_EQ(after.size(), expected.size() + 3);
      for (size_t i = 1; i < after.size(); ++i) {
        EXPECT_EQ(after[i].base_offset, after[i - 1].last_offset + 1);
      }
      EXPECT_EQ(lg.value()->offset_for_timestamp(5002)->offset, expected_leo + 2);  // max 5002
    }
  }
}

TEST(log_crash, random_damage_then_recovery) {
  uint64_t cases = 1000;
  if (const char* c = std::getenv("STRATA_CRASH_CASES")) cases = std::strtoull(c, nullptr, 10);
  uint64_t first = std::random_device{}();
  if (const char* s = std::getenv("STRATA_CRASH_SEED")) {
    first = std::strtoull(s, nullptr, 10);
    cases = 1;
  }
  std::printf("log_crash: %llu cases from seed %llu (rerun one with STRATA_CRASH_SEED=<seed>)\n",
              static_cast<unsigned long long>(cases), static_cast<unsigned long long>(first));
  for (uint64_t i = 0; i < cases; ++i) {
    run_case(first + i);
    if (::testing::Test::HasFatalFailure() || ::testing::Test::HasNonfatalFailure()) {
      std::printf("log_crash: failing seed %llu\n", static_cast<unsigned long long>(first + i));
      return;
    }
  }
}

TEST(log_crash, torn_tail_found_even_with_clean_shutdown_marker) {
  temp_dir d;
  auto opts = log_options(d.path());
  {
    auto lg = log::open(opts).value();
    for (int i = 0; i < 5; ++i) {
      auto b = make_batch(2, 100, i);
      ASSERT_TRUE(lg->append(b, 0, 1));
    }
    ASSERT_FALSE(lg->close());
  }
  auto stored = layout(opts.dir);
  truncate_file(stored.back().file, stored.back().position + 30);
  opts.clean_shutdown = true;
  auto lg = log::open(opts).value();
  EXPECT_EQ(lg->log_end_offset(), 8);
  EXPECT_EQ(read_all(*lg).size(), 4u);
}

}  // namespace
}  // namespace strata::storage
