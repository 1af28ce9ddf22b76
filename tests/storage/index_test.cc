#include <gtest/gtest.h>

#include <fstream>

#include "storage/offset_index.h"
#include "storage/time_index.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using testing::file_size;
using testing::temp_dir;

TEST(offset_index, lookup_finds_greatest_entry_at_or_below_target) {
  temp_dir d;
  auto idx = offset_index::open(fs::posix_file_system(), d / "x.index", 100, 4096).value();
  ASSERT_TRUE(idx->load(0));
  EXPECT_EQ(idx->lookup(150).offset, 100);  // empty: base offset, position 0
  EXPECT_EQ(idx->lookup(150).position, 0u);
  ASSERT_TRUE(idx->append(110, 1000));
  ASSERT_TRUE(idx->append(120, 2000));
  ASSERT_TRUE(idx->append(130, 3000));
  EXPECT_FALSE(idx->append(130, 4000));  // offsets must increase
  EXPECT_FALSE(idx->append(140, 3000));  // positions must increase
  EXPECT_EQ(idx->lookup(109).position, 0u);
  EXPECT_EQ(idx->lookup(110).position, 1000u);
  EXPECT_EQ(idx->lookup(125).position, 2000u);
  EXPECT_EQ(idx->lookup(1000).position, 3000u);
  EXPECT_EQ(idx->count_below(125, 1u << 30), 2u);
  EXPECT_EQ(idx->count_below(1000, 2500), 2u);
  idx->truncate_to(120);
  EXPECT_EQ(idx->entries(), 1u);
  EXPECT_EQ(idx->lookup(1000).position, 1000u);
}

TEST(offset_index, on_disk_format_is_big_endian_relative_offset_then_position) {
  temp_dir d;
  {
    auto idx = offset_index::open(fs::posix_file_system(), d / "x.index", 100, 4096).value();
    ASSERT_TRUE(idx->load(0));
    ASSERT_TRUE(idx->append(0x102, 0x0a0b0c0d));
    ASSERT_FALSE(idx->trim());
  }
  std::ifstream in(d / "x.index", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<uint8_t> want = {0, 0, 0, 0x9e, 0x0a, 0x0b, 0x0c, 0x0d};  // 0x102 - 100 = 0x9e
  EXPECT_EQ(bytes, want);
}

TEST(offset_index, reopen_keeps_entries_and_ignores_reserved_zero_tail) {
  temp_dir d;
  {
    auto idx = offset_index::open(fs::posix_file_system(), d / "x.index", 0, 1 << 20).value();
    ASSERT_TRUE(idx->load(0));
    for (int i = 1; i <= 10; ++i) ASSERT_TRUE(idx->append(i * 10, uint32_t(i * 100)));
    // Not trimmed: the file keeps its reserved zeros, as after a crash.
  }
  EXPECT_EQ(file_size(d / "x.index"), 64 * 1024);
  auto idx = offset_index::open(fs::posix_file_system(), d / "x.index", 0, 1 << 20).value();
  ASSERT_TRUE(idx->load(100000));
  EXPECT_EQ(idx->entries(), 10u);
  EXPECT_EQ(file_size(d / "x.index"), 80);
  EXPECT_EQ(idx->lookup(55).position, 500u);
}

TEST(offset_index, load_rejects_entries_that_do_not_increase_or_point_past_the_log) {
  temp_dir d;
  {
    std::ofstream out(d / "bad.index", std::ios::binary);
    const uint8_t e[] = {0, 0, 0, 5, 0, 0, 0, 50, 0, 0, 0, 3, 0, 0, 0, 60};
    out.write(reinterpret_cast<const char*>(e), sizeof e);
  }
  auto idx = offset_index::open(fs::posix_file_system(), d / "bad.index", 0, 4096).value();
  EXPECT_FALSE(idx->load(1000));
  auto idx2 = offset_index::open(fs::posix_file_system(), d / "bad.index", 0, 4096).value();
  EXPECT_FALSE(idx2->load(55));  // position 60 is past a 55-byte log
}

TEST(offset_index, full_index_refuses_entries) {
  temp_dir d;
  auto idx = offset_index::open(fs::posix_file_system(), d / "x.index", 0, 24).value();
  ASSERT_TRUE(idx->load(0));
  EXPECT_TRUE(idx->append(1, 10));
  EXPECT_TRUE(idx->append(2, 20));
  EXPECT_FALSE(idx->full());
  EXPECT_TRUE(idx->append(3, 30));
  EXPECT_TRUE(idx->full());
  EXPECT_FALSE(idx->append(4, 40));
}

TEST(time_index, entries_only_for_increasing_timestamps_and_lookup_floor) {
  temp_dir d;
  auto ti = time_index::open(fs::posix_file_system(), d / "x.timeindex", 50, 4096).value();
  ASSERT_TRUE(ti->load());
  EXPECT_EQ(ti->last_entry().timestamp, -1);
  EXPECT_EQ(ti->last_entry().offset, 50);
  EXPECT_TRUE(ti->maybe_append(1000, 55));
  EXPECT_FALSE(ti->maybe_append(1000, 60));
  EXPECT_FALSE(ti->maybe_append(999, 60));
  EXPECT_TRUE(ti->maybe_append(2000, 70));
  EXPECT_EQ(ti->lookup(500).timestamp, -1);
  EXPECT_EQ(ti->lookup(500).offset, 50);
  EXPECT_EQ(ti->lookup(1500).offset, 55);
  EXPECT_EQ(ti->lookup(2000).offset, 70);
  ti->truncate_to(70);
  EXPECT_EQ(ti->entries(), 1u);
  EXPECT_EQ(ti->last_entry().timestamp, 1000);
}

TEST(time_index, on_disk_format_is_timestamp_then_relative_offset) {
  temp_dir d;
  {
    auto ti = time_index::open(fs::posix_file_system(), d / "x.timeindex", 10, 4096).value();
    ASSERT_TRUE(ti->load());
    ASSERT_TRUE(ti->maybe_append(0x0102030405060708, 12));
    ASSERT_FALSE(ti->trim());
  }
  std::ifstream in(d / "x.timeindex", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  std::vector<uint8_t> want = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 2};
  EXPECT_EQ(bytes, want);
}

TEST(time_index, load_rejects_decreasing_timestamps) {
  temp_dir d;
  {
    std::ofstream out(d / "bad.timeindex", std::ios::binary);
    const uint8_t e[] = {0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 2};
    out.write(reinterpret_cast<const char*>(e), sizeof e);
  }
  auto ti = time_index::open(fs::posix_file_system(), d / "bad.timeindex", 0, 4096).value();
  EXPECT_FALSE(ti->load());
}

}  // namespace
}  // namespace strata::storage
