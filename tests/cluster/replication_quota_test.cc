// replication_quota: Kafka's sampled rate, the limit, and a throttled sender's
// long-run rate staying near the limit.
#include "cluster/replication_quota.h"

#include <gtest/gtest.h>

namespace strata::cluster {
namespace {

TEST(replication_quota, unlimited_is_never_exceeded) {
  replication_quota q;
  q.record(1LL << 40, 0);
  EXPECT_FALSE(q.exceeded(1));
}

TEST(replication_quota, a_first_burst_is_measured_over_ten_windows) {
  replication_quota q(11, 1000);
  q.record(10'000, 0);
  // 10,000 bytes 0.5 s ago, over 0.5 s + at least 10 more windows of 1 s.
  EXPECT_DOUBLE_EQ(q.rate(500), 10'000 / 10.5);
  q.set_limit(952);
  EXPECT_TRUE(q.exceeded(500));
  q.set_limit(953);
  EXPECT_FALSE(q.exceeded(500));
}

TEST(replication_quota, old_samples_expire) {
  replication_quota q(11, 1000);
  q.record(50'000, 0);
  q.set_limit(1000);
  EXPECT_TRUE(q.exceeded(1000));
  EXPECT_FALSE(q.exceeded(11'001));  // the sample of t=0 is older than 11 windows
  EXPECT_DOUBLE_EQ(q.rate(11'001), 0.0);
}

TEST(replication_quota, rate_over_more_than_the_minimum_span) {
  replication_quota q(11, 1000);
  for (int t = 0; t <= 10'000; t += 1000) q.record(2000, t);  // 11 samples of 2,000 bytes
  // 22,000 bytes since t=0, 10.5 s ago.
  EXPECT_NEAR(q.rate(10'500), 22'000 / 10.5, 1e-9);
}

// A sender that sends a chunk whenever the quota is not exceeded, as a throttled
// leader does: after the first burst (up to ten windows' worth, as in Kafka) it
// keeps within 20% of the limit.
TEST(replication_quota, a_throttled_sender_keeps_near_the_limit) {
  for (int64_t limit : {100'000, 1'000'000, 10'000'000}) {
    replication_quota q(11, 1000);
    q.set_limit(limit);
    const int64_t chunk = 256 * 1024;  // up to 26 MB/s: more than any limit tried
    int64_t sent = 0, sent_after_20s = 0;
    for (int64_t now = 0; now < 120'000; now += 10) {  // a fetch every 10 ms
      if (q.exceeded(now)) continue;
      q.record(chunk, now);
      sent += chunk;
      if (now >= 20'000) sent_after_20s += chunk;
    }
    // At most 20% over, plus the first burst (ten windows) and one chunk.
    EXPECT_LE(sent, static_cast<int64_t>(1.2 * static_cast<double>(limit) * 120) + limit * 10 + chunk) << limit;
    const double steady = static_cast<double>(sent_after_20s) / 100.0;
    EXPECT_LT(steady, 1.2 * static_cast<double>(limit)) << limit;
    EXPECT_GT(steady, 0.8 * static_cast<double>(limit)) << limit;
  }
}

}  // namespace
}  // namespace strata::cluster
