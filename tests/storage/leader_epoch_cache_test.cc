#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "storage/leader_epoch_cache.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using testing::temp_dir;

TEST(leader_epoch_cache, assign_keeps_both_columns_increasing) {
  temp_dir d;
  leader_epoch_cache c(fs::posix_file_system(), d / "leader-epoch-checkpoint");
  EXPECT_TRUE(c.assign(1, 0));
  EXPECT_FALSE(c.assign(1, 5));  // same epoch, later start: nothing to do
  EXPECT_TRUE(c.assign(2, 10));
  EXPECT_TRUE(c.assign(4, 20));
  // A lower epoch, or a start at/below an existing one, removes the conflicting entries.
  EXPECT_TRUE(c.assign(3, 15));
  EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{1, 0}, {2, 10}, {3, 15}}));
  EXPECT_TRUE(c.assign(5, 10));
  EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{1, 0}, {5, 10}}));
  EXPECT_FALSE(c.assign(-1, 3));
}

TEST(leader_epoch_cache, end_offset_for_follows_kafka) {
  temp_dir d;
  leader_epoch_cache c(fs::posix_file_system(), d / "cp");
  EXPECT_EQ(c.end_offset_for(0, 100), std::make_pair(-1, int64_t(-1)));
  c.assign(2, 10);
  c.assign(4, 30);
  c.assign(7, 50);
  EXPECT_EQ(c.end_offset_for(7, 100), std::make_pair(7, int64_t(100)));  // latest: LEO
  EXPECT_EQ(c.end_offset_for(4, 100), std::make_pair(4, int64_t(50)));
  EXPECT_EQ(c.end_offset_for(5, 100), std::make_pair(4, int64_t(50)));   // floor 4, next 7
  EXPECT_EQ(c.end_offset_for(1, 100), std::make_pair(1, int64_t(10)));   // below all
  EXPECT_EQ(c.end_offset_for(8, 100), std::make_pair(-1, int64_t(-1)));  // above all
  EXPECT_EQ(c.end_offset_for(-1, 100), std::make_pair(-1, int64_t(-1)));
  EXPECT_EQ(c.epoch_for_offset(35), 4);
  EXPECT_EQ(c.epoch_for_offset(5), std::nullopt);
}

TEST(leader_epoch_cache, truncation_from_both_ends) {
  temp_dir d;
  leader_epoch_cache c(fs::posix_file_system(), d / "cp");
  c.assign(1, 0);
  c.assign(2, 10);
  c.assign(3, 20);
  EXPECT_TRUE(c.truncate_from_end(15));
  EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{1, 0}, {2, 10}}));
  EXPECT_FALSE(c.truncate_from_end(15));
  EXPECT_TRUE(c.truncate_from_start(12));
  EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{2, 12}}));
  EXPECT_FALSE(c.truncate_from_start(12));
  EXPECT_FALSE(c.truncate_from_start(5));
}

TEST(leader_epoch_cache, persists_in_kafka_format) {
  temp_dir d;
  {
    leader_epoch_cache c(fs::posix_file_system(), d / "leader-epoch-checkpoint");
    c.assign(0, 0);
    c.assign(3, 120);
    ASSERT_FALSE(c.flush());
  }
  std::ifstream in(d / "leader-epoch-checkpoint");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "0\n2\n0 0\n3 120\n");
  leader_epoch_cache c(fs::posix_file_system(), d / "leader-epoch-checkpoint");
  EXPECT_EQ(c.entries(), (std::vector<epoch_entry>{{0, 0}, {3, 120}}));
}

TEST(leader_epoch_cache, damaged_file_loads_empty) {
  temp_dir d;
  std::ofstream(d / "cp") << "0\n1\ngarbage\n";
  leader_epoch_cache c(fs::posix_file_system(), d / "cp");
  EXPECT_TRUE(c.entries().empty());
}

}  // namespace
}  // namespace strata::storage
