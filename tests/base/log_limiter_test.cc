#include "base/log_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace strata {
namespace {

TEST(LogLimiter, FirstOccurrenceIsLoggedThenOnePerInterval) {
  log_limiter lim(std::chrono::milliseconds(1000));
  uint64_t skipped = 99;
  ASSERT_TRUE(lim.allow_at(10'000, &skipped));
  EXPECT_EQ(skipped, 0u);
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(lim.allow_at(10'000 + i * 10, &skipped));
  EXPECT_FALSE(lim.allow_at(10'999, &skipped));
  ASSERT_TRUE(lim.allow_at(11'000, &skipped));
  EXPECT_EQ(skipped, 51u);  // the 50 in the loop and the one at 10'999
  ASSERT_TRUE(lim.allow_at(20'000, &skipped));
  EXPECT_EQ(skipped, 0u);
}

TEST(LogLimiter, ConcurrentCallersLogOnceAndCountTheRest) {
  log_limiter lim(std::chrono::hours(1));
  std::atomic<int> logged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      uint64_t s;
      for (int i = 0; i < 1000; ++i)
        if (lim.allow(&s)) ++logged;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(logged.load(), 1);
  uint64_t skipped = 0;
  ASSERT_TRUE(lim.allow_at(INT64_MAX / 2, &skipped));
  EXPECT_EQ(skipped, 3999u);
}

TEST(LogLimiter, SuppressedNote) {
  EXPECT_EQ(suppressed_note(0, 5000), "");
  EXPECT_EQ(suppressed_note(7, 5000), " (7 more like this in the last 5s)");
}

}  // namespace
}  // namespace strata
