// Compaction: log::clean, and the loader finishing an interrupted swap.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "protocol/records/batch_builder.h"
#include "protocol/records/record_iterator.h"
#include "storage/log.h"
#include "storage/read_result.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

struct seen_record {
  int64_t offset;
  std::optional<std::string> key;
  std::optional<std::string> value;
  bool operator==(const seen_record&) const = default;
};

std::optional<std::string> text(const records::nullable_bytes& b) {
  if (!b) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(b->data()), b->size());
}

// One batch of one record at `timestamp`; a null key or value when not given.
std::vector<uint8_t> keyed(std::optional<std::string> key, std::optional<std::string> value, int64_t timestamp) {
  records::batch_builder b;
  auto view = [](const std::optional<std::string>& s) -> records::nullable_bytes {
    if (!s) return std::nullopt;
    return records::bytes_view(reinterpret_cast<const uint8_t*>(s->data()), s->size());
  };
  b.add(timestamp, view(key), view(value));
  std::vector<uint8_t> out;
  EXPECT_EQ(b.finish(out), records::errc::ok);
  return out;
}

// Every record from the log start to the LEO, read through the log's file ranges.
std::vector<seen_record> records_of(const log& lg) {
  std::vector<seen_record> out;
  int64_t offset = lg.log_start_offset();
  std::vector<uint8_t> scratch;
  while (offset < lg.log_end_offset()) {
    auto r = lg.read(offset, 1 << 20, kMax, true);
    EXPECT_TRUE(r) << r.error().message();
    if (!r || r->ranges.empty()) break;
    std::vector<uint8_t> bytes;
    EXPECT_TRUE(append_range_bytes(r.value(), bytes));
    size_t pos = 0;
    while (pos + records::kBatchHeaderSize <= bytes.size()) {
      records::batch_header_view h(bytes.data() + pos);
      const auto size = size_t(h.total_size());
      records::record_iterator it(records::bytes_view(bytes.data() + pos, size), scratch);
      records::record rec;
      while (it.next(rec))
        if (it.offset_of(rec) >= offset) out.push_back({it.offset_of(rec), text(rec.key), text(rec.value)});
      EXPECT_TRUE(it.ok());
      offset = std::max(offset, h.last_offset() + 1);
      pos += size;
    }
  }
  return out;
}

log_config compact_config(size_t batch_size) {
  log_config cfg;
  cfg.compact = true;
  cfg.min_cleanable_dirty_ratio = 0;
  cfg.segment_bytes = int64_t(batch_size) * 4;  // four one-record batches a segment
  cfg.retention_ms = -1;
  return cfg;
}

struct fixture {
  temp_dir dir;
  std::shared_ptr<log> lg;
  std::vector<seen_record> appended;
  log_config cfg;

  explicit fixture(log_config c = compact_config(keyed("k0", "v00", 0).size())) : cfg(c) {
    lg = log::open(log_options(dir.path(), cfg)).value();
  }
  void append(std::optional<std::string> key, std::optional<std::string> value, int64_t ts = 1000) {
    auto b = keyed(key, value, ts);
    auto r = lg->append(b, 0, ts);
    ASSERT_TRUE(r) << r.error().message();
    appended.push_back({r->base_offset, key, value});
  }
  // Keys k0..k4, 20 records, offsets 0..19: record i is key k(i%5), value v(i).
  void append_rounds() {
    for (int i = 0; i < 20; ++i) append("k" + std::to_string(i % 5), (i < 10 ? "v0" : "v") + std::to_string(i));
  }
};

TEST(log_cleaner, keeps_the_newest_record_of_each_key_at_its_offset) {
  fixture f;
  f.append_rounds();
  ASSERT_EQ(f.lg->segments_count(), 5u);  // offsets 16..19 are in the active segment
  const int64_t leo = f.lg->log_end_offset();
  auto r = f.lg->clean(5000, 1 << 20);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r.value().has_value());
  EXPECT_EQ(r.value()->records_read, 16);
  EXPECT_EQ(r.value()->records_kept, 5);
  EXPECT_EQ(r.value()->cleaned_up_to, 16);
  // Below 16 only each key's newest stays (k1..k4: 11..14, k0: 15); the active
  // segment is untouched.
  std::vector<seen_record> expect;
  for (int64_t o : {11, 12, 13, 14, 15, 16, 17, 18, 19}) expect.push_back(f.appended[size_t(o)]);
  EXPECT_EQ(records_of(*f.lg), expect);
  EXPECT_EQ(f.lg->log_start_offset(), 0);
  EXPECT_EQ(f.lg->log_end_offset(), leo);
  // Segments 0..2 lost records and were rewritten (full segments are not merged);
  // segment 3 kept all of its records and was left alone.
  EXPECT_EQ(r.value()->segments_before, 3u);
  EXPECT_EQ(r.value()->segments_after, 3u);
  EXPECT_EQ(f.lg->segments_count(), 5u);
  EXPECT_LT(r.value()->bytes_after, r.value()->bytes_before / 2);
  // Reading from an offset that was cleaned away starts at the next record.
  auto from3 = f.lg->read(3, 1 << 20, kMax, true);
  ASSERT_TRUE(from3);
  EXPECT_FALSE(from3->ranges.empty());
  // A second pass right away finds nothing dirty.
  auto again = f.lg->clean(5000, 1 << 20);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again.value().has_value());
  // More records roll the active segment; the next pass merges the small cleaned
  // segments, and k1..k4 at 16..19 now replace 11..14.
  for (int i = 0; i < 4; ++i) f.append("k9", "a" + std::to_string(i));
  EXPECT_EQ(f.lg->segments_count(), 6u);
  auto third = f.lg->clean(5000, 1 << 20);
  ASSERT_TRUE(third);
  ASSERT_TRUE(third.value().has_value());
  EXPECT_LT(f.lg->segments_count(), 6u);
  expect.clear();
  for (int64_t o : {15, 16, 17, 18, 19, 20, 21, 22, 23}) expect.push_back(f.appended[size_t(o)]);
  EXPECT_EQ(records_of(*f.lg), expect);
}

TEST(log_cleaner, drops_keyless_records_and_tombstones_after_delete_retention) {
  log_config cfg = compact_config(keyed("k0", "v00", 0).size());
  cfg.delete_retention_ms = 10000;
  fixture f(cfg);
  f.append("a", "a1", 1000);
  f.append(std::nullopt, "no key", 1000);
  f.append("a", std::nullopt, 2000);  // tombstone for a
  f.append("b", "b1", 2000);
  for (int i = 0; i < 8; ++i) f.append("c", "c" + std::to_string(i), 3000);
  ASSERT_GE(f.lg->segments_count(), 3u);
  // At 5,000 the tombstone is 3 s old: it stays, the value it deletes goes.
  ASSERT_TRUE(f.lg->clean(5000, 1 << 20).value().has_value());
  auto after1 = records_of(*f.lg);
  EXPECT_EQ(after1.front(), (seen_record{2, "a", std::nullopt}));
  EXPECT_EQ(after1[1], (seen_record{3, "b", "b1"}));
  for (const auto& rec : after1) EXPECT_TRUE(rec.key.has_value());
  // New data makes the log dirty again; at 20,000 the tombstone is past 10 s.
  for (int i = 0; i < 8; ++i) f.append("d", "d" + std::to_string(i), 20000);
  ASSERT_TRUE(f.lg->clean(20000, 1 << 20).value().has_value());
  auto after2 = records_of(*f.lg);
  EXPECT_EQ(after2.front(), (seen_record{3, "b", "b1"}));
  for (const auto& rec : after2) EXPECT_NE(rec.key, std::optional<std::string>("a"));
}

TEST(log_cleaner, waits_for_the_dirty_ratio_and_the_compaction_lag) {
  log_config cfg = compact_config(keyed("k0", "v00", 0).size());
  cfg.min_cleanable_dirty_ratio = 0.5;
  cfg.min_compaction_lag_ms = 60000;
  fixture f(cfg);
  f.append_rounds();
  // Every record is at 1,000 ms: at 30,000 none is old enough.
  EXPECT_FALSE(f.lg->clean(30000, 1 << 20).value().has_value());
  ASSERT_TRUE(f.lg->clean(70000, 1 << 20).value().has_value());
  // Four more segments' worth at 70,000: dirty 4 of 5 segments -> cleaned once old enough.
  for (int i = 0; i < 4; ++i) f.append("k" + std::to_string(i), "w" + std::to_string(i), 70000);
  EXPECT_FALSE(f.lg->clean(71000, 1 << 20).value().has_value());
  // Not a compacted topic: nothing.
  fixture plain(log_config{});
  plain.append_rounds();
  EXPECT_FALSE(plain.lg->clean(70000, 1 << 20).value().has_value());
}

TEST(log_cleaner, a_small_map_cleans_over_several_passes) {
  fixture f;
  for (int i = 0; i < 40; ++i) f.append("key-" + std::to_string(i % 10), "v" + std::to_string(i));
  std::vector<seen_record> expect;
  int passes = 0;
  // Room for a few keys per pass: every pass must move the dirty offset on.
  for (int64_t before = -1; f.lg->first_dirty_offset() != before && passes < 50; ++passes) {
    before = f.lg->first_dirty_offset();
    auto r = f.lg->clean(5000, 400);
    ASSERT_TRUE(r) << r.error().message();
  }
  EXPECT_GT(passes, 2);
  // Whatever the passes, each key of the cleaned part appears once at most.
  std::map<std::string, int> seen;
  const int64_t active_base = f.lg->log_end_offset() - 4;
  for (const auto& rec : records_of(*f.lg)) {
    if (rec.offset < active_base) {
      EXPECT_EQ(++seen[*rec.key], 1) << *rec.key;
    }
  }
}

TEST(log_cleaner, the_cleaned_log_reopens_after_a_clean_shutdown_and_after_a_crash) {
  fixture f;
  f.append_rounds();
  ASSERT_TRUE(f.lg->clean(5000, 1 << 20).value().has_value());
  const auto cleaned = records_of(*f.lg);
  const int64_t leo = f.lg->log_end_offset();
  ASSERT_FALSE(f.lg->close());
  f.lg.reset();
  auto opts = log_options(f.dir.path(), f.cfg);
  opts.clean_shutdown = true;
  auto reopened = log::open(opts);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(records_of(*reopened.value()), cleaned);
  EXPECT_EQ(reopened.value()->log_end_offset(), leo);
  reopened.value().reset();
  // As after a crash: every segment is scanned, and the cleaned one still ends where
  // the next begins, so nothing after it is thrown away.
  opts.clean_shutdown = false;
  opts.recovery_point = 0;
  auto recovered = log::open(opts);
  ASSERT_TRUE(recovered);
  EXPECT_EQ(records_of(*recovered.value()), cleaned);
  EXPECT_EQ(recovered.value()->log_end_offset(), leo);
}

TEST(log_cleaner, truncation_below_the_cleaned_part_makes_the_rest_dirty) {
  fixture f;
  f.append_rounds();
  ASSERT_TRUE(f.lg->clean(5000, 1 << 20).value().has_value());
  ASSERT_GT(f.lg->first_dirty_offset(), 3);
  ASSERT_FALSE(f.lg->truncate_to(3));
  EXPECT_EQ(f.lg->first_dirty_offset(), f.lg->log_end_offset());
  EXPECT_LE(f.lg->log_end_offset(), 3);
}

TEST(log_cleaner, the_loader_finishes_an_interrupted_swap_and_sweeps_a_cleaned_file) {
  fixture f;
  f.append_rounds();
  ASSERT_TRUE(f.lg->clean(5000, 1 << 20).value().has_value());
  for (int i = 0; i < 4; ++i) f.append("k9", "a" + std::to_string(i));
  ASSERT_FALSE(f.lg->close());
  f.lg.reset();
  // A copy of the directory stands for the moment between "renamed to .swap" and
  // "old segments removed" of the next pass, which merges segments 0, 4 and 8: the
  // copy gets that pass's segment 0 as 0.log.swap.
  temp_dir other;
  std::filesystem::copy(f.dir / "t-0", other / "t-0");
  std::vector<seen_record> before;
  {
    auto copy = log::open(log_options(other.path(), f.cfg));
    ASSERT_TRUE(copy);
    before = records_of(*copy.value());
    ASSERT_FALSE(copy.value()->close());
  }
  auto lg = log::open(log_options(f.dir.path(), f.cfg)).value();
  ASSERT_TRUE(lg->clean(5000, 1 << 20).value().has_value());
  ASSERT_EQ(file_size(f.dir / "t-0/00000000000000000004.log"), -1);  // merged into 0
  // The swap covers offsets below the next segment left in the cleaned directory.
  std::optional<int64_t> next_base;
  for (const auto& name : list_files(f.dir / "t-0"))
    if (name.size() == 24 && name.ends_with(".log") && name != "00000000000000000000.log" && !next_base)
      next_base = std::stoll(name.substr(0, 20));
  ASSERT_TRUE(next_base);
  std::vector<seen_record> expect;
  for (const auto& rec : records_of(*lg))
    if (rec.offset < *next_base) expect.push_back(rec);
  for (const auto& rec : before)
    if (rec.offset >= *next_base) expect.push_back(rec);
  std::filesystem::copy_file(f.dir / "t-0/00000000000000000000.log", other / "t-0/00000000000000000000.log.swap");
  std::filesystem::copy_file(f.dir / "t-0/00000000000000000000.log", other / "t-0/00000000000000000016.log.cleaned");
  auto finished = log::open(log_options(other.path(), f.cfg));
  ASSERT_TRUE(finished) << finished.error().message();
  EXPECT_EQ(records_of(*finished.value()), expect);
  for (const auto& name : list_files(other / "t-0")) {
    EXPECT_EQ(name.find(".swap"), std::string::npos) << name;
    EXPECT_EQ(name.find(".cleaned"), std::string::npos) << name;
  }
  EXPECT_EQ(file_size(other / "t-0/00000000000000000004.log"), -1);
  EXPECT_EQ(file_size(other / "t-0/00000000000000000008.log"), -1);
}

}  // namespace
}  // namespace strata::storage
