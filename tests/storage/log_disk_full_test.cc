// Disk full and failing I/O: appends fail with a clear error, the log stays consistent
// and readable, and it works again once space returns.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "storage/fs/fault_injection_file_system.h"
#include "storage/log.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;

TEST(log_disk_full, enospc_mid_write_is_cut_back_and_reported) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = log_options(d.path());
  o.fs = &ffs;
  o.config.segment_bytes = 5000;
  auto lg = log::open(o).value();
  for (int i = 0; i < 10; ++i) {
    auto b = make_batch(2, 100, i);
    ASSERT_TRUE(lg->append(b, 0, 1));
  }
  const int64_t leo = lg->log_end_offset();
  const uint64_t size = lg->size_bytes();
  ffs.set_write_budget(50);  // the next write gets 50 bytes in, then ENOSPC
  auto b = make_batch(2, 100, 99);
  auto r = lg->append(b, 0, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::no_space);
  EXPECT_NE(r.error().message().find("no space left on device"), std::string::npos);
  EXPECT_EQ(lg->log_end_offset(), leo);
  EXPECT_EQ(lg->size_bytes(), size);
  EXPECT_FALSE(lg->offline());
  // Still readable, and nothing half-written is served.
  auto all = read_all(*lg);
  EXPECT_EQ(all.size(), 10u);
  // Many more failures, including ones that would need a roll.
  for (int i = 0; i < 50; ++i) {
    auto bb = make_batch(2, 100, 100 + i);
    EXPECT_EQ(lg->append(bb, 0, 1).error(), errc::no_space);
  }
  EXPECT_EQ(lg->log_end_offset(), leo);
  // Space returns: appends work again and continue the offsets.
  ffs.set_write_budget(-1);
  for (int i = 0; i < 50; ++i) {
    auto bb = make_batch(2, 100, 200 + i);
    auto rr = lg->append(bb, 0, 1);
    ASSERT_TRUE(rr) << rr.error().message();
    EXPECT_EQ(rr->base_offset, leo + 2 * i);
  }
  EXPECT_EQ(read_all(*lg).size(), 60u);
  // And the files on disk are a valid log.
  lg.reset();
  auto again = log::open(o).value();
  EXPECT_EQ(read_all(*again).size(), 60u);
}

TEST(log_disk_full, failed_roll_leaves_the_log_usable) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = log_options(d.path());
  o.fs = &ffs;
  auto one = make_batch(1, 200, 0);
  o.config.segment_bytes = int64_t(one.size()) * 2;
  o.config.index_interval_bytes = 1;
  auto lg = log::open(o).value();
  for (int i = 0; i < 2; ++i) {
    auto b = make_batch(1, 200, i);
    ASSERT_TRUE(lg->append(b, 0, 1));
  }
  ffs.set_write_errno(ENOSPC);  // every write and reservation fails from now on
  auto b = make_batch(1, 200, 5);
  // The roll itself writes nothing, so it may succeed; the write into the new segment
  // fails, leaving an empty active segment at the LEO: still a valid log.
  EXPECT_EQ(lg->append(b, 0, 1).error(), errc::no_space);
  EXPECT_EQ(lg->log_end_offset(), 2);
  EXPECT_EQ(read_all(*lg).size(), 2u);
  ffs.set_write_errno(0);
  ASSERT_TRUE(lg->append(b, 0, 1));
  EXPECT_EQ(lg->segments_count(), 2u);
  EXPECT_EQ(read_all(*lg).size(), 3u);
  lg.reset();  // crash, then recover
  auto again = log::open(o).value();
  EXPECT_EQ(read_all(*again).size(), 3u);
}

TEST(log_disk_full, index_space_exhaustion_only_thins_the_index) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = log_options(d.path());
  o.fs = &ffs;
  o.config.index_interval_bytes = 1;
  auto lg = log::open(o).value();
  // Enough budget for the log bytes but not for the index's 64 KiB reservation.
  auto b0 = make_batch(1, 100, 0);
  ASSERT_TRUE(lg->append(b0, 0, 1));
  ffs.set_write_budget(int64_t(b0.size()) * 20);
  for (int i = 1; i < 20; ++i) {
    auto b = make_batch(1, 100, i);
    ASSERT_TRUE(lg->append(b, 0, 1));
  }
  for (int64_t off = 0; off < 20; ++off) {
    auto r = lg->read(off, 1, std::numeric_limits<int64_t>::max(), true);
    ASSERT_TRUE(r);
    EXPECT_EQ(batches_in(r.value()).at(0).base_offset, off);
  }
}

TEST(log_disk_full, failed_fsync_takes_the_log_offline) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = log_options(d.path());
  o.fs = &ffs;
  auto lg = log::open(o).value();
  auto b = make_batch(1, 10, 0);
  ASSERT_TRUE(lg->append(b, 0, 1));
  ffs.set_sync_errno(EIO);
  EXPECT_TRUE(lg->flush());
  EXPECT_TRUE(lg->offline());
  EXPECT_EQ(lg->recovery_point(), 0);
  auto b2 = make_batch(1, 10, 0);
  EXPECT_EQ(lg->append(b2, 0, 1).error(), errc::log_offline);
  // Reads are refused too (KIP-112: the whole log dir is offline, Kafka serves nothing
  // from it); a restart recovers the log.
  EXPECT_EQ(lg->read(0, 1 << 20, lg->log_end_offset(), true).error(), errc::log_offline);
}

TEST(log_disk_full, failed_cut_back_takes_the_log_offline) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = log_options(d.path());
  o.fs = &ffs;
  auto lg = log::open(o).value();
  auto b = make_batch(1, 100, 0);
  ASSERT_TRUE(lg->append(b, 0, 1));
  ffs.set_write_budget(30);
  ffs.set_truncate_errno(EIO);
  auto b2 = make_batch(1, 100, 0);
  EXPECT_EQ(lg->append(b2, 0, 1).error(), errc::no_space);
  EXPECT_TRUE(lg->offline());
  EXPECT_EQ(lg->log_end_offset(), 1);  // the torn bytes are past the LEO: never served
  EXPECT_EQ(lg->read(0, 1 << 20, lg->log_end_offset(), true).error(), errc::log_offline);
  // A restart recovers the torn tail.
  ffs.set_truncate_errno(0);
  ffs.set_write_budget(-1);
  lg.reset();
  auto again = log::open(o).value();
  EXPECT_EQ(again->log_end_offset(), 1);
  auto b3 = make_batch(1, 100, 0);
  EXPECT_EQ(again->append(b3, 0, 1)->base_offset, 1);
}

// The same on a real, tiny tmpfs when this process may mount one (root in a sandbox
// that allows it); skipped otherwise.
TEST(log_disk_full, real_small_tmpfs) {
  temp_dir d;
  std::string mnt = d / "mnt";
  std::filesystem::create_directories(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << ")";
  }
  struct unmount {
    std::string p;
    ~unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } guard{mnt};
  auto o = log_options(mnt);
  o.config.segment_bytes = 64 * 1024;
  o.config.segment_index_bytes = 64 * 1024;
  int64_t leo = 0;
  std::error_code first_error;
  {
    auto lg = log::open(o).value();
    for (int i = 0; i < 1000 && !first_error; ++i) {
      auto b = make_batch(4, 250, i);
      auto r = lg->append(b, 0, 1);
      if (!r) first_error = r.error(); else leo = r->last_offset + 1;
    }
    ASSERT_EQ(first_error, errc::no_space);
    EXPECT_EQ(lg->log_end_offset(), leo);
    EXPECT_EQ(int64_t(read_all(*lg).size()) * 4, leo);
    // Free space by deleting what we wrote (retention), then append again.
    lg->set_high_watermark(leo);
    ASSERT_FALSE(lg->delete_records_before(leo));
    auto b = make_batch(4, 250, 5000);
    auto r = lg->append(b, 0, 1);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->base_offset, leo);
    ASSERT_FALSE(lg->close());
  }
  o.clean_shutdown = true;
  auto lg = log::open(o).value();
  EXPECT_EQ(lg->log_end_offset(), leo + 4);
}

}  // namespace
}  // namespace strata::storage
