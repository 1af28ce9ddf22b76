// truncate_to (what a follower does before fetching from a new leader).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "storage/log.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

struct fixture {
  temp_dir dir;
  std::shared_ptr<log> lg;
  // 4 segments of 3 batches, 2 records each: segment k holds offsets 6k..6k+5.
  // Batches 0-5 are epoch 1, 6-11 epoch 3.
  fixture() {
    log_config cfg;
    cfg.segment_bytes = int64_t(make_batch(2, 40, 0).size()) * 3;
    cfg.index_interval_bytes = 1;
    lg = log::open(log_options(dir.path(), cfg)).value();
    for (int i = 0; i < 12; ++i) {
      auto b = make_batch(2, 40, 100 * (i + 1));
      EXPECT_TRUE(lg->append(b, i < 6 ? 1 : 3, 1));
    }
    EXPECT_EQ(lg->segments_count(), 4u);
  }
};

TEST(log_truncate, inside_the_active_segment_at_a_batch_boundary) {
  fixture f;
  ASSERT_FALSE(f.lg->truncate_to(22));
  EXPECT_EQ(f.lg->log_end_offset(), 22);
  EXPECT_EQ(f.lg->high_watermark(), 22);
  auto all = read_all(*f.lg);
  ASSERT_EQ(all.size(), 11u);
  EXPECT_EQ(all.back().last_offset, 21);
  auto b = make_batch(1, 40, 5000);
  auto r = f.lg->append(b, 3, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->base_offset, 22);
  EXPECT_EQ(read_all(*f.lg).size(), 12u);
}

TEST(log_truncate, across_segments_deletes_later_ones) {
  fixture f;
  ASSERT_FALSE(f.lg->truncate_to(8));
  EXPECT_EQ(f.lg->segments_count(), 2u);
  EXPECT_EQ(f.lg->log_end_offset(), 8);
  EXPECT_EQ(file_size(f.dir / "t-0/00000000000000000012.log"), -1);
  EXPECT_EQ(file_size(f.dir / "t-0/00000000000000000018.log"), -1);
  // The epoch cache lost the epoch that started at 12.
  EXPECT_EQ(f.lg->leader_epochs(), (std::vector<epoch_entry>{{1, 0}}));
  EXPECT_EQ(f.lg->max_timestamp_and_offset().timestamp, 401);
  EXPECT_FALSE(f.lg->offset_for_timestamp(500));
  // Appends continue in the segment that became active, and roll from there.
  for (int i = 0; i < 6; ++i) {
    auto b = make_batch(2, 40, 9000 + i);
    auto r = f.lg->append(b, 4, 1);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->base_offset, 8 + 2 * i);
  }
  auto all = read_all(*f.lg);
  ASSERT_EQ(all.size(), 10u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_EQ(all[i].base_offset, all[i - 1].last_offset + 1);
  EXPECT_EQ(f.lg->leader_epochs(), (std::vector<epoch_entry>{{1, 0}, {4, 8}}));
  EXPECT_EQ(f.lg->offset_for_timestamp(9003)->offset, 12);  // batch 9002..9003
}

TEST(log_truncate, to_a_segment_base_offset_empties_that_segment) {
  fixture f;
  ASSERT_FALSE(f.lg->truncate_to(12));
  EXPECT_EQ(f.lg->log_end_offset(), 12);
  EXPECT_EQ(f.lg->segments_count(), 3u);
  EXPECT_EQ(read_all(*f.lg).back().last_offset, 11);
}

TEST(log_truncate, to_a_segment_boundary_after_a_clean_reopen) {
  fixture f;
  ASSERT_FALSE(f.lg->close());
  f.lg.reset();
  auto o = log_options(f.dir.path());
  o.clean_shutdown = true;
  auto lg = log::open(o).value();
  // Segment 12 has not been touched since the open: it is emptied and becomes active.
  ASSERT_FALSE(lg->truncate_to(12));
  EXPECT_EQ(lg->log_end_offset(), 12);
  EXPECT_EQ(lg->segments_count(), 3u);
  auto b = make_batch(1, 40, 1);
  EXPECT_EQ(lg->append(b, 3, 1)->base_offset, 12);
  EXPECT_EQ(read_all(*lg).size(), 7u);
}

TEST(log_truncate, mid_batch_removes_the_whole_batch) {
  fixture f;
  ASSERT_FALSE(f.lg->truncate_to(15));  // batch 14..15 goes
  EXPECT_EQ(f.lg->log_end_offset(), 14);
}

TEST(log_truncate, at_or_past_the_end_is_a_no_op) {
  fixture f;
  ASSERT_FALSE(f.lg->truncate_to(24));
  ASSERT_FALSE(f.lg->truncate_to(100));
  EXPECT_EQ(f.lg->log_end_offset(), 24);
}

// A broker that led epoch 5 and appended nothing in it, now a follower: the leader
// never had epoch 5. Kept, it would be named as the last fetched epoch in every fetch,
// and the leader would answer DivergingEpoch at this very end forever (CI's
// faults_pause). A truncation that cuts no record still drops it, on disk too.
TEST(log_truncate, at_the_end_drops_an_epoch_with_no_record) {
  fixture f;
  ASSERT_FALSE(f.lg->assign_leader_epoch(5));
  ASSERT_EQ(f.lg->leader_epochs(), (std::vector<epoch_entry>{{1, 0}, {3, 12}, {5, 24}}));
  ASSERT_FALSE(f.lg->truncate_to(24));
  EXPECT_EQ(f.lg->log_end_offset(), 24);
  EXPECT_EQ(read_all(*f.lg).size(), 12u);
  EXPECT_EQ(f.lg->leader_epochs(), (std::vector<epoch_entry>{{1, 0}, {3, 12}}));
  EXPECT_EQ(f.lg->latest_epoch(), 3);
  std::ifstream in(f.dir / "t-0/leader-epoch-checkpoint");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "0\n2\n1 0\n3 12\n");
}

TEST(log_truncate, below_log_start_restarts_the_log_there) {
  fixture f;
  ASSERT_FALSE(f.lg->delete_records_before(10));
  ASSERT_FALSE(f.lg->truncate_to(4));
  EXPECT_EQ(f.lg->log_start_offset(), 4);
  EXPECT_EQ(f.lg->log_end_offset(), 4);
  EXPECT_EQ(f.lg->segments_count(), 1u);
  EXPECT_TRUE(read_all(*f.lg).empty());
  auto b = make_batch(1, 40, 1);
  EXPECT_EQ(f.lg->append(b, 5, 1)->base_offset, 4);
  EXPECT_EQ(list_files(f.dir / "t-0").front(), "00000000000000000004.index");
}

TEST(log_truncate, to_zero_empties_everything) {
  fixture f;
  ASSERT_FALSE(f.lg->truncate_to(0));
  EXPECT_EQ(f.lg->log_end_offset(), 0);
  EXPECT_EQ(f.lg->segments_count(), 1u);
  EXPECT_EQ(f.lg->size_bytes(), 0u);
  EXPECT_TRUE(f.lg->leader_epochs().empty());
  auto b = make_batch(1, 40, 1);
  EXPECT_EQ(f.lg->append(b, 5, 1)->base_offset, 0);
}

TEST(log_truncate, survives_reopen) {
  fixture f;
  ASSERT_FALSE(f.lg->truncate_to(9));
  EXPECT_EQ(f.lg->log_end_offset(), 8);
  ASSERT_FALSE(f.lg->close());
  f.lg.reset();
  auto o = log_options(f.dir.path());
  o.clean_shutdown = true;
  auto lg = log::open(o).value();
  EXPECT_EQ(lg->log_end_offset(), 8);
  EXPECT_EQ(read_all(*lg).size(), 4u);
}

}  // namespace
}  // namespace strata::storage
