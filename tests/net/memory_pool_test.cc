// queued.max.request.bytes: the request memory pool and the charges request buffers
// carry.
#include <gtest/gtest.h>

#include <thread>

#include "net/memory_pool.h"
#include "net/request.h"

using namespace strata::net;

TEST(memory_pool, grants_while_anything_is_left_then_refuses_until_released) {
  auto pool = std::make_shared<memory_pool>(100);
  pool_charge a(pool);
  EXPECT_TRUE(a.try_add(60));
  pool_charge b(pool);
  EXPECT_TRUE(b.try_add(60));  // non-strict: 40 were left, the grant may overshoot
  EXPECT_EQ(pool->used(), 120);
  pool_charge c(pool);
  EXPECT_FALSE(c.try_add(1));  // spent
  EXPECT_EQ(c.bytes(), 0u);
  int woken = 0;
  pool->on_release([&] { ++woken; });
  a.reset();
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(pool->used(), 60);
  EXPECT_TRUE(c.try_add(10));
  b.reset();
  EXPECT_EQ(woken, 1);  // a wake-up runs once
}

TEST(memory_pool, zero_or_negative_limit_is_unbounded_but_counted) {
  for (int64_t limit : {-1, 0}) {
    auto pool = std::make_shared<memory_pool>(limit);
    pool_charge a(pool);
    EXPECT_TRUE(a.try_add(size_t(1) << 40));
    EXPECT_EQ(pool->used(), int64_t(1) << 40);
  }
}

TEST(memory_pool, a_frame_gives_its_charge_back_when_freed_on_any_thread) {
  auto pool = std::make_shared<memory_pool>(1000);
  pool_charge charge(pool);
  ASSERT_TRUE(charge.try_add(32));
  auto buf = frame_bytes::allocate(32);
  frame_bytes::grow(buf, 128);  // contents kept
  buf.get()[127] = 7;
  ASSERT_TRUE(charge.try_add(96));
  auto frame = std::make_shared<frame_bytes>(std::move(buf), 128, std::move(charge));
  EXPECT_EQ(charge.bytes(), 0u);
  EXPECT_EQ(pool->used(), 128);
  EXPECT_EQ(frame->data()[127], 7);
  std::thread([f = std::move(frame)]() mutable { f.reset(); }).join();
  EXPECT_EQ(pool->used(), 0);
}
