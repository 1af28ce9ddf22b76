// The delayed-operation mechanism: waiters fire once, when the watermark reaches
// their target, and not before.
#include "cluster/watermark_waiters.h"

#include <gtest/gtest.h>

#include <vector>

namespace strata::cluster {
namespace {

TEST(watermark_waiters, fires_each_waiter_once_when_the_watermark_reaches_its_target) {
  watermark_waiters w;
  std::vector<int> fired;
  w.add(10, [&] { fired.push_back(10); });
  w.add(5, [&] { fired.push_back(5); });
  w.add(20, [&] { fired.push_back(20); });
  w.advance(4);
  EXPECT_TRUE(fired.empty());
  w.advance(10);
  EXPECT_EQ(fired, (std::vector<int>{10, 5}));
  EXPECT_EQ(w.size(), 1u);
  w.advance(10);  // already fired: not again
  EXPECT_EQ(fired.size(), 2u);
  w.advance(25);
  EXPECT_EQ(fired, (std::vector<int>{10, 5, 20}));
  EXPECT_EQ(w.size(), 0u);
}

TEST(watermark_waiters, a_removed_waiter_never_fires) {
  watermark_waiters w;
  int fired = 0;
  auto id = w.add(3, [&] { ++fired; });
  w.add(3, [&] { fired += 10; });
  w.remove(id);
  w.advance(100);
  EXPECT_EQ(fired, 10);
}

TEST(watermark_waiters, fire_all_wakes_everyone_whatever_their_target) {
  watermark_waiters w;
  int fired = 0;
  w.add(1000, [&] { ++fired; });
  w.add(2000, [&] { ++fired; });
  w.fire_all();
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(w.size(), 0u);
  w.advance(5000);
  EXPECT_EQ(fired, 2);
}

TEST(watermark_waiters, a_callback_may_add_a_new_waiter) {
  // when_replicated re-registers from its own callback: no deadlock, and the new
  // waiter waits for the next move.
  watermark_waiters w;
  int fired = 0;
  w.add(1, [&] {
    ++fired;
    w.add(2, [&] { ++fired; });
  });
  w.advance(1);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(w.size(), 1u);
  w.advance(2);
  EXPECT_EQ(fired, 2);
}

TEST(watermark_waiters, after_removal_of_the_lowest_target_lower_moves_fire_nothing) {
  watermark_waiters w;
  int fired = 0;
  auto low = w.add(2, [&] { ++fired; });
  w.add(50, [&] { ++fired; });
  w.remove(low);
  w.advance(10);
  EXPECT_EQ(fired, 0);
  w.advance(50);
  EXPECT_EQ(fired, 1);
}

}  // namespace
}  // namespace strata::cluster
