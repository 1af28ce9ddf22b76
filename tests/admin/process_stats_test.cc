#include "admin/process_stats.h"

#include <gtest/gtest.h>

namespace strata::admin {
namespace {

TEST(process_stats, cpu_seconds_from_stat_with_parentheses_in_the_name) {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  const char* stat = "1234 (str) ata) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 9 0 5000 1000 200\n";
  auto cpu = parse_cpu_seconds(stat, 100);
  ASSERT_TRUE(cpu.has_value());
  EXPECT_DOUBLE_EQ(*cpu, 4.0);
}

TEST(process_stats, malformed_stat_is_nullopt) {
  EXPECT_FALSE(parse_cpu_seconds("", 100).has_value());
  EXPECT_FALSE(parse_cpu_seconds("1 (x) S 1 2", 100).has_value());
  EXPECT_FALSE(parse_cpu_seconds("1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 1", 100).has_value());
  EXPECT_FALSE(parse_cpu_seconds("1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 1", 0).has_value());
}

TEST(process_stats, resident_bytes_from_statm) {
  auto rss = parse_resident_bytes("5000 300 100 10 0 200 0\n", 4096);
  ASSERT_TRUE(rss.has_value());
  EXPECT_DOUBLE_EQ(*rss, 300.0 * 4096);
  EXPECT_FALSE(parse_resident_bytes("5000", 4096).has_value());
}

TEST(process_stats, reads_this_process) {
  auto s = read_process_stats();
  ASSERT_TRUE(s.cpu_seconds.has_value());
  ASSERT_TRUE(s.resident_memory_bytes.has_value());
  EXPECT_GT(*s.resident_memory_bytes, 0);
}

}  // namespace
}  // namespace strata::admin
