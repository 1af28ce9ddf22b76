// Segment roll (segment.bytes, segment.ms, full index) and reads across segment boundaries.
#include <gtest/gtest.h>

#include "storage/file_names.h"
#include "storage/log.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::shared_ptr<log> open_log(const temp_dir& d, const log_config& cfg) {
  auto r = log::open(log_options(d.path(), cfg));
  EXPECT_TRUE(r) << r.error().message();
  return r.value();
}

std::vector<std::string> logs_in(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& f : list_files(dir)) {
    if (ends_with(f, ".log")) out.push_back(f);
  }
  return out;
}

TEST(log_roll, by_segment_bytes_with_kafka_file_names) {
  temp_dir d;
  log_config cfg;
  auto one = make_batch(2, 100, 1000);
  cfg.segment_bytes = int64_t(one.size()) * 3;  // three batches per segment
  auto lg = open_log(d, cfg);
  for (int i = 0; i < 10; ++i) {
    auto b = make_batch(2, 100, 1000 + i);
    ASSERT_TRUE(lg->append(b, 0, 1));
  }
  EXPECT_EQ(lg->segments_count(), 4u);
  auto logs = logs_in(d / "t-0");
  std::vector<std::string> want = {"00000000000000000000.log", "00000000000000000006.log",
                                   "00000000000000000012.log", "00000000000000000018.log"};
  EXPECT_EQ(logs, want);
  EXPECT_EQ(file_size(d / "t-0/00000000000000000000.log"), int64_t(one.size()) * 3);
  for (const char* f : {"00000000000000000006.index", "00000000000000000006.timeindex"}) {
    EXPECT_GE(file_size(d / ("t-0/" + std::string(f))), 0) << f;
  }
}

TEST(log_roll, by_segment_ms_measured_on_batch_timestamps) {
  temp_dir d;
  log_config cfg;
  cfg.segment_ms = 1000;
  auto lg = open_log(d, cfg);
  for (int64_t ts : {10000, 10500, 11000, 11001, 12500}) {
    auto b = make_batch(1, 10, ts);
    ASSERT_TRUE(lg->append(b, 0, ts));
  }
  // 10000 opens segment 0; 11001 - 10000 > 1000 rolls; 12500 - 11001 > 1000 rolls.
  EXPECT_EQ(lg->segments_count(), 3u);
  EXPECT_EQ(logs_in(d / "t-0").at(1), "00000000000000000003.log");
}

TEST(log_roll, by_full_index) {
  temp_dir d;
  log_config cfg;
  cfg.index_interval_bytes = 1;  // an index entry per append after the first
  cfg.segment_index_bytes = 8 * 4;
  auto lg = open_log(d, cfg);
  for (int i = 0; i < 12; ++i) {
    auto b = make_batch(1, 10, i);
    ASSERT_TRUE(lg->append(b, 0, 1));
  }
  // 4 entries fit: the 5th append after the first fills it, the next rolls.
  EXPECT_GE(lg->segments_count(), 2u);
  EXPECT_EQ(read_all(*lg).size(), 12u);
}

TEST(log_roll, index_lookups_at_segment_boundaries) {
  temp_dir d;
  log_config cfg;
  cfg.index_interval_bytes = 150;
  auto probe = make_batch(3, 20, 0);
  cfg.segment_bytes = int64_t(probe.size()) * 5 + 10;
  auto lg = open_log(d, cfg);
  for (int i = 0; i < 40; ++i) {
    auto b = make_batch(3, 20, 5000 + i * 10);
    ASSERT_TRUE(lg->append(b, 2, 1));
  }
  ASSERT_EQ(lg->segments_count(), 8u);
  for (int64_t off = 0; off < 120; ++off) {
    auto r = lg->read(off, 1, kMax, true);
    ASSERT_TRUE(r);
    auto got = batches_in(r.value());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].base_offset, off / 3 * 3) << off;
  }
  // A big budget spans segments: one range per segment, batches contiguous.
  auto r = lg->read(14, 1 << 20, kMax, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ranges.size(), 8u);
  auto got = batches_in(r.value());
  EXPECT_EQ(got.front().base_offset, 12);
  EXPECT_EQ(got.back().last_offset, 119);
  for (size_t i = 1; i < got.size(); ++i) EXPECT_EQ(got[i].base_offset, got[i - 1].last_offset + 1);
  // Timestamp lookups land in the right segment too.
  for (int i = 0; i < 40; ++i) {
    auto f = lg->offset_for_timestamp(5000 + i * 10);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->offset, i * 3);
  }
  EXPECT_EQ(lg->max_timestamp_and_offset().offset, 119);
}

}  // namespace
}  // namespace strata::storage
