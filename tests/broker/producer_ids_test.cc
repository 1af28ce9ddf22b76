// producer_ids: ids never reused across restarts (single node), and in a cluster
// blocks claimed on the claimer thread, never on the caller's.
#include "broker/producer_ids.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

namespace strata::broker {
namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    path = std::filesystem::temp_directory_path() /
           ("strata-pids-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(path);
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

// A claim the test releases: shows what next() does while ZooKeeper is slow.
struct gated_source {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  bool fail = false;
  int calls = 0;
  int64_t next_first = 5000;

  producer_ids::block_source fn() {
    return [this]() -> std::optional<producer_ids::block> {
      std::unique_lock lk(mu);
      ++calls;
      cv.notify_all();
      cv.wait(lk, [&] { return open; });
      if (fail) return std::nullopt;
      producer_ids::block b{next_first, next_first + 999};
      next_first += 1000;
      return b;
    };
  }
  void release() {
    std::lock_guard lk(mu);
    open = true;
    cv.notify_all();
  }
  void wait_calls(int n) {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(10), [&] { return calls >= n; }));
  }
};

int64_t next_when_ready(producer_ids& ids) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    int64_t id = ids.next();
    if (id != producer_ids::not_ready || std::chrono::steady_clock::now() > deadline) return id;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // poll interval of a bounded wait
  }
}

TEST(ProducerIds, NeverReusedAcrossRestarts) {
  temp_dir d;
  int64_t last = -1;
  {
    producer_ids ids(d.path.string());
    for (int i = 0; i < 1500; ++i) {
      int64_t id = ids.next();
      ASSERT_GT(id, last);
      last = id;
    }
  }
  producer_ids again(d.path.string());
  EXPECT_GT(again.next(), last);
}

TEST(ProducerIds, ClusterClaimRunsOffTheCallersThread) {
  temp_dir d;
  producer_ids ids(d.path.string());
  gated_source src;
  ids.set_block_source(src.fn());
  src.wait_calls(1);
  // The claim is blocked in "ZooKeeper": the caller is answered at once, retriably.
  EXPECT_EQ(ids.next(), producer_ids::not_ready);
  EXPECT_EQ(ids.next(), producer_ids::not_ready);
  src.release();
  EXPECT_EQ(next_when_ready(ids), 5000);
  EXPECT_EQ(ids.next(), 5001);
  ids.clear_block_source();
  std::lock_guard lk(src.mu);
  EXPECT_EQ(src.calls, 1) << "one claim in flight at a time";
}

TEST(ProducerIds, NextBlockClaimedBeforeTheCurrentRunsOut) {
  temp_dir d;
  producer_ids ids(d.path.string());
  gated_source src;
  src.release();
  ids.set_block_source(src.fn());
  ASSERT_EQ(next_when_ready(ids), 5000);
  for (int64_t want = 5001; want < 6000; ++want) ASSERT_EQ(ids.next(), want);
  src.wait_calls(2);  // claimed ahead, while ids of the first block were left
  EXPECT_EQ(next_when_ready(ids), 6000);
}

TEST(ProducerIds, FailedClaimIsRetriedOnTheNextCall) {
  temp_dir d;
  producer_ids ids(d.path.string());
  gated_source src;
  {
    std::lock_guard lk(src.mu);
    src.fail = true;
  }
  src.release();
  ids.set_block_source(src.fn());
  src.wait_calls(1);
  // Until the failed claim has returned, next() may still see it in flight.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    EXPECT_EQ(ids.next(), producer_ids::not_ready);
    std::lock_guard lk(src.mu);
    if (src.calls >= 2 || std::chrono::steady_clock::now() > deadline) break;
  }
  {
    std::lock_guard lk(src.mu);
    ASSERT_GE(src.calls, 2);
    src.fail = false;
  }
  EXPECT_GE(next_when_ready(ids), 5000);
}

}  // namespace
}  // namespace strata::broker
