#include "utils/batch_factory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "base/crc32c.h"
#include "protocol/records/batch_header.h"

namespace strata::storage::testing {
namespace {

void put_varlong(std::vector<uint8_t>& out, int64_t v) {
  uint64_t z = (uint64_t(v) << 1) ^ uint64_t(v >> 63);
  while (z >= 0x80) {
    out.push_back(uint8_t(z | 0x80));
    z >>= 7;
  }
  out.push_back(uint8_t(z));
}

}  // namespace

std::vector<uint8_t> make_batch(const batch_spec& spec) {
  std::vector<uint8_t> recs;
  for (int i = 0; i < spec.records; ++i) {
    std::vector<uint8_t> body;
    body.push_back(0);                                 // attributes
    put_varlong(body, int64_t(i) * spec.timestamp_step);  // timestamp delta
    put_varlong(body, i);                              // offset delta
    put_varlong(body, -1);                             // null key
    put_varlong(body, int64_t(spec.value_size));
    body.insert(body.end(), spec.value_size, spec.fill);
    put_varlong(body, 0);                              // no headers
    put_varlong(recs, int64_t(body.size()));
    recs.insert(recs.end(), body.begin(), body.end());
  }
  std::vector<uint8_t> b(records::kBatchHeaderSize, 0);
  b.insert(b.end(), recs.begin(), recs.end());
  uint8_t* p = b.data();
  using namespace records;
  store_be64(p + off::base_offset, 0);
  store_be32(p + off::batch_length, uint32_t(b.size() - kLogOverhead));
  store_be32(p + off::partition_leader_epoch, uint32_t(-1));
  p[off::magic] = 2;
  store_be16(p + off::attributes, 0);
  store_be32(p + off::last_offset_delta, uint32_t(spec.records - 1));
  store_be64(p + off::base_timestamp, uint64_t(spec.base_timestamp));
  store_be64(p + off::max_timestamp,
             uint64_t(spec.base_timestamp + int64_t(spec.records - 1) * std::max<int64_t>(spec.timestamp_step, 0)));
  store_be64(p + off::producer_id, uint64_t(-1));
  store_be16(p + off::producer_epoch, uint16_t(-1));
  store_be32(p + off::base_sequence, uint32_t(-1));
  store_be32(p + off::records_count, uint32_t(spec.records));
  store_be32(p + off::crc, base::crc32c(p + kCrcStart, b.size() - kCrcStart));
  return b;
}

std::vector<uint8_t> make_batch(int records, size_t value_size, int64_t base_timestamp) {
  batch_spec s;
  s.records = records;
  s.value_size = value_size;
  s.base_timestamp = base_timestamp;
  return make_batch(s);
}

void append_to(std::vector<uint8_t>& buf, const std::vector<uint8_t>& batch) {
  buf.insert(buf.end(), batch.begin(), batch.end());
}

std::vector<seen_batch> batches_in(const read_result& r) {
  std::vector<seen_batch> out;
  for (const auto& fr : r.ranges) {
    std::vector<uint8_t> bytes(fr.size);
    ssize_t n = ::pread(fr.fd, bytes.data(), fr.size, off_t(fr.position));
    if (n != ssize_t(fr.size)) throw std::runtime_error("short pread of a file range");
    size_t pos = 0;
    while (pos < bytes.size()) {
      if (bytes.size() - pos < records::kBatchHeaderSize) throw std::runtime_error("partial batch in range");
      records::batch_header_view h(bytes.data() + pos);
      size_t total = size_t(h.total_size());
      if (total > bytes.size() - pos) throw std::runtime_error("batch runs past its range");
      bool crc_ok = h.crc() == base::crc32c(bytes.data() + pos + records::kCrcStart,
                                            total - records::kCrcStart);
      out.push_back({h.base_offset(), h.last_offset(), h.max_timestamp(),
                     h.partition_leader_epoch(), uint32_t(total), crc_ok});
      pos += total;
    }
  }
  return out;
}

std::vector<seen_batch> read_all(const log& lg, int64_t from, int32_t max_bytes) {
  std::vector<seen_batch> out;
  int64_t next = from < 0 ? lg.log_start_offset() : from;
  while (next < lg.log_end_offset()) {
    auto r = lg.read(next, max_bytes, std::numeric_limits<int64_t>::max(), true);
    if (!r) throw std::runtime_error("read failed: " + r.error().message());
    auto got = batches_in(r.value());
    if (got.empty()) break;
    for (auto& b : got) out.push_back(b);
    next = out.back().last_offset + 1;
  }
  return out;
}

temp_dir::temp_dir(bool in_memory) {
  std::string root = std::filesystem::temp_directory_path().string();
  if (in_memory && ::access("/dev/shm", W_OK) == 0) root = "/dev/shm";
  std::string base = root + "/strata-storage-XXXXXX";
  std::vector<char> buf(base.begin(), base.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

log_open_options log_options(const std::string& dir, const log_config& cfg) {
  log_open_options o;
  o.dir = dir + "/t-0";
  o.topic = "t";
  o.partition = 0;
  o.config = cfg;
  o.now_ms = 1000;
  return o;
}

int64_t file_size(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return int64_t(st.st_size);
}

std::vector<std::string> list_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace strata::storage::testing
