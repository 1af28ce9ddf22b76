// append_replicated: a follower stores the leader's batches with their offsets and
// epochs, and they survive a restart.
#include <gtest/gtest.h>

#include "protocol/records/batch_header.h"
#include "storage/log.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;

std::vector<uint8_t> leader_batch(int records, int64_t base_offset, int32_t epoch) {
  auto b = make_batch(records, 20, 1000 + base_offset);
  records::batch_header_mut h(b.data());
  h.set_base_offset(base_offset);
  h.set_partition_leader_epoch(epoch);
  return b;
}

TEST(log_replicated, keeps_offsets_and_epochs_across_a_restart) {
  temp_dir dir;
  {
    auto lg = log::open(log_options(dir.path())).value();
    auto buf = leader_batch(2, 0, 1);
    append_to(buf, leader_batch(1, 2, 1));
    append_to(buf, leader_batch(3, 3, 4));
    auto r = lg->append_replicated(buf, 1);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->base_offset, 0);
    EXPECT_EQ(r->last_offset, 5);
    EXPECT_EQ(lg->log_end_offset(), 6);
    ASSERT_FALSE(lg->close());
  }
  auto opts = log_options(dir.path());
  opts.clean_shutdown = false;  // scan everything again
  auto lg = log::open(opts).value();
  EXPECT_EQ(lg->log_end_offset(), 6);
  auto seen = read_all(*lg);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].base_offset, 2);
  EXPECT_EQ(seen[2].base_offset, 3);
  EXPECT_EQ(seen[2].leader_epoch, 4);
  EXPECT_EQ(lg->end_offset_for_epoch(1), (std::pair<int32_t, int64_t>{1, 3}));
}

TEST(log_replicated, refuses_offsets_that_do_not_continue_the_log) {
  temp_dir dir;
  auto lg = log::open(log_options(dir.path())).value();
  auto first = leader_batch(3, 0, 0);
  ASSERT_TRUE(lg->append_replicated(first, 1));
  auto overlap = leader_batch(1, 2, 0);
  auto r = lg->append_replicated(overlap, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::invalid_offset);
  auto ahead = leader_batch(1, 4, 0);
  auto r1 = lg->append_replicated(ahead, 1);
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error(), errc::invalid_offset);
  auto gap = leader_batch(1, 3, 0);
  append_to(gap, leader_batch(1, 5, 0));
  auto r2 = lg->append_replicated(gap, 1);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), errc::invalid_batch);
  EXPECT_EQ(lg->log_end_offset(), 3);
  EXPECT_EQ(read_all(*lg).size(), 1u);
}

}  // namespace
}  // namespace strata::storage

namespace strata::storage {
namespace {

TEST(log_replicated, the_checkpointed_high_watermark_is_restored_clamped_to_the_log) {
  using namespace testing;
  temp_dir dir;
  {
    auto lg = log::open(log_options(dir.path())).value();
    auto buf = make_batch(5, 10, 1000);
    ASSERT_TRUE(lg->append(buf, 0, 1));
    ASSERT_FALSE(lg->close());
  }
  auto opts = log_options(dir.path());
  opts.clean_shutdown = true;
  opts.recovery_point = 5;
  opts.high_watermark = 3;  // a follower that had replicated past the leader's HW
  EXPECT_EQ(log::open(opts).value()->high_watermark(), 3);
  opts.high_watermark = 100;
  EXPECT_EQ(log::open(opts).value()->high_watermark(), 5);
  opts.high_watermark = -1;  // no checkpoint: the log end
  EXPECT_EQ(log::open(opts).value()->high_watermark(), 5);
}

}  // namespace
}  // namespace strata::storage
