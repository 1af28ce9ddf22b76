#pragma once
// Test helpers: valid uncompressed v2 record batches built by hand (header, varint
// records, CRC-32C), temporary directories, and reading a log back through its file
// ranges.
#include <cstdint>
#include <string>
#include <vector>

#include "storage/log.h"

namespace strata::storage::testing {

struct batch_spec {
  int records = 1;
  size_t value_size = 10;
  int64_t base_timestamp = 1000;
  int64_t timestamp_step = 1;  // record i has base_timestamp + i * step
  uint8_t fill = 'x';
};

// One batch with base offset 0 and partition leader epoch -1.
std::vector<uint8_t> make_batch(const batch_spec& spec);
std::vector<uint8_t> make_batch(int records, size_t value_size, int64_t base_timestamp);
void append_to(std::vector<uint8_t>& buf, const std::vector<uint8_t>& batch);

// What a reader sees of a stored batch.
struct seen_batch {
  int64_t base_offset;
  int64_t last_offset;
  int64_t max_timestamp;
  int32_t leader_epoch;
  uint32_t size;
  bool crc_ok;
};

// Reads the bytes of the ranges with pread and splits them into batches.
std::vector<seen_batch> batches_in(const read_result& r);
// Every batch from `from` to the LEO, through read() with a small budget.
std::vector<seen_batch> read_all(const log& lg, int64_t from = -1, int32_t max_bytes = 100000);

// A fresh directory, removed on destruction. In the system temp directory, or with
// in_memory under /dev/shm when there is one: the crash tests edit files by the
// thousand and would otherwise wait on a shared disk's metadata journal.
class temp_dir {
 public:
  explicit temp_dir(bool in_memory = false);
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Options for a log in `dir`/t-0.
log_open_options log_options(const std::string& dir, const log_config& cfg = {});

// Bytes of a file; -1 if missing.
int64_t file_size(const std::string& path);
std::vector<std::string> list_files(const std::string& dir);

}  // namespace strata::storage::testing
