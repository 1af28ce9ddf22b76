// Closing and opening a log: after a clean shutdown without scanning, after a crash with
// recovery from the recovery point.
#include <gtest/gtest.h>

#include <fstream>

#include "storage/fs/fault_injection_file_system.h"
#include "storage/log.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;

log_config small_segments() {
  log_config cfg;
  cfg.segment_bytes = 2000;
  cfg.index_interval_bytes = 200;
  return cfg;
}

void fill(log& lg, int batches, int64_t ts0 = 1000) {
  for (int i = 0; i < batches; ++i) {
    auto b = make_batch(1 + i % 3, 30, ts0 + i);
    ASSERT_TRUE(lg.append(b, 2 + i / 20, 1));
  }
}

TEST(log_reopen, clean_shutdown_keeps_everything) {
  temp_dir d;
  auto o = log_options(d.path(), small_segments());
  std::vector<seen_batch> before;
  timestamp_and_offset max_ts;
  {
    auto lg = log::open(o).value();
    fill(*lg, 60);
    before = read_all(*lg);
    max_ts = lg->max_timestamp_and_offset();
    ASSERT_FALSE(lg->close());
  }
  // Closing trimmed the indexes to their entries.
  EXPECT_EQ(file_size(d / "t-0/00000000000000000000.index") % 8, 0);
  o.clean_shutdown = true;
  auto lg = log::open(o).value();
  EXPECT_FALSE(lg->was_recovered());
  EXPECT_EQ(lg->log_end_offset(), before.back().last_offset + 1);
  EXPECT_EQ(lg->recovery_point(), lg->log_end_offset());
  auto after = read_all(*lg);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) EXPECT_EQ(after[i].base_offset, before[i].base_offset);
  EXPECT_EQ(lg->max_timestamp_and_offset().timestamp, max_ts.timestamp);
  EXPECT_EQ(lg->max_timestamp_and_offset().offset, max_ts.offset);
  EXPECT_EQ(lg->leader_epochs(), (std::vector<epoch_entry>{
                                     {2, 0}, {3, before[20].base_offset}, {4, before[40].base_offset}}));
  // fill() gives batch i the max timestamp 1000 + i + i % 3.
  size_t first = 0;
  while (1000 + first + first % 3 < 1030) first++;
  EXPECT_EQ(lg->offset_for_timestamp(1030)->offset, before[first].base_offset);
  fill(*lg, 5, 5000);
  EXPECT_EQ(read_all(*lg).size(), 65u);
}

TEST(log_reopen, clean_open_reads_only_the_active_segment_tail) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = log_options(d.path(), small_segments());
  o.fs = &ffs;
  {
    auto lg = log::open(o).value();
    fill(*lg, 200);
    ASSERT_FALSE(lg->close());
  }
  o.clean_shutdown = true;
  const uint64_t writes = ffs.writes();
  const uint64_t syncs = ffs.syncs();
  auto lg = log::open(o).value();
  EXPECT_GT(lg->segments_count(), 10u);
  // Nothing was written or synced to open it.
  EXPECT_EQ(ffs.writes(), writes);
  EXPECT_EQ(ffs.syncs(), syncs);
}

TEST(log_reopen, after_a_crash_recovers_from_the_recovery_point) {
  temp_dir d;
  auto o = log_options(d.path(), small_segments());
  int64_t leo;
  {
    auto lg = log::open(o).value();
    fill(*lg, 50);
    ASSERT_FALSE(lg->flush());
    o.recovery_point = lg->recovery_point();
    fill(*lg, 30);
    leo = lg->log_end_offset();
    // No close: a crash.
  }
  auto lg = log::open(o).value();
  EXPECT_TRUE(lg->was_recovered());
  EXPECT_EQ(lg->log_end_offset(), leo);
  EXPECT_EQ(lg->recovery_point(), o.recovery_point);
  EXPECT_EQ(read_all(*lg).size(), 80u);
  fill(*lg, 3);
  EXPECT_EQ(read_all(*lg).size(), 83u);
}

TEST(log_reopen, missing_index_is_rebuilt_even_after_clean_shutdown) {
  temp_dir d;
  auto o = log_options(d.path(), small_segments());
  {
    auto lg = log::open(o).value();
    fill(*lg, 60);
    ASSERT_FALSE(lg->close());
  }
  auto idx = d / "t-0/00000000000000000000.index";
  auto before = file_size(idx);
  ASSERT_GT(before, 0);
  std::remove(idx.c_str());
  std::remove((d / "t-0/00000000000000000000.timeindex").c_str());
  o.clean_shutdown = true;
  auto lg = log::open(o).value();
  EXPECT_TRUE(lg->was_recovered());
  EXPECT_EQ(read_all(*lg).size(), 60u);
  ASSERT_FALSE(lg->close());
  EXPECT_EQ(file_size(idx), before);
}

TEST(log_reopen, zeroed_index_of_an_old_segment_is_rebuilt_when_first_used) {
  temp_dir d;
  auto o = log_options(d.path(), small_segments());
  {
    auto lg = log::open(o).value();
    fill(*lg, 60);
    ASSERT_FALSE(lg->close());
  }
  auto idx = d / "t-0/00000000000000000000.index";
  auto size = file_size(idx);
  {
    std::ofstream out(idx, std::ios::binary | std::ios::trunc);
    std::vector<char> zeros(size_t(size), 0);
    out.write(zeros.data(), long(zeros.size()));
  }
  o.clean_shutdown = true;
  auto lg = log::open(o).value();
  auto r = lg->read(5, 1, std::numeric_limits<int64_t>::max(), true);
  ASSERT_TRUE(r);
  EXPECT_EQ(batches_in(r.value()).at(0).last_offset >= 5, true);
  EXPECT_EQ(read_all(*lg).size(), 60u);
  ASSERT_FALSE(lg->close());
  EXPECT_EQ(file_size(idx), size);
}

TEST(log_reopen, leftover_files_are_swept) {
  temp_dir d;
  auto o = log_options(d.path(), small_segments());
  {
    auto lg = log::open(o).value();
    fill(*lg, 10);
    ASSERT_FALSE(lg->close());
  }
  for (const char* f : {"leader-epoch-checkpoint.tmp", "00000000000000000000.log.deleted",
                        "00000000000000000099.index", "00000000000000000099.timeindex",
                        "00000000000000000005.log.swap"}) {
    std::ofstream(d / ("t-0/" + std::string(f))) << "x";
  }
  o.clean_shutdown = true;
  auto lg = log::open(o).value();
  for (const auto& f : list_files(d / "t-0")) {
    EXPECT_TRUE(f.find("99") == std::string::npos && f.find(".tmp") == std::string::npos &&
                f.find(".deleted") == std::string::npos && f.find(".swap") == std::string::npos)
        << f;
  }
  EXPECT_EQ(read_all(*lg).size(), 10u);
}

TEST(log_reopen, log_start_checkpoint_beyond_the_log_restarts_it) {
  temp_dir d;
  auto o = log_options(d.path(), small_segments());
  {
    auto lg = log::open(o).value();
    fill(*lg, 10);
    ASSERT_FALSE(lg->close());
  }
  o.clean_shutdown = true;
  o.log_start_offset = 500;
  auto lg = log::open(o).value();
  EXPECT_EQ(lg->log_start_offset(), 500);
  EXPECT_EQ(lg->log_end_offset(), 500);
  EXPECT_EQ(lg->segments_count(), 1u);
  auto b = make_batch(1, 10, 1);
  EXPECT_EQ(lg->append(b, 0, 1)->base_offset, 500);
}

}  // namespace
}  // namespace strata::storage
