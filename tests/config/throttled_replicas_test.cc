// The *.replication.throttled.replicas topic settings (KIP-73).
#include "config/throttled_replicas.h"

#include <gtest/gtest.h>

#include "config/broker_config.h"
#include "config/topic_config.h"

using namespace strata::config;

TEST(throttled_replicas, kafkas_forms_parse) {
  auto none = parse_throttled_replicas("");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(none->contains(0, 1));
  auto all = parse_throttled_replicas(" * ");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(7, 3));
  auto some = parse_throttled_replicas("0:101, 0:102 ,1:101");
  ASSERT_TRUE(some);
  EXPECT_TRUE(some->contains(0, 101));
  EXPECT_TRUE(some->contains(0, 102));
  EXPECT_TRUE(some->contains(1, 101));
  EXPECT_FALSE(some->contains(1, 102));
  EXPECT_FALSE(some->contains(101, 0));
}

TEST(throttled_replicas, malformed_values_are_refused) {
  for (const char* bad : {"0", "0:", ":1", "a:1", "0:b", "0:1,", "-1:2", "0:1;1:2", "*,0:1", "0:1:2"})
    EXPECT_FALSE(parse_throttled_replicas(bad)) << bad;
  auto err = validate_topic_overrides({{"follower.replication.throttled.replicas", "0:x"}});
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("partition:broker"), std::string::npos) << *err;
  EXPECT_FALSE(validate_topic_overrides({{"leader.replication.throttled.replicas", "*"}}));
}

TEST(throttled_replicas, a_topic_config_carries_them) {
  broker_config b;
  auto tc = resolve_topic_config(b, {{"leader.replication.throttled.replicas", "2:5"}});
  EXPECT_TRUE(tc.leader_throttled_replicas.contains(2, 5));
  EXPECT_TRUE(tc.follower_throttled_replicas.empty());
}
