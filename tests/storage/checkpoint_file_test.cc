#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "storage/checkpoint_file.h"
#include "utils/batch_factory.h"

namespace strata::storage {
namespace {

using testing::temp_dir;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(checkpoint_file, offset_checkpoint_matches_kafka_text_format) {
  temp_dir d;
  offset_map m{{{"orders", 0}, 42}, {{"orders", 1}, 7}, {{"a.b-c", 12}, 0}};
  ASSERT_FALSE(write_offset_checkpoint(fs::posix_file_system(), d / "recovery-point-offset-checkpoint", m));
  EXPECT_EQ(slurp(d / "recovery-point-offset-checkpoint"), "0\n3\na.b-c 12 0\norders 0 42\norders 1 7\n");
  auto back = read_offset_checkpoint(fs::posix_file_system(), d / "recovery-point-offset-checkpoint");
  ASSERT_TRUE(back);
  EXPECT_EQ(back.value(), m);
  EXPECT_FALSE(testing::file_size(d / "recovery-point-offset-checkpoint.tmp") >= 0);
}

TEST(checkpoint_file, missing_file_reads_as_empty) {
  temp_dir d;
  auto back = read_offset_checkpoint(fs::posix_file_system(), d / "nope");
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->empty());
}

TEST(checkpoint_file, malformed_files_are_rejected) {
  temp_dir d;
  for (const char* text : {"1\n0\n", "0\n2\nt 0 1\n", "0\n1\nt x 1\n", "0\n1\nt 0\n", ""}) {
    std::ofstream(d / "cp") << text;
    EXPECT_FALSE(read_offset_checkpoint(fs::posix_file_system(), d / "cp")) << text;
  }
}

TEST(checkpoint_file, empty_checkpoint) {
  temp_dir d;
  ASSERT_FALSE(write_offset_checkpoint(fs::posix_file_system(), d / "cp", {}));
  EXPECT_EQ(slurp(d / "cp"), "0\n0\n");
}

}  // namespace
}  // namespace strata::storage
