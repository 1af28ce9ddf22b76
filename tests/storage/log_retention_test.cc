// Retention by time and size, DeleteRecords.
#include <gtest/gtest.h>

#include "storage/log.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

struct fixture {
  temp_dir dir;
  std::shared_ptr<log> lg;
  size_t batch_size = 0;

  // 5 segments of 4 batches (2 records each): offsets 8k..8k+7 in segment k; batch i
  // has timestamp 1000 * (i + 1).
  explicit fixture(log_config cfg = {}) {
    batch_size = make_batch(2, 50, 0).size();
    cfg.segment_bytes = int64_t(batch_size) * 4;
    lg = log::open(log_options(dir.path(), cfg)).value();
    for (int i = 0; i < 20; ++i) {
      auto b = make_batch(2, 50, 1000 * (i + 1));
      EXPECT_TRUE(lg->append(b, 0, 1));
    }
    EXPECT_EQ(lg->segments_count(), 5u);
  }
};

TEST(log_retention, by_time_deletes_whole_segments_older_than_retention_ms) {
  log_config cfg;
  cfg.retention_ms = 10000;
  fixture f(cfg);
  // Segment k's newest batch has timestamp 1000*(4k+4)+1. At now=25000 the segments
  // whose newest batch is before 15000 go: k = 0, 1, 2 (4001, 8001, 12001).
  auto n = f.lg->delete_old_segments(25000);
  ASSERT_TRUE(n);
  EXPECT_EQ(n.value(), 3u);
  EXPECT_EQ(f.lg->segments_count(), 2u);
  EXPECT_EQ(f.lg->log_start_offset(), 24);
  EXPECT_EQ(f.lg->read(23, 100, kMax, true).error(), errc::offset_out_of_range);
  EXPECT_EQ(read_all(*f.lg).front().base_offset, 24);
  EXPECT_EQ(file_size(f.dir / "t-0/00000000000000000000.log"), -1);
  EXPECT_EQ(file_size(f.dir / "t-0/00000000000000000000.index"), -1);
  EXPECT_EQ(f.lg->delete_old_segments(25000).value(), 0u);
}

TEST(log_retention, by_time_can_empty_the_log_and_keeps_an_active_segment) {
  log_config cfg;
  cfg.retention_ms = 10;
  fixture f(cfg);
  EXPECT_EQ(f.lg->delete_old_segments(1000000).value(), 5u);
  EXPECT_EQ(f.lg->segments_count(), 1u);
  EXPECT_EQ(f.lg->log_start_offset(), 40);
  EXPECT_EQ(f.lg->log_end_offset(), 40);
  auto b = make_batch(1, 10, 2000000);
  auto r = f.lg->append(b, 0, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->base_offset, 40);
  EXPECT_EQ(read_all(*f.lg).size(), 1u);
}

TEST(log_retention, infinite_time_retention_keeps_everything) {
  log_config cfg;
  cfg.retention_ms = -1;
  fixture f(cfg);
  EXPECT_EQ(f.lg->delete_old_segments(kMax / 2).value(), 0u);
  EXPECT_EQ(f.lg->segments_count(), 5u);
}

TEST(log_retention, by_size_keeps_the_log_at_least_retention_bytes) {
  log_config cfg;
  cfg.retention_ms = -1;
  fixture probe;
  cfg.retention_bytes = int64_t(probe.batch_size) * 4 * 2 + 1;  // just over two segments
  fixture f(cfg);
  EXPECT_EQ(f.lg->delete_old_segments(0).value(), 2u);
  EXPECT_EQ(f.lg->segments_count(), 3u);
  EXPECT_EQ(f.lg->log_start_offset(), 16);
  EXPECT_GE(int64_t(f.lg->size_bytes()), cfg.retention_bytes);
}

TEST(log_retention, only_below_the_high_watermark) {
  log_config cfg;
  cfg.retention_ms = 10;
  fixture f(cfg);
  f.lg->set_high_watermark_follows_log_end(false);
  f.lg->set_high_watermark(17);  // segments 0 (0..7) and 1 (8..15) are wholly below
  EXPECT_EQ(f.lg->delete_old_segments(1000000).value(), 2u);
  EXPECT_EQ(f.lg->log_start_offset(), 16);
}

TEST(log_retention, delete_records_moves_log_start_and_deletes_segments_below_it) {
  fixture f;
  EXPECT_FALSE(f.lg->delete_records_before(13));
  EXPECT_EQ(f.lg->log_start_offset(), 13);
  EXPECT_EQ(f.lg->segments_count(), 4u);  // segment 0 (0..7) went, segment 8 holds 13
  EXPECT_EQ(f.lg->read(12, 100, kMax, true).error(), errc::offset_out_of_range);
  auto r = f.lg->read(13, 1, kMax, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(batches_in(r.value()).front().base_offset, 12);  // whole batch holding 13
  EXPECT_FALSE(f.lg->delete_records_before(5));  // never moves back
  EXPECT_EQ(f.lg->log_start_offset(), 13);
  EXPECT_EQ(f.lg->delete_records_before(41), errc::offset_out_of_range);  // past the HW
  EXPECT_FALSE(f.lg->delete_records_before(40));
  EXPECT_EQ(f.lg->log_start_offset(), 40);
  EXPECT_EQ(f.lg->segments_count(), 1u);  // the active segment stays
  auto empty = f.lg->read(40, 100, kMax, true);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->ranges.empty());
}

TEST(log_retention, readers_keep_deleted_segments_readable) {
  log_config cfg;
  cfg.retention_ms = 10;
  fixture f(cfg);
  auto r = f.lg->read(0, 1 << 20, kMax, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(f.lg->delete_old_segments(1000000).value(), 5u);
  // The ranges' keepalives hold the descriptors: the bytes are still there.
  auto got = batches_in(r.value());
  EXPECT_EQ(got.size(), 20u);
  for (auto& b : got) EXPECT_TRUE(b.crc_ok);
}

}  // namespace
}  // namespace strata::storage
