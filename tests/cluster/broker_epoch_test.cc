#include "cluster/broker_epoch.h"

#include <gtest/gtest.h>

namespace strata::cluster {
namespace {

TEST(BrokerEpoch, OnlyAnEarlierRegistrationIsStale) {
  EXPECT_TRUE(is_stale_broker_epoch(27, 200));   // sent for the run before
  EXPECT_FALSE(is_stale_broker_epoch(200, 200));
  // The controller saw the new registration first: the broker has not stored 200 yet.
  EXPECT_FALSE(is_stale_broker_epoch(200, 27));
  EXPECT_FALSE(is_stale_broker_epoch(-1, 200));  // no epoch in the request
  EXPECT_FALSE(is_stale_broker_epoch(200, -1));  // not registered yet
}

}  // namespace
}  // namespace strata::cluster
