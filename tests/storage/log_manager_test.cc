#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "storage/fs/fault_injection_file_system.h"
#include "storage/log_manager.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

log_manager_options options(const temp_dir& d, int dirs = 1) {
  log_manager_options o;
  for (int i = 0; i < dirs; ++i) o.log_dirs.push_back(d / ("dir" + std::to_string(i)));
  o.clock_ms = [] { return int64_t(1000000); };
  return o;
}

void append_n(log& lg, int n) {
  for (int i = 0; i < n; ++i) {
    auto b = make_batch(2, 50, 1000 + i);
    ASSERT_TRUE(lg.append(b, 0, 1));
  }
}

TEST(log_manager, create_shutdown_reopen_clean) {
  temp_dir d;
  {
    log_manager m(options(d, 2));
    auto r = m.open_all();
    ASSERT_FALSE(r.error);
    EXPECT_EQ(r.logs, 0u);
    for (int p = 0; p < 4; ++p) {
      auto lg = m.get_or_create("orders", p, {});
      ASSERT_TRUE(lg);
      append_n(*lg.value(), p + 1);
    }
    EXPECT_EQ(m.get("orders", 2)->log_end_offset(), 6);
    EXPECT_EQ(m.get("orders", 9), nullptr);
    EXPECT_EQ(m.get_or_create("orders", 2, {}).value(), m.get("orders", 2));
    ASSERT_FALSE(m.shutdown());
  }
  // Partitions spread over both directories; each has its checkpoints and the marker.
  for (const char* dir : {"dir0", "dir1"}) {
    std::string base = d / dir;
    EXPECT_GE(file_size(base + "/.kafka_cleanshutdown"), 0) << dir;
    auto rp = slurp(base + "/recovery-point-offset-checkpoint");
    EXPECT_EQ(rp.substr(0, 4), "0\n2\n") << rp;
    EXPECT_GE(file_size(base + "/log-start-offset-checkpoint"), 0);
  }
  EXPECT_NE(slurp(d / "dir0/recovery-point-offset-checkpoint").find("orders 0 2\n"), std::string::npos);
  log_manager m(options(d, 2));
  auto r = m.open_all();
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.logs, 4u);
  EXPECT_EQ(r.recovered, 0u);
  // The marker is gone while the manager runs: a crash now is seen as one.
  EXPECT_EQ(file_size(d / "dir0/.kafka_cleanshutdown"), -1);
  for (int p = 0; p < 4; ++p) {
    auto lg = m.get("orders", p);
    ASSERT_TRUE(lg);
    EXPECT_EQ(lg->log_end_offset(), 2 * (p + 1));
    EXPECT_EQ(lg->recovery_point(), lg->log_end_offset());
  }
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, crash_recovers_from_checkpointed_recovery_points) {
  temp_dir d;
  {
    log_manager m(options(d));
    ASSERT_FALSE(m.open_all().error);
    auto lg = m.get_or_create("t", 0, {}).value();
    append_n(*lg, 5);
    ASSERT_FALSE(lg->flush());
    ASSERT_FALSE(m.checkpoint_recovery_points());
    append_n(*lg, 5);
    // Destroyed without shutdown(): a crash.
  }
  EXPECT_EQ(slurp(d / "dir0/recovery-point-offset-checkpoint"), "0\n1\nt 0 10\n");
  log_manager m(options(d));
  auto r = m.open_all();
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.recovered, 1u);
  auto lg = m.get("t", 0);
  EXPECT_EQ(lg->log_end_offset(), 20);
  EXPECT_EQ(lg->recovery_point(), 10);
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, a_directory_is_owned_by_one_manager) {
  temp_dir d;
  log_manager a(options(d));
  ASSERT_FALSE(a.open_all().error);
  log_manager b(options(d));
  EXPECT_TRUE(b.open_all().error);
  ASSERT_FALSE(a.shutdown());
  EXPECT_FALSE(b.open_all().error);
  ASSERT_FALSE(b.shutdown());
}

TEST(log_manager, delete_partition_renames_then_removes_the_directory) {
  temp_dir d;
  log_manager m(options(d));
  ASSERT_FALSE(m.open_all().error);
  auto lg = m.get_or_create("gone", 3, {}).value();
  append_n(*lg, 3);
  auto r = lg->read(0, 1 << 20, lg->high_watermark(), true);
  ASSERT_TRUE(r);
  ASSERT_FALSE(m.delete_partition("gone", 3));
  EXPECT_EQ(m.get("gone", 3), nullptr);
  auto b = make_batch(1, 10, 1);
  EXPECT_EQ(lg->append(b, 0, 1).error(), errc::log_closed);
  EXPECT_EQ(batches_in(r.value()).size(), 3u);  // an in-flight read still has its bytes
  bool renamed = false;
  for (auto& f : list_files(d / "dir0")) renamed |= f.rfind("gone-3.", 0) == 0 && f.size() > 7;
  EXPECT_TRUE(renamed);
  m.delete_pending_dirs();
  for (auto& f : list_files(d / "dir0")) EXPECT_EQ(f.find("gone"), std::string::npos) << f;
  EXPECT_TRUE(m.delete_partition("gone", 3));
  // A new partition of the same name starts empty.
  EXPECT_EQ(m.get_or_create("gone", 3, {}).value()->log_end_offset(), 0);
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, leftover_delete_directories_are_removed_at_start) {
  temp_dir d;
  std::filesystem::create_directories(d / "dir0/x-0.0123456789abcdef0123456789abcdef-delete");
  log_manager m(options(d));
  ASSERT_FALSE(m.open_all().error);
  EXPECT_EQ(m.all_logs().size(), 0u);
  m.delete_pending_dirs();
  EXPECT_TRUE(list_files(d / "dir0").size() <= 1u);  // only .lock
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, retention_runs_with_topic_configs_changed_live) {
  temp_dir d;
  log_manager m(options(d));
  ASSERT_FALSE(m.open_all().error);
  log_config cfg;
  cfg.segment_bytes = int64_t(make_batch(2, 50, 0).size()) * 2;
  cfg.retention_ms = -1;
  auto lg = m.get_or_create("t", 0, cfg).value();
  auto other = m.get_or_create("u", 0, cfg).value();
  append_n(*lg, 10);
  append_n(*other, 10);
  EXPECT_EQ(m.run_retention(), 0u);
  cfg.retention_ms = 1000;  // the clock says 1000000: everything is old
  m.update_config("t", cfg);
  EXPECT_EQ(lg->config().retention_ms, 1000);
  EXPECT_EQ(m.run_retention(), 5u);
  EXPECT_EQ(lg->log_start_offset(), 20);
  EXPECT_EQ(other->log_start_offset(), 0);
  ASSERT_FALSE(m.checkpoint_log_start_offsets());
  EXPECT_EQ(slurp(d / "dir0/log-start-offset-checkpoint"), "0\n2\nt 0 20\nu 0 0\n");
  ASSERT_FALSE(m.shutdown());
  // The log start survives a restart.
  log_manager m2(options(d));
  ASSERT_FALSE(m2.open_all().error);
  EXPECT_EQ(m2.get("t", 0)->log_start_offset(), 20);
  ASSERT_FALSE(m2.shutdown());
}

TEST(log_manager, a_restart_does_not_clean_what_the_cleaner_checkpoint_says_is_clean) {
  temp_dir d;
  auto o = options(d);
  o.cleaner_enable = false;  // passes run when the test calls run_cleaner
  log_config cfg;
  cfg.compact = true;
  cfg.min_cleanable_dirty_ratio = 0;
  cfg.segment_bytes = int64_t(make_batch(2, 50, 0).size()) * 2;
  cfg.retention_ms = -1;
  auto config_for = [&cfg](const std::string&) { return cfg; };
  int64_t cleaned_to = 0;
  {
    log_manager m(o);
    ASSERT_FALSE(m.open_all(config_for).error);
    auto lg = m.get_or_create("c", 0, cfg).value();
    auto plain = m.get_or_create("p", 0, {}).value();
    append_n(*lg, 10);
    append_n(*plain, 2);
    EXPECT_EQ(m.run_cleaner(), 1u);
    cleaned_to = lg->first_dirty_offset();
    EXPECT_GT(cleaned_to, 0);
    // Only compacted logs are listed, as in Kafka.
    EXPECT_EQ(slurp(d / "dir0/cleaner-offset-checkpoint"), "0\n1\nc 0 " + std::to_string(cleaned_to) + "\n");
    EXPECT_EQ(m.run_cleaner(), 0u);  // nothing new is dirty
    ASSERT_FALSE(m.shutdown());
  }
  log_manager m2(o);
  ASSERT_FALSE(m2.open_all(config_for).error);
  EXPECT_EQ(m2.get("c", 0)->first_dirty_offset(), cleaned_to);
  EXPECT_EQ(m2.run_cleaner(), 0u);  // without the checkpoint: cleaned again from offset 0
  ASSERT_FALSE(m2.shutdown());
}

TEST(log_manager, group_commit_one_fsync_serves_many_waiters) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = options(d);
  o.fs = &ffs;
  log_manager m(o);
  ASSERT_FALSE(m.open_all().error);
  std::vector<std::shared_ptr<log>> logs;
  for (int p = 0; p < 3; ++p) logs.push_back(m.get_or_create("t", p, {}).value());
  // Queue waiters before the flusher thread runs, so they share one round.
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<std::error_code> results;
  int64_t last = -1;
  for (int i = 0; i < 30; ++i) {
    auto b = make_batch(1, 10, i);
    auto& lg = logs[size_t(i % 3)];
    auto r = lg->append(b, 0, 1);
    ASSERT_TRUE(r);
    last = r->last_offset;
  }
  (void)last;
  uint64_t syncs_before = ffs.syncs();
  m.start();
  for (int i = 0; i < 30; ++i) {
    auto& lg = logs[size_t(i % 3)];
    m.flush_then(lg, lg->log_end_offset() - 1, [&](std::error_code ec) {
      std::lock_guard lk(mu);
      results.push_back(ec);
      done++;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(10), [&] { return done == 30; }));
  }
  for (auto& ec : results) EXPECT_FALSE(ec);
  for (auto& lg : logs) EXPECT_EQ(lg->recovery_point(), lg->log_end_offset());
  // Far fewer fsyncs than waiters: at most a few rounds of (3 logs + their dirs).
  EXPECT_LE(ffs.syncs() - syncs_before, 3u * 2 * m.flusher().rounds());
  EXPECT_LT(m.flusher().fsyncs(), 30u);
  // Already durable: answered at once, on this thread.
  bool inline_done = false;
  m.flush_then(logs[0], 0, [&](std::error_code ec) { inline_done = !ec; });
  EXPECT_TRUE(inline_done);
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, group_commit_reports_fsync_failure) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = options(d);
  o.fs = &ffs;
  log_manager m(o);
  ASSERT_FALSE(m.open_all().error);
  auto lg = m.get_or_create("t", 0, {}).value();
  auto b = make_batch(1, 10, 0);
  auto r = lg->append(b, 0, 1);
  ASSERT_TRUE(r);
  ffs.set_sync_errno(EIO);
  std::error_code got;
  m.flush_then(lg, r->last_offset, [&](std::error_code ec) { got = ec; });  // not started: inline
  EXPECT_TRUE(got);
  EXPECT_TRUE(lg->offline());
  ffs.set_sync_errno(0);
  EXPECT_TRUE(m.shutdown());  // unclean: no marker
  EXPECT_EQ(file_size(d / "dir0/.kafka_cleanshutdown"), -1);
}

// Waits for `n` callbacks counted by `done` (under `mu`), at most 20 s.
bool wait_for(std::mutex& mu, std::condition_variable& cv, const int& done, int n) {
  std::unique_lock lk(mu);
  return cv.wait_for(lk, std::chrono::seconds(20), [&] { return done >= n; });
}

TEST(log_manager, group_commit_syncs_different_partitions_concurrently) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  ffs.set_sync_delay(std::chrono::milliseconds(20));  // a slow disk
  auto o = options(d);
  o.fs = &ffs;
  o.flush_threads = 4;
  log_manager m(o);
  ASSERT_FALSE(m.open_all().error);
  m.start();
  std::vector<std::shared_ptr<log>> logs;
  for (int p = 0; p < 8; ++p) {
    logs.push_back(m.get_or_create("t", p, {}).value());
    append_n(*logs.back(), 1);
  }
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<std::error_code> results;
  for (auto& lg : logs) {
    int64_t want = lg->log_end_offset();
    m.flush_then(lg, lg->log_end_offset() - 1, [&, lg, want](std::error_code ec) {
      // The guarantee: answered only once the data is durable.
      EXPECT_GE(lg->recovery_point(), want);
      std::lock_guard lk(mu);
      results.push_back(ec);
      done++;
      cv.notify_all();
    });
  }
  ASSERT_TRUE(wait_for(mu, cv, done, 8));
  for (auto& ec : results) EXPECT_FALSE(ec);
  // Syncs of different logs overlapped, bounded by flush_threads.
  EXPECT_GE(ffs.peak_concurrent_syncs(), 2);
  EXPECT_GE(m.flusher().peak_concurrency(), 2);
  EXPECT_LE(m.flusher().peak_concurrency(), 4);
  EXPECT_LE(m.flusher().threads(), 4);
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, group_commit_never_answers_before_data_is_durable) {
  // Four threads append and wait on eight logs while syncs are slow: every callback must
  // find its offset below the log's recovery point, however waiters were batched.
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  ffs.set_sync_delay(std::chrono::microseconds(500));
  auto o = options(d);
  o.fs = &ffs;
  o.flush_threads = 3;
  log_manager m(o);
  ASSERT_FALSE(m.open_all().error);
  m.start();
  std::vector<std::shared_ptr<log>> logs;
  for (int p = 0; p < 8; ++p) logs.push_back(m.get_or_create("t", p, {}).value());
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::atomic<int> early{0}, failed{0};
  constexpr int kPerThread = 200;
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto& lg = logs[size_t((t * 7 + i) % 8)];
        auto b = make_batch(1, 20, i);
        auto r = lg->append(b, 0, 1);
        if (!r) {
          failed++;
          std::lock_guard lk(mu);
          done++;
          cv.notify_all();
          continue;
        }
        int64_t last = r->last_offset;
        m.flush_then(lg, last, [&, lg, last](std::error_code ec) {
          if (ec) failed++;
          if (lg->recovery_point() <= last) early++;
          std::lock_guard lk(mu);
          done++;
          cv.notify_all();
        });
      }
    });
  }
  for (auto& p : producers) p.join();
  ASSERT_TRUE(wait_for(mu, cv, done, 4 * kPerThread));
  EXPECT_EQ(early.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  // Group commit still groups: fewer syncs than acknowledgements.
  EXPECT_LT(m.flusher().fsyncs(), uint64_t(4 * kPerThread));
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, group_commit_one_partition_fsync_failure_among_concurrent_syncs) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  ffs.set_sync_delay(std::chrono::milliseconds(5));
  // One log directory per partition: a failed fsync takes its whole directory offline
  // (KIP-112), and this test is about the other partitions' syncs.
  auto o = options(d, 6);
  o.fs = &ffs;
  o.flush_threads = 4;
  log_manager m(o);
  ASSERT_FALSE(m.open_all().error);
  m.start();
  std::vector<std::shared_ptr<log>> logs;
  for (int p = 0; p < 6; ++p) {
    logs.push_back(m.get_or_create("t", p, {}).value());
    append_n(*logs.back(), 2);
  }
  ffs.set_sync_errno_for("/t-2/", EIO);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<std::error_code> results(logs.size());
  for (size_t i = 0; i < logs.size(); ++i) {
    for (int k = 0; k < 3; ++k) {  // several waiters per log, all in one pass or not
      m.flush_then(logs[i], logs[i]->log_end_offset() - 1, [&, i](std::error_code ec) {
        std::lock_guard lk(mu);
        if (ec) results[i] = ec;
        done++;
        cv.notify_all();
      });
    }
  }
  ASSERT_TRUE(wait_for(mu, cv, done, 18));
  for (size_t i = 0; i < logs.size(); ++i) {
    if (i == 2) {
      EXPECT_TRUE(results[i]);  // every waiter of the failed log hears about it
      EXPECT_TRUE(logs[i]->offline());
      EXPECT_LT(logs[i]->recovery_point(), logs[i]->log_end_offset());
    } else {
      EXPECT_FALSE(results[i]) << i;
      EXPECT_FALSE(logs[i]->offline()) << i;
      EXPECT_EQ(logs[i]->recovery_point(), logs[i]->log_end_offset()) << i;
    }
  }
  // A later waiter on the offline log fails at once rather than being acknowledged.
  std::error_code later;
  int before = 0;
  {
    std::lock_guard lk(mu);
    before = done;
  }
  m.flush_then(logs[2], logs[2]->log_end_offset() - 1, [&](std::error_code ec) {
    std::lock_guard lk(mu);
    later = ec;
    done++;
    cv.notify_all();
  });
  ASSERT_TRUE(wait_for(mu, cv, done, before + 1));
  EXPECT_TRUE(later);
  ffs.set_sync_errno_for("", 0);
  EXPECT_TRUE(m.shutdown());  // unclean: one log is offline
}

TEST(log_manager, flush_messages_triggers_background_flush) {
  temp_dir d;
  log_manager m(options(d));
  ASSERT_FALSE(m.open_all().error);
  log_config cfg;
  cfg.flush_interval_messages = 4;
  auto lg = m.get_or_create("t", 0, cfg).value();
  append_n(*lg, 1);
  EXPECT_EQ(lg->recovery_point(), 0);  // 2 messages: not yet
  append_n(*lg, 1);                    // 4: flush requested (inline: flusher not started)
  EXPECT_EQ(lg->recovery_point(), 4);
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, flush_ms_flushes_due_logs) {
  temp_dir d;
  int64_t now = 1000000;
  auto o = options(d);
  o.clock_ms = [&] { return now; };
  log_manager m(o);
  ASSERT_FALSE(m.open_all().error);
  log_config cfg;
  cfg.flush_interval_ms = 100;
  auto lg = m.get_or_create("t", 0, cfg).value();
  append_n(*lg, 3);
  EXPECT_EQ(lg->recovery_point(), 0);
  now = std::numeric_limits<int64_t>::max() / 2;
  m.flush_due_logs();
  EXPECT_EQ(lg->recovery_point(), 6);
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, background_thread_runs_retention) {
  temp_dir d;
  auto o = options(d);
  o.retention_check_interval_ms = 5;
  log_manager m(o);
  ASSERT_FALSE(m.open_all().error);
  log_config cfg;
  cfg.segment_bytes = int64_t(make_batch(2, 50, 0).size()) * 2;
  cfg.retention_ms = 1000;  // the clock says 1000000: everything is old
  auto lg = m.get_or_create("t", 0, cfg).value();
  append_n(*lg, 10);
  m.start();
  // Bounded poll: the scheduler thread owns the timing.
  for (int i = 0; i < 2000 && lg->log_start_offset() < 20; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(lg->log_start_offset(), 20);
  ASSERT_FALSE(m.shutdown());
}

TEST(log_manager, clean_open_of_many_partitions_writes_nothing) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = options(d);
  o.fs = &ffs;
  {
    log_manager m(o);
    ASSERT_FALSE(m.open_all().error);
    for (int p = 0; p < 200; ++p) append_n(*m.get_or_create("t" + std::to_string(p % 7), p, {}).value(), 2);
    ASSERT_FALSE(m.shutdown());
  }
  const uint64_t writes = ffs.writes();
  log_manager m(o);
  auto r = m.open_all();
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.logs, 200u);
  EXPECT_EQ(r.recovered, 0u);
  EXPECT_EQ(ffs.writes(), writes);  // no recovery, no index rebuilt, no checkpoint rewritten
  ASSERT_FALSE(m.shutdown());
}

// KIP-112: a log that cannot be opened leaves its partition offline; the others open.
TEST(log_manager, a_partition_that_cannot_be_opened_goes_offline) {
  temp_dir d;
  {
    log_manager m(options(d));
    ASSERT_FALSE(m.open_all().error);
    for (int p = 0; p < 2; ++p) append_n(*m.get_or_create("t", p, {}).value(), 3);
    append_n(*m.get_or_create("u", 0, {}).value(), 2);
    ASSERT_FALSE(m.shutdown());
  }
  // t-1's segment becomes a directory.
  const std::string seg = d / "dir0/t-1/00000000000000000000.log";
  ASSERT_TRUE(std::filesystem::remove(seg));
  ASSERT_TRUE(std::filesystem::create_directory(seg));
  log_manager m(options(d));
  auto r = m.open_all();
  ASSERT_FALSE(r.error) << r.error.message();
  EXPECT_EQ(r.logs, 2u);
  EXPECT_EQ(r.offline, 1u);
  EXPECT_EQ(m.offline_count(), 1u);
  EXPECT_EQ(m.get("t", 1), nullptr);
  EXPECT_NE(m.offline_reason("t", 1).find("t-1"), std::string::npos) << m.offline_reason("t", 1);
  EXPECT_EQ(m.offline_reason("t", 0), "");
  // Not re-created behind the damage, whether new or not.
  EXPECT_EQ(m.get_or_create("t", 1, {}, false).error(), errc::log_offline);
  EXPECT_EQ(m.get_or_create("t", 1, {}).error(), errc::log_offline);
  EXPECT_TRUE(std::filesystem::is_directory(seg));
  EXPECT_EQ(m.get("t", 0)->log_end_offset(), 6);
  EXPECT_EQ(m.get("u", 0)->log_end_offset(), 4);
  // Deleting it moves the damaged directory away; a new one starts empty.
  ASSERT_FALSE(m.delete_partition("t", 1));
  m.delete_pending_dirs();
  EXPECT_FALSE(std::filesystem::exists(d / "dir0/t-1"));
  EXPECT_EQ(m.offline_count(), 0u);
  EXPECT_EQ(m.get_or_create("t", 1, {}).value()->log_end_offset(), 0);
  ASSERT_FALSE(m.shutdown());
}

// A log dir that cannot be read goes offline; a partition the metadata had is not
// re-created elsewhere (it may be in that dir), a new one is.
TEST(log_manager, an_unreadable_log_dir_goes_offline) {
  temp_dir d;
  {
    log_manager m(options(d, 2));
    ASSERT_FALSE(m.open_all().error);
    for (int p = 0; p < 4; ++p) append_n(*m.get_or_create("t", p, {}).value(), 1);
    ASSERT_FALSE(m.shutdown());
  }
  std::filesystem::remove_all(d / "dir1");
  { std::ofstream(d / "dir1") << "not a directory"; }
  log_manager m(options(d, 2));
  auto r = m.open_all();
  ASSERT_FALSE(r.error) << r.error.message();
  EXPECT_EQ(r.offline_dirs, 1u);
  EXPECT_EQ(r.logs, 2u);
  int missing = -1;
  for (int p = 0; p < 4; ++p)
    if (!m.get("t", p)) missing = p;
  ASSERT_GE(missing, 0);
  EXPECT_EQ(m.get_or_create("t", missing, {}, /*is_new=*/false).error(), errc::log_offline);
  EXPECT_NE(m.offline_reason("t", missing).find("dir1"), std::string::npos);
  auto fresh = m.get_or_create("n", 0, {});
  ASSERT_TRUE(fresh) << fresh.error().message();
  EXPECT_EQ(fresh.value()->dir(), d / "dir0/n-0");
  ASSERT_EQ(m.shutdown(), errc::log_offline);  // one directory was not shut down cleanly
  // Every directory offline: nothing to serve.
  std::filesystem::remove_all(d / "dir0");
  { std::ofstream(d / "dir0") << "not a directory"; }
  log_manager none(options(d, 2));
  EXPECT_TRUE(none.open_all().error);
}

// A creation that fails part way leaves nothing behind, and leaves alone what it found.
TEST(log_manager, a_failed_creation_removes_what_it_created) {
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = options(d);
  o.fs = &ffs;
  log_manager m(o);
  ASSERT_FALSE(m.open_all().error);
  ffs.set_sync_errno(EIO);
  auto r = m.get_or_create("x", 0, {});
  ASSERT_FALSE(r);
  ffs.set_sync_errno(0);
  EXPECT_EQ(m.get("x", 0), nullptr);
  EXPECT_FALSE(std::filesystem::exists(d / "dir0/x-0"));
  m.delete_pending_dirs();
  for (auto& f : list_files(d / "dir0")) EXPECT_EQ(f.find("x-0"), std::string::npos) << f;
  ASSERT_TRUE(m.get_or_create("x", 0, {}));
  // A file where the directory should be: refused, the file untouched.
  { std::ofstream(d / "dir0/y-0") << "in the way"; }
  EXPECT_FALSE(m.get_or_create("y", 0, {}));
  EXPECT_EQ(slurp(d / "dir0/y-0"), "in the way");
  EXPECT_EQ(m.get("y", 0), nullptr);
  ASSERT_FALSE(m.shutdown());
}

}  // namespace
}  // namespace strata::storage
