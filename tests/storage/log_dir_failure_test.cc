// Run-time log dir failures (KIP-112, Kafka's LogDirFailureChannel): an I/O error on
// one log takes its whole directory offline; the other directories are served.
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <mutex>

#include "storage/fs/fault_injection_file_system.h"
#include "storage/log_manager.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;

log_manager_options options(const temp_dir& d, int dirs, fs::file_system* fs) {
  log_manager_options o;
  for (int i = 0; i < dirs; ++i) o.log_dirs.push_back(d / ("dir" + std::to_string(i)));
  o.clock_ms = [] { return int64_t(1000000); };
  o.fs = fs;
  return o;
}

struct recorded {
  std::mutex mu;
  std::vector<log_manager::dir_failure> failures;
  void operator()(const log_manager::dir_failure& f) {
    std::lock_guard lk(mu);
    failures.push_back(f);
  }
};

bool append_one(log& lg) {
  auto b = make_batch(1, 20, 1000);
  return bool(lg.append(b, 0, 1));
}

// Four partitions over two directories: 0 and 2 in dir0, 1 and 3 in dir1.
std::vector<std::shared_ptr<log>> make_four(log_manager& m) {
  std::vector<std::shared_ptr<log>> out;
  for (int p = 0; p < 4; ++p) {
    out.push_back(m.get_or_create("t", p, {}).value());
    EXPECT_TRUE(append_one(*out.back()));
  }
  return out;
}

TEST(log_dir_failure, a_failed_fsync_takes_its_whole_directory_offline) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  log_manager m(options(d, 2, &ffs));
  recorded rec;
  m.set_dir_failure_handler(std::ref(rec));
  ASSERT_FALSE(m.open_all().error);
  auto logs = make_four(m);
  ASSERT_EQ(logs[1]->dir(), d / "dir1/t-1");
  ffs.set_sync_errno_for("/dir1/t-1/", EIO);
  EXPECT_TRUE(logs[1]->flush());
  ffs.set_sync_errno_for("", 0);

  // The handler heard once, with every partition of the directory.
  ASSERT_EQ(rec.failures.size(), 1u);
  const auto& f = rec.failures[0];
  EXPECT_EQ(f.dir, d / "dir1");
  EXPECT_FALSE(f.all_offline);
  EXPECT_NE(f.reason.find("t-1"), std::string::npos) << f.reason;
  std::vector<std::pair<std::string, int32_t>> expected{{"t", 1}, {"t", 3}};
  EXPECT_EQ(f.partitions, expected);
  // Its logs refuse everything: never an acknowledgement after a failed fsync.
  for (int p : {1, 3}) {
    EXPECT_TRUE(logs[p]->offline()) << p;
    auto b = make_batch(1, 20, 1000);
    EXPECT_EQ(logs[p]->append(b, 0, 1).error(), errc::log_offline) << p;
    EXPECT_EQ(logs[p]->read(0, 1 << 20, logs[p]->log_end_offset(), true).error(), errc::log_offline) << p;
    EXPECT_EQ(logs[p]->flush(), errc::log_offline) << p;
    EXPECT_EQ(logs[p]->truncate_to(0), errc::log_offline) << p;
    EXPECT_EQ(m.get("t", p), nullptr) << p;
    EXPECT_EQ(m.get_or_create("t", p, {}).error(), errc::log_offline) << p;
    EXPECT_NE(m.offline_reason("t", p).find("dir1"), std::string::npos) << m.offline_reason("t", p);
    EXPECT_EQ(m.dir_of("t", p), d / "dir1");
  }
  // The other directory is served.
  for (int p : {0, 2}) {
    EXPECT_FALSE(logs[p]->offline()) << p;
    EXPECT_TRUE(append_one(*logs[p])) << p;
    EXPECT_TRUE(logs[p]->read(0, 1 << 20, logs[p]->log_end_offset(), true)) << p;
    EXPECT_FALSE(logs[p]->flush()) << p;
    EXPECT_EQ(m.dir_of("t", p), d / "dir0");
  }
  // New partitions go to the online directory only.
  EXPECT_EQ(m.get_or_create("n", 0, {}).value()->dir(), d / "dir0/n-0");
  EXPECT_EQ(m.get_or_create("n", 1, {}).value()->dir(), d / "dir0/n-1");
  auto dirs = m.dirs();
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0].offline, "");
  EXPECT_NE(dirs[1].offline, "");
  // Checkpoints skip the offline directory, and shutdown marks only the healthy one clean.
  EXPECT_FALSE(m.checkpoint_recovery_points());
  EXPECT_EQ(m.shutdown(), errc::log_offline);  // not all clean
  EXPECT_TRUE(std::filesystem::exists(d / "dir0/.kafka_cleanshutdown"));
  EXPECT_FALSE(std::filesystem::exists(d / "dir1/.kafka_cleanshutdown"));
  EXPECT_EQ(rec.failures.size(), 1u);
}

TEST(log_dir_failure, a_write_error_fails_the_directory) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  log_manager m(options(d, 2, &ffs));
  recorded rec;
  m.set_dir_failure_handler(std::ref(rec));
  ASSERT_FALSE(m.open_all().error);
  auto logs = make_four(m);
  // Every write fails with EIO (a dying disk): the append is refused and the log's
  // directory goes offline.
  ffs.set_write_errno(EIO);
  auto b = make_batch(1, 20, 1000);
  auto r = logs[2]->append(b, 0, 1);
  ffs.set_write_errno(0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::io_error);
  ASSERT_EQ(rec.failures.size(), 1u);
  EXPECT_EQ(rec.failures[0].dir, d / "dir0");
  EXPECT_TRUE(logs[0]->offline());
  EXPECT_FALSE(logs[1]->offline());
  EXPECT_TRUE(append_one(*logs[1]));
}

TEST(log_dir_failure, a_full_disk_is_not_a_directory_failure) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  log_manager m(options(d, 2, &ffs));
  recorded rec;
  m.set_dir_failure_handler(std::ref(rec));
  ASSERT_FALSE(m.open_all().error);
  auto logs = make_four(m);
  ffs.set_write_budget(0);  // ENOSPC
  auto b = make_batch(1, 20, 1000);
  EXPECT_EQ(logs[0]->append(b, 0, 1).error(), errc::no_space);
  ffs.set_write_budget(-1);
  EXPECT_TRUE(rec.failures.empty());
  EXPECT_TRUE(append_one(*logs[0]));
}

TEST(log_dir_failure, the_last_directory_says_so) {
  temp_dir d;
  log_manager m(options(d, 2, &fs::posix_file_system()));
  recorded rec;
  m.set_dir_failure_handler(std::ref(rec));
  ASSERT_FALSE(m.open_all().error);
  auto logs = make_four(m);
  EXPECT_TRUE(m.fail_dir(d / "dir0", "test"));
  EXPECT_FALSE(m.fail_dir(d / "dir0", "again"));  // once per directory
  EXPECT_FALSE(m.fail_dir(d / "elsewhere", "not ours"));
  EXPECT_TRUE(m.fail_dir(d / "dir1", "test"));
  ASSERT_EQ(rec.failures.size(), 2u);
  EXPECT_FALSE(rec.failures[0].all_offline);
  EXPECT_TRUE(rec.failures[1].all_offline);
  for (auto& lg : logs) EXPECT_TRUE(lg->offline());
  EXPECT_EQ(m.get_or_create("n", 0, {}).error(), errc::log_offline);
  EXPECT_EQ(m.offline_count(), 4u);
}

}  // namespace
}  // namespace strata::storage
