// Append and read on one partition log.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "protocol/records/batch_header.h"
#include "storage/log.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::shared_ptr<log> open_log(const temp_dir& d, const log_config& cfg = {}) {
  auto r = log::open(log_options(d.path(), cfg));
  EXPECT_TRUE(r) << r.error().message();
  return r.value();
}

TEST(log_append, assigns_offsets_and_stamps_base_offset_and_epoch_in_place) {
  temp_dir d;
  auto lg = open_log(d);
  EXPECT_EQ(lg->log_end_offset(), 0);
  auto b1 = make_batch(3, 10, 1000);
  auto r1 = lg->append(b1, 5, 7777);
  ASSERT_TRUE(r1) << r1.error().message();
  EXPECT_EQ(r1->base_offset, 0);
  EXPECT_EQ(r1->last_offset, 2);
  EXPECT_EQ(r1->log_append_time_ms, 7777);
  EXPECT_EQ(r1->log_start_offset, 0);
  // The caller's buffer was stamped: that is the copy that went to disk.
  records::batch_header_view h(b1.data());
  EXPECT_EQ(h.base_offset(), 0);
  EXPECT_EQ(h.partition_leader_epoch(), 5);

  auto b2 = make_batch(2, 10, 2000);
  auto r2 = lg->append(b2, 5, 7778);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->base_offset, 3);
  EXPECT_EQ(r2->last_offset, 4);
  EXPECT_EQ(records::batch_header_view(b2.data()).base_offset(), 3);
  EXPECT_EQ(lg->log_end_offset(), 5);
  EXPECT_EQ(lg->high_watermark(), 5);

  auto all = read_all(*lg);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].base_offset, 0);
  EXPECT_EQ(all[0].last_offset, 2);
  EXPECT_EQ(all[0].leader_epoch, 5);
  EXPECT_EQ(all[1].base_offset, 3);
  EXPECT_TRUE(all[0].crc_ok);
  EXPECT_TRUE(all[1].crc_ok);
  EXPECT_EQ(lg->leader_epochs(), (std::vector<epoch_entry>{{5, 0}}));
}

TEST(log_append, several_batches_in_one_buffer_are_one_write) {
  temp_dir d;
  auto lg = open_log(d);
  std::vector<uint8_t> buf;
  append_to(buf, make_batch(2, 10, 100));
  append_to(buf, make_batch(1, 10, 200));
  append_to(buf, make_batch(4, 10, 300));
  auto r = lg->append(buf, 0, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->base_offset, 0);
  EXPECT_EQ(r->last_offset, 6);
  EXPECT_EQ(r->batches, 3);
  auto all = read_all(*lg);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].base_offset, 2);
  EXPECT_EQ(all[2].base_offset, 3);
  EXPECT_EQ(all[2].last_offset, 6);
  EXPECT_EQ(int64_t(lg->size_bytes()), int64_t(buf.size()));
}

TEST(log_append, rejects_malformed_buffers_without_writing) {
  temp_dir d;
  auto lg = open_log(d);
  auto b = make_batch(1, 10, 1);
  std::vector<uint8_t> cut(b.begin(), b.end() - 1);
  EXPECT_EQ(lg->append(cut, 0, 1).error(), errc::invalid_batch);
  std::vector<uint8_t> empty;
  EXPECT_EQ(lg->append(empty, 0, 1).error(), errc::invalid_batch);
  auto bad_magic = b;
  bad_magic[16] = 1;
  EXPECT_EQ(lg->append(bad_magic, 0, 1).error(), errc::invalid_batch);
  EXPECT_EQ(lg->size_bytes(), 0u);
  EXPECT_EQ(lg->log_end_offset(), 0);
}

TEST(log_append, batch_larger_than_segment_bytes_is_rejected) {
  temp_dir d;
  log_config cfg;
  cfg.segment_bytes = 1000;
  auto lg = open_log(d, cfg);
  auto big = make_batch(1, 2000, 1);
  EXPECT_EQ(lg->append(big, 0, 1).error(), errc::batch_too_large);
}

TEST(log_append, listener_runs_after_each_append) {
  temp_dir d;
  auto lg = open_log(d);
  int calls = 0;
  int64_t seen_leo = -1;
  lg->set_append_listener([&] {
    calls++;
    seen_leo = lg->log_end_offset();
  });
  auto b = make_batch(2, 10, 1);
  ASSERT_TRUE(lg->append(b, 0, 1));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen_leo, 2);
}

TEST(log_append, high_watermark_can_be_driven_by_the_caller) {
  temp_dir d;
  auto lg = open_log(d);
  lg->set_high_watermark_follows_log_end(false);
  auto b = make_batch(2, 10, 1);
  ASSERT_TRUE(lg->append(b, 0, 1));
  EXPECT_EQ(lg->high_watermark(), 0);
  lg->set_high_watermark(100);
  EXPECT_EQ(lg->high_watermark(), 2);  // clamped to the LEO
  // Consumers read below the HW only.
  lg->set_high_watermark(0);
  auto r = lg->read(0, 1000, lg->high_watermark(), true);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ranges.empty());
}

class log_read_test : public ::testing::Test {
 protected:
  void SetUp() override {
    log_config cfg;
    cfg.index_interval_bytes = 100;
    lg_ = open_log(dir_, cfg);
    // 20 batches of 3 records, each about 100 bytes.
    for (int i = 0; i < 20; ++i) {
      auto b = make_batch(3, 10, 1000 + i * 10);
      sizes_.push_back(b.size());
      ASSERT_TRUE(lg_->append(b, 1, 1));
    }
  }
  temp_dir dir_;
  std::shared_ptr<log> lg_;
  std::vector<size_t> sizes_;
};

TEST_F(log_read_test, starts_at_the_batch_containing_the_offset) {
  for (int64_t off = 0; off < 60; ++off) {
    auto r = lg_->read(off, 1, kMax, true);
    ASSERT_TRUE(r);
    auto got = batches_in(r.value());
    ASSERT_EQ(got.size(), 1u) << off;
    EXPECT_EQ(got[0].base_offset, off / 3 * 3);
  }
}

TEST_F(log_read_test, honours_max_bytes_with_whole_batches) {
  size_t two = sizes_[0] + sizes_[1];
  auto r = lg_->read(0, int32_t(two + sizes_[2] - 1), kMax, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, two);
  EXPECT_EQ(batches_in(r.value()).size(), 2u);
  auto all = lg_->read(0, 1 << 20, kMax, true);
  EXPECT_EQ(batches_in(all.value()).size(), 20u);
  ASSERT_EQ(all->ranges.size(), 1u);
  EXPECT_EQ(all->ranges[0].position, 0u);
}

TEST_F(log_read_test, first_batch_even_if_larger_than_budget_only_with_min_one_batch) {
  auto r = lg_->read(4, 10, kMax, true);
  ASSERT_TRUE(r);
  auto got = batches_in(r.value());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].base_offset, 3);
  auto none = lg_->read(4, 10, kMax, false);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->ranges.empty());
}

TEST_F(log_read_test, honours_max_offset) {
  auto r = lg_->read(0, 1 << 20, 9, true);
  ASSERT_TRUE(r);
  auto got = batches_in(r.value());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got.back().last_offset, 8);
  // Every limit, every start, every budget lands on whole batches below the limit.
  for (int64_t limit = 0; limit <= 60; limit += 3) {
    for (int64_t start = 0; start < limit; start += 4) {
      for (int32_t budget : {50, 250, 700, 100000}) {
        auto rr = lg_->read(start, budget, limit, true);
        ASSERT_TRUE(rr);
        auto bs = batches_in(rr.value());
        ASSERT_FALSE(bs.empty());
        EXPECT_EQ(bs.front().base_offset, start / 3 * 3);
        EXPECT_LT(bs.back().last_offset, limit);
        EXPECT_TRUE(rr->bytes <= uint64_t(budget) || bs.size() == 1);
        for (size_t i = 1; i < bs.size(); ++i) EXPECT_EQ(bs[i].base_offset, bs[i - 1].last_offset + 1);
        if (budget == 100000) {
          EXPECT_EQ(bs.back().last_offset, limit - 1);
        }
      }
    }
  }
}

TEST_F(log_read_test, offsets_out_of_range) {
  EXPECT_EQ(lg_->read(61, 100, kMax, true).error(), errc::offset_out_of_range);
  EXPECT_EQ(lg_->read(-1, 100, kMax, true).error(), errc::offset_out_of_range);
  auto at_end = lg_->read(60, 100, kMax, true);
  ASSERT_TRUE(at_end);
  EXPECT_TRUE(at_end->ranges.empty());
  EXPECT_EQ(at_end->log_end_offset, 60);
  EXPECT_EQ(at_end->high_watermark, 60);
  EXPECT_EQ(at_end->log_start_offset, 0);
}

TEST_F(log_read_test, offset_for_timestamp_and_max_timestamp) {
  // Batch i has max timestamp 1000 + i*10 + 2 and offsets 3i..3i+2.
  auto found = lg_->offset_for_timestamp(1055);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->offset, 18);  // batch 6: max 1062
  EXPECT_EQ(found->timestamp, 1062);
  EXPECT_EQ(found->leader_epoch, 1);
  EXPECT_EQ(lg_->offset_for_timestamp(0)->offset, 0);
  EXPECT_FALSE(lg_->offset_for_timestamp(5000));
  EXPECT_FALSE(lg_->offset_for_timestamp(1055, 18));  // beyond the max offset
  auto mx = lg_->max_timestamp_and_offset();
  EXPECT_EQ(mx.timestamp, 1192);
  EXPECT_EQ(mx.offset, 59);
  EXPECT_EQ(lg_->epoch_for_offset(mx.offset), 1);
  for (int i = 0; i < 20; ++i) {
    auto f = lg_->offset_for_timestamp(1000 + i * 10 + 2);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->offset, i * 3);
  }
}

TEST(log_read, concurrent_reader_sees_only_whole_batches) {
  temp_dir d;
  log_config cfg;
  cfg.segment_bytes = 20000;
  cfg.index_interval_bytes = 256;
  auto lg = open_log(d, cfg);
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!stop.load()) {
      int64_t leo = lg->log_end_offset();
      if (leo == 0) continue;
      auto r = lg->read(leo / 2, 5000, kMax, true);
      ASSERT_TRUE(r) << r.error().message();
      auto got = batches_in(r.value());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_TRUE(got[i].crc_ok);
        if (i > 0) {
          ASSERT_EQ(got[i].base_offset, got[i - 1].last_offset + 1);
        }
      }
      reads++;
    }
  });
  for (int i = 0; i < 2000; ++i) {
    auto b = make_batch(1 + i % 4, 50, i);
    ASSERT_TRUE(lg->append(b, 0, i));
  }
  stop = true;
  reader.join();
  EXPECT_GT(lg->segments_count(), 5u);
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace strata::storage
