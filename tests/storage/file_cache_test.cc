// The open-file and index-map budgets (file_cache.h): logs beyond the budget stay
// readable and writable, users keep what they hold across eviction, reopen errors are
// storage errors that name their cause, and the index damage check does not fire on
// healthy segments.
#include <fcntl.h>
#include <sys/resource.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/file_cache.h"
#include "storage/fs/fault_injection_file_system.h"
#include "storage/log.h"
#include "storage/segment.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using namespace testing;

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

size_t maps_of(const std::string& needle) {
  std::ifstream in("/proc/self/maps");
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

// Small budgets for one test, the defaults again afterwards.
struct small_budgets {
  explicit small_budgets(size_t files, size_t maps = 0) { set_file_budgets({files, maps}); }
  ~small_budgets() {
    set_file_budgets({});
    log_file_cache().evict_all();
    index_cache().evict_all();
  }
};

struct counted : std::enable_shared_from_this<counted> {
  explicit counted(int* live) : live_(live) { ++*live_; }
  ~counted() { --*live_; }
  int* live_;
};

TEST(open_file_cache, evicts_down_to_capacity_with_a_second_chance_and_users_keep_theirs) {
  open_file_cache cache(2);
  int live = 0;
  cache_handle<counted> a(cache), b(cache), c(cache);
  a.install(std::make_shared<counted>(&live));
  b.install(std::make_shared<counted>(&live));
  EXPECT_EQ(cache.size(), 2u);
  // A user holds a's object; every bit is set, so the sweep clears them all and then
  // evicts the first handle, a.
  auto held = a.get();
  c.install(std::make_shared<counted>(&live));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_EQ(live, 3) << "eviction destroyed an object a user holds";
  // Reopening a gets the very object the user holds, not a second one.
  EXPECT_EQ(a.peek().get(), held.get());
  auto again = a.get();
  EXPECT_EQ(again.get(), held.get());
  EXPECT_EQ(cache.size(), 2u);
  held.reset();
  again.reset();
  cache.evict_all();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(live, 0);  // nobody holds anything: everything closed
  EXPECT_FALSE(a.get());
  EXPECT_FALSE(b.peek());
}

TEST(open_file_cache, a_recently_used_handle_survives_a_sweep) {
  open_file_cache cache(2);
  int live = 0;
  cache_handle<counted> a(cache), b(cache), c(cache);
  a.install(std::make_shared<counted>(&live));
  b.install(std::make_shared<counted>(&live));
  cache.set_capacity(2);
  // Clear the bits by one full sweep, then touch a only.
  cache_handle<counted> d(cache);
  d.install(std::make_shared<counted>(&live));  // evicts one of a, b (bits were all set)
  ASSERT_EQ(cache.size(), 2u);
  bool a_open = a.peek() != nullptr;
  cache_handle<counted>& survivor = a_open ? a : b;
  ASSERT_TRUE(survivor.get());  // sets its bit
  c.install(std::make_shared<counted>(&live));
  EXPECT_TRUE(survivor.peek()) << "the handle used since the last sweep was evicted";
  EXPECT_EQ(cache.size(), 2u);
}

TEST(file_budget, many_logs_stay_within_the_descriptor_and_map_budget) {
  small_budgets budget(32, 16);  // 16 .log descriptors, 8 index pairs
  temp_dir d;
  log_config cfg;
  cfg.index_interval_bytes = 100;  // entries, so that reads use the indexes
  const int kLogs = 300;
  const size_t fds_before = open_fds();
  std::vector<std::shared_ptr<log>> logs;
  for (int i = 0; i < kLogs; ++i) {
    auto o = log_options(d.path(), cfg);
    o.dir = d / ("p-" + std::to_string(i));
    o.partition = i;
    auto lg = log::open(o);
    ASSERT_TRUE(lg) << lg.error().message();
    logs.push_back(std::move(lg).value());
  }
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kLogs; ++i) {
      auto b = make_batch(2, 80, 1000 + round);
      ASSERT_TRUE(logs[size_t(i)]->append(b, 0, 1)) << i;
    }
  }
  for (int i = 0; i < kLogs; ++i) {
    auto all = read_all(*logs[size_t(i)], 0, 300);
    ASSERT_EQ(all.size(), 3u) << i;
    EXPECT_EQ(all.back().last_offset, 5);
    EXPECT_EQ(logs[size_t(i)]->offset_for_timestamp(1002)->offset, 2);
  }
  // Without the budget every log keeps a .log and two index descriptors open.
  EXPECT_LE(open_fds(), fds_before + 16 + 16 + 8) << "descriptors grow with the number of logs";
  EXPECT_LE(maps_of(d.path()), 16u) << "index maps grow with the number of logs";
  EXPECT_LE(log_file_cache().size(), 16u);
  EXPECT_LE(index_cache().size(), 8u);
  EXPECT_GT(log_file_cache().evictions(), 0u);
  for (auto& lg : logs) ASSERT_FALSE(lg->close());
  logs.clear();
  // Everything reopens after the clean shutdown, and no healthy index is "rebuilt".
  const uint64_t rebuilds = segment::index_rebuilds();
  for (int i = 0; i < kLogs; ++i) {
    auto o = log_options(d.path(), cfg);
    o.dir = d / ("p-" + std::to_string(i));
    o.partition = i;
    o.clean_shutdown = true;
    auto lg = log::open(o);
    ASSERT_TRUE(lg) << lg.error().message();
    ASSERT_EQ(lg.value()->log_end_offset(), 6);
    ASSERT_EQ(read_all(*lg.value(), 0).size(), 3u);
  }
  EXPECT_EQ(segment::index_rebuilds(), rebuilds);
  EXPECT_LE(open_fds(), fds_before + 16 + 16 + 8);
}

TEST(file_budget, a_read_result_keeps_its_descriptor_across_eviction) {
  small_budgets budget(16);
  temp_dir d;
  auto lg = log::open(log_options(d.path())).value();
  auto b = make_batch(3, 50, 1000);
  ASSERT_TRUE(lg->append(b, 0, 1));
  auto rd = lg->read(0, 100000, lg->log_end_offset(), true);
  ASSERT_TRUE(rd);
  ASSERT_EQ(rd->ranges.size(), 1u);
  const int fd = rd->ranges[0].fd;
  log_file_cache().evict_all();
  index_cache().evict_all();
  EXPECT_EQ(log_file_cache().size(), 0u);
  ASSERT_TRUE(fd_is_open(fd)) << "eviction closed a descriptor a reader holds";
  auto seen = batches_in(rd.value());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].crc_ok);
  // A second read while the first still holds the file gets the same descriptor back
  // rather than a second open file.
  auto rd2 = lg->read(0, 100000, lg->log_end_offset(), true);
  ASSERT_TRUE(rd2);
  EXPECT_EQ(rd2->ranges[0].fd, fd);
  rd.value().ranges.clear();
  rd2.value().ranges.clear();
  log_file_cache().evict_all();
  EXPECT_FALSE(fd_is_open(fd)) << "the last user let go but the descriptor stayed open";
}

TEST(file_budget, writes_reopen_transparently_after_eviction) {
  small_budgets budget(16);
  temp_dir d;
  log_config cfg;
  cfg.segment_bytes = 1500;
  cfg.index_interval_bytes = 100;
  auto o = log_options(d.path(), cfg);
  auto lg = log::open(o).value();
  auto evict = [] {
    log_file_cache().evict_all();
    index_cache().evict_all();
  };
  int64_t ts = 1000;
  for (int i = 0; i < 40; ++i) {
    auto b = make_batch(2, 60, ts++);
    ASSERT_TRUE(lg->append(b, 0, 1)) << i;
    if (i % 3 == 0) evict();
  }
  EXPECT_GT(lg->segments_count(), 3u);  // rolled
  evict();
  ASSERT_FALSE(lg->flush());
  evict();
  ASSERT_FALSE(lg->truncate_to(52));
  EXPECT_EQ(lg->log_end_offset(), 52);  // batches are two offsets each: 52..53 on are cut
  evict();
  ASSERT_FALSE(lg->delete_records_before(20));
  evict();
  auto all = read_all(*lg, 20);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front().base_offset, 20);
  EXPECT_EQ(all.back().last_offset, 51);
  for (auto& s : all) EXPECT_TRUE(s.crc_ok);
  evict();
  EXPECT_EQ(lg->max_timestamp_and_offset().offset, 51);
  ASSERT_FALSE(lg->close());
  o.clean_shutdown = true;
  const uint64_t rebuilds = segment::index_rebuilds();
  auto again = log::open(o).value();
  EXPECT_EQ(again->log_end_offset(), 52);
  EXPECT_EQ(read_all(*again, 20).size(), all.size());
  EXPECT_EQ(again->max_timestamp_and_offset().offset, 51);
  EXPECT_EQ(segment::index_rebuilds(), rebuilds);
}

TEST(file_budget, reopen_errors_are_storage_errors_that_name_the_cause) {
  small_budgets budget(16);
  temp_dir d;
  fs::fault_injection_file_system ffs(fs::posix_file_system());
  auto o = log_options(d.path());
  o.fs = &ffs;
  auto lg = log::open(o).value();
  auto b = make_batch(1, 10, 1000);
  ASSERT_TRUE(lg->append(b, 0, 1));
  log_file_cache().evict_all();
  index_cache().evict_all();
  ffs.set_open_errno(EMFILE);
  auto rd = lg->read(0, 1000, lg->log_end_offset(), true);
  ASSERT_FALSE(rd);
  EXPECT_EQ(rd.error(), errc::too_many_open_files);
  EXPECT_NE(rd.error().message().find("too many open files"), std::string::npos) << rd.error().message();
  EXPECT_NE(rd.error().message().find("RLIMIT_NOFILE is "), std::string::npos) << rd.error().message();
  auto b2 = make_batch(1, 10, 1001);
  auto ap = lg->append(b2, 0, 1);
  ASSERT_FALSE(ap);
  EXPECT_EQ(ap.error(), errc::too_many_open_files);
  EXPECT_EQ(lg->log_end_offset(), 1);  // nothing appended
  ffs.set_open_errno(0);
  ASSERT_TRUE(lg->append(b2, 0, 1));
  EXPECT_EQ(read_all(*lg, 0).size(), 2u);
  ASSERT_FALSE(lg->close());
}

TEST(file_budget, a_removed_segment_file_is_an_error_not_a_crash) {
  small_budgets budget(16);
  temp_dir d;
  auto o = log_options(d.path());
  auto lg = log::open(o).value();
  auto b = make_batch(1, 10, 1000);
  ASSERT_TRUE(lg->append(b, 0, 1));
  log_file_cache().evict_all();
  index_cache().evict_all();
  std::filesystem::remove(d / "t-0/00000000000000000000.log");
  auto rd = lg->read(0, 1000, lg->log_end_offset(), true);
  ASSERT_FALSE(rd);
  EXPECT_EQ(rd.error(), errc::not_found);
  auto b2 = make_batch(1, 10, 1001);
  EXPECT_FALSE(lg->append(b2, 0, 1));
}

TEST(file_budget, readers_and_a_writer_race_constant_eviction) {
  small_budgets budget(8, 4);  // 4 .log descriptors, 2 index pairs for 12 logs
  temp_dir d;
  log_config cfg;
  cfg.segment_bytes = 4000;
  cfg.index_interval_bytes = 150;
  std::vector<std::shared_ptr<log>> logs;
  for (int i = 0; i < 12; ++i) {
    auto o = log_options(d.path(), cfg);
    o.dir = d / ("r-" + std::to_string(i));
    logs.push_back(log::open(o).value());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      uint64_t k = uint64_t(t) * 7;
      while (!stop.load()) {
        auto& lg = *logs[k++ % logs.size()];
        int64_t leo = lg.log_end_offset();
        if (leo == 0) continue;
        auto rd = lg.read(int64_t(k % uint64_t(leo)), 2000, leo, true);
        if (!rd) {
          bad++;
          continue;
        }
        for (auto& sb : batches_in(rd.value())) {
          if (!sb.crc_ok) bad++;
        }
        if (lg.offset_for_timestamp(1000 + int64_t(k % 50)) == std::nullopt && leo > 100) bad++;
        reads++;
      }
    });
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  int64_t ts = 1000;
  int appends = 0;
  while (std::chrono::steady_clock::now() < until) {
    for (auto& lg : logs) {
      auto b = make_batch(2, 40, ts);
      ASSERT_TRUE(lg->append(b, 0, 1));
      ++appends;
    }
    ++ts;
    if (ts % 20 == 0) {
      ASSERT_FALSE(logs[size_t(ts) % logs.size()]->flush());
    }
  }
  stop = true;
  for (auto& th : readers) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 100u);
  EXPECT_GT(log_file_cache().evictions(), 100u);
  for (auto& lg : logs) {
    auto all = read_all(*lg, 0);
    ASSERT_EQ(all.size(), size_t(appends / int(logs.size())));
    ASSERT_FALSE(lg->close());
  }
}

TEST(storage_errors, errno_values_keep_their_cause) {
  EXPECT_EQ(errno_to_error(EMFILE), errc::too_many_open_files);
  EXPECT_EQ(errno_to_error(ENFILE), errc::too_many_open_files);
  EXPECT_EQ(errno_to_write_error(EMFILE), errc::too_many_open_files);
  EXPECT_EQ(errno_to_write_error(ENOSPC), errc::no_space);
  EXPECT_EQ(errno_to_error(EIO), errc::io_error);
  EXPECT_NE(make_error_code(errc::out_of_maps).message().find("vm.max_map_count"), std::string::npos);
  // Opening beyond RLIMIT_NOFILE through the real file system names EMFILE.
  temp_dir d;
  std::ofstream(d / "f") << "x";
  struct rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  struct rlimit low = saved;
  low.rlim_cur = std::min<rlim_t>(saved.rlim_cur, rlim_t(open_fds() + 64));
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fds;
  int fd;
  while ((fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) fds.push_back(fd);
  ASSERT_EQ(errno, EMFILE);
  auto f = fs::posix_file_system().open(d / "f", fs::open_mode::read_write);
  for (int x : fds) ::close(x);
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error(), errc::too_many_open_files);
}

// Item: "storage: rebuilding damaged index" after every clean shutdown.
TEST(index_check, clean_close_and_reopen_rebuilds_nothing_but_a_zeroed_index_is_rebuilt) {
  temp_dir d;
  log_config cfg;  // index.interval.bytes 4096
  struct shape {
    int batches;
    size_t value_size;
    int records;
  };
  // One batch smaller than, about, and far larger than an interval; several batches
  // in one append; many batches.
  const shape shapes[] = {{1, 10, 1}, {1, 5000, 1}, {1, 3000, 4}, {1, 100000, 1}, {3, 5000, 1}, {40, 700, 2}};
  int n = 0;
  for (const auto& sh : shapes) {
    for (bool one_append : {true, false}) {
      auto o = log_options(d.path(), cfg);
      o.dir = d / ("s-" + std::to_string(n++));
      {
        auto lg = log::open(o).value();
        if (one_append && sh.batches > 1) {
          std::vector<uint8_t> buf;
          for (int i = 0; i < sh.batches; ++i) append_to(buf, make_batch(sh.records, sh.value_size, 1000 + i));
          ASSERT_TRUE(lg->append(buf, 0, 1));
        } else {
          for (int i = 0; i < sh.batches; ++i) {
            auto b = make_batch(sh.records, sh.value_size, 1000 + i);
            ASSERT_TRUE(lg->append(b, 0, 1));
          }
        }
        ASSERT_FALSE(lg->close());
      }
      for (int restart = 0; restart < 2; ++restart) {
        const uint64_t before = segment::index_rebuilds();
        o.clean_shutdown = true;
        auto lg = log::open(o).value();
        EXPECT_EQ(read_all(*lg, 0).size(), size_t(sh.batches));
        EXPECT_EQ(lg->max_timestamp_and_offset().timestamp, 1000 + sh.batches - 1 + sh.records - 1);
        EXPECT_EQ(segment::index_rebuilds(), before)
            << "healthy segment of " << sh.batches << " batches of " << sh.records << "x" << sh.value_size
            << (one_append ? " in one append" : "") << " was rebuilt";
        ASSERT_FALSE(lg->close());
      }
    }
  }
  // A zeroed offset index and a zeroed time index are damage.
  for (const char* suffix : {".index", ".timeindex"}) {
    auto o = log_options(d.path(), cfg);
    o.dir = d / (std::string("z") + suffix);
    {
      auto lg = log::open(o).value();
      for (int i = 0; i < 40; ++i) {
        auto b = make_batch(2, 700, 1000 + i);
        ASSERT_TRUE(lg->append(b, 0, 1));
      }
      ASSERT_FALSE(lg->close());
    }
    std::string path = o.dir + "/00000000000000000000" + suffix;
    int64_t size = file_size(path);
    ASSERT_GT(size, 0);
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      std::string zeros(size_t(size), '\0');
      out.write(zeros.data(), std::streamsize(zeros.size()));
    }
    const uint64_t before = segment::index_rebuilds();
    o.clean_shutdown = true;
    auto lg = log::open(o).value();
    auto all = read_all(*lg, 0);
    EXPECT_EQ(all.size(), 40u);
    EXPECT_EQ(lg->offset_for_timestamp(1030)->offset, 58);  // batch 29: 58..59, max 1030
    EXPECT_EQ(lg->max_timestamp_and_offset().timestamp, 1040);
    EXPECT_EQ(segment::index_rebuilds(), before + 1) << suffix;
    ASSERT_FALSE(lg->close());
  }
}

}  // namespace
}  // namespace strata::storage
