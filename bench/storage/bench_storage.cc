// bench_storage: figures for the storage engine (docs/PERFORMANCE.md, section Storage).
//
//   append   16 KiB batches through log::append, against plain write() of the same bytes
//            to a file in the same directory, in the same run (alternating rounds)
//   read     a whole pass over the log through log::read's file ranges, sent with
//            sendfile into a socket drained by another thread
//   recover  reopening the written partition after a crash (recovery point 0: every
//            batch read and CRC-checked, indexes rebuilt)
//   open     opening N partitions with log_manager after a clean shutdown
//
// Not a test: prints a table. Files are removed afterwards.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "base/crc32c.h"
#include "protocol/records/batch_header.h"
#include "storage/log.h"
#include "storage/log_manager.h"

namespace {

using namespace strata;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// An uncompressed v2 batch of `total` bytes: records of ~1 KiB, valid CRC.
std::vector<uint8_t> make_batch(size_t total) {
  std::vector<uint8_t> b(records::kBatchHeaderSize, 0);
  int count = 0;
  auto varint = [&](int64_t v) {
    uint64_t z = (uint64_t(v) << 1) ^ uint64_t(v >> 63);
    while (z >= 0x80) {
      b.push_back(uint8_t(z | 0x80));
      z >>= 7;
    }
    b.push_back(uint8_t(z));
  };
  while (true) {
    size_t left = total - b.size();
    if (left < 32) break;
    size_t value = std::min<size_t>(1024, left - 20);
    size_t start = b.size();
    b.push_back(0);    // record length, patched below: the body is < 2^13 bytes, so
    b.push_back(0);    // it always takes two varint bytes
    size_t body = b.size();
    b.push_back(0);    // attributes
    varint(count);     // timestamp delta
    varint(count);     // offset delta
    varint(-1);        // null key
    varint(int64_t(value));
    b.insert(b.end(), value, uint8_t('a' + count % 26));
    varint(0);         // headers
    uint64_t z = uint64_t(b.size() - body) << 1;
    b[start] = uint8_t(z | 0x80);
    b[start + 1] = uint8_t(z >> 7);
    count++;
  }
  uint8_t* p = b.data();
  using namespace records;
  store_be32(p + off::batch_length, uint32_t(b.size() - kLogOverhead));
  store_be32(p + off::partition_leader_epoch, uint32_t(-1));
  p[off::magic] = 2;
  store_be32(p + off::last_offset_delta, uint32_t(count - 1));
  store_be64(p + off::base_timestamp, 1700000000000ull);
  store_be64(p + off::max_timestamp, 1700000000000ull + uint64_t(count - 1));
  store_be64(p + off::producer_id, uint64_t(-1));
  store_be16(p + off::producer_epoch, uint16_t(-1));
  store_be32(p + off::base_sequence, uint32_t(-1));
  store_be32(p + off::records_count, uint32_t(count));
  store_be32(p + off::crc, base::crc32c(p + kCrcStart, b.size() - kCrcStart));
  return b;
}

double plain_write(const std::string& path, const std::vector<uint8_t>& batch, uint64_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("open " + path);
  auto t0 = clock_type::now();
  for (uint64_t done = 0; done < bytes; done += batch.size()) {
    if (::write(fd, batch.data(), batch.size()) != ssize_t(batch.size())) {
      throw std::runtime_error("write failed");
    }
  }
  double s = seconds_since(t0);
  ::close(fd);
  return s;
}

double log_append(storage::log& lg, std::vector<uint8_t>& batch, uint64_t bytes) {
  auto t0 = clock_type::now();
  for (uint64_t done = 0; done < bytes; done += batch.size()) {
    auto r = lg.append(batch, 0, 1700000000000);
    if (!r) throw std::runtime_error("append failed: " + r.error().message());
  }
  return seconds_since(t0);
}

void row(const char* what, const std::string& value, const std::string& note = "") {
  std::printf("| %-44s | %18s | %s\n", what, value.c_str(), note.c_str());
}

std::string fmt_rate(uint64_t bytes, double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f MiB/s", double(bytes) / s / (1 << 20));
  return buf;
}
std::string fmt_ms(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f ms", s * 1000);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Storage engine benchmark: append vs write(), reads, recovery, open"};
  std::string dir = std::filesystem::temp_directory_path().string() + "/strata-bench-storage";
  uint64_t mib = 1024;
  size_t batch_bytes = 16384;
  int rounds = 3;
  int partitions = 1000;
  int32_t fetch_bytes = 1 << 20;
  app.add_option("--dir", dir, "Scratch directory (removed afterwards)");
  app.add_option("--mib", mib, "MiB written per append/write round, and the size of the recovered partition");
  app.add_option("--batch-bytes", batch_bytes, "Size of each record batch");
  app.add_option("--rounds", rounds, "Alternating rounds of write() and append; the best of each is reported");
  app.add_option("--partitions", partitions, "Partitions for the open-after-clean-shutdown figure");
  app.add_option("--fetch-bytes", fetch_bytes, "max_bytes of each read() in the read pass");
  CLI11_PARSE(app, argc, argv);

  const uint64_t bytes = mib << 20;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto batch = make_batch(batch_bytes);
  std::printf("storage bench: %s, %llu MiB per round, %zu-byte batches, %d rounds, crc32c %s\n\n",
              dir.c_str(), static_cast<unsigned long long>(mib), batch.size(), rounds,
              base::crc32c_hardware_available() ? "sse4.2" : "portable");
  std::printf("| %-44s | %18s | %s\n", "figure", "value", "notes");
  std::printf("|%s|%s|%s\n", std::string(46, '-').c_str(), std::string(20, '-').c_str(), "------");

  // --- append vs write() ---
  double best_write = 1e9, best_append = 1e9;
  for (int r = 0; r < rounds; ++r) {
    best_write = std::min(best_write, plain_write(dir + "/plain.bin", batch, bytes));
    std::filesystem::remove(dir + "/plain.bin");
    storage::log_manager_options mo;
    mo.log_dirs = {dir + "/append"};
    storage::log_manager m(mo);
    if (m.open_all().error) return 1;
    m.start();
    auto lg = m.get_or_create("bench", 0, {}).value();
    best_append = std::min(best_append, log_append(*lg, batch, bytes));
    (void)m.shutdown();
    if (r + 1 < rounds) std::filesystem::remove_all(dir + "/append");
  }
  row("plain write() of 16 KiB buffers", fmt_rate(bytes, best_write));
  row("log::append of 16 KiB batches", fmt_rate(bytes, best_append));
  char ratio[64];
  std::snprintf(ratio, sizeof ratio, "%.1f %%", 100.0 * best_write / best_append);
  row("append / write() throughput", ratio, "target >= 90 %");
  char per[64];
  std::snprintf(per, sizeof per, "%.2f us", best_append / double(bytes / batch.size()) * 1e6);
  row("time per append", per);

  // --- read through file ranges ---
  {
    storage::log_open_options o;
    o.dir = dir + "/append/bench-0";
    o.topic = "bench";
    o.clean_shutdown = true;
    auto lg = storage::log::open(o).value();
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
    int sz = 4 << 20;
    ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    std::thread drain([fd = sv[1]] {
      std::vector<char> buf(1 << 20);
      while (::read(fd, buf.data(), buf.size()) > 0) {
      }
    });
    uint64_t sent = 0, calls = 0;
    auto t0 = clock_type::now();
    int64_t next = 0;
    double lookup_s = 0;
    while (next < lg->log_end_offset()) {
      auto tl = clock_type::now();
      auto r = lg->read(next, fetch_bytes, lg->high_watermark(), true);
      lookup_s += seconds_since(tl);
      if (!r || r->ranges.empty()) return 1;
      calls++;
      for (const auto& fr : r->ranges) {
        off_t pos = off_t(fr.position);
        size_t left = fr.size;
        while (left > 0) {
          ssize_t n = ::sendfile(sv[0], fr.fd, &pos, left);
          if (n <= 0) return 1;
          left -= size_t(n);
        }
        sent += fr.size;
      }
      // The next fetch starts after the last returned batch.
      const auto& last = r->ranges.back();
      uint8_t hdr[records::kBatchHeaderSize];
      uint64_t p = last.position;
      while (p < last.position + last.size) {
        if (::pread(last.fd, hdr, sizeof hdr, off_t(p)) != ssize_t(sizeof hdr)) return 1;
        records::batch_header_view h(hdr);
        next = h.last_offset() + 1;
        p += uint64_t(h.total_size());
      }
    }
    double s = seconds_since(t0);
    ::shutdown(sv[0], SHUT_WR);
    drain.join();
    ::close(sv[0]);
    ::close(sv[1]);
    char note[96];
    std::snprintf(note, sizeof note, "%llu reads of <= %d bytes, sendfile to a socket",
                  static_cast<unsigned long long>(calls), fetch_bytes);
    row("read pass through file ranges", fmt_rate(sent, s), note);
    char us[64];
    std::snprintf(us, sizeof us, "%.1f us", lookup_s / double(calls) * 1e6);
    row("log::read call (lookup, no data)", us, "index lookup + header preads");
  }

  // --- recovery after a crash ---
  {
    storage::log_open_options o;
    o.dir = dir + "/append/bench-0";
    o.topic = "bench";
    o.clean_shutdown = false;
    o.recovery_point = 0;
    auto t0 = clock_type::now();
    auto lg = storage::log::open(o);
    double s = seconds_since(t0);
    if (!lg) return 1;
    char note[96];
    std::snprintf(note, sizeof note, "%llu MiB, page cache warm, every CRC checked",
                  static_cast<unsigned long long>(lg.value()->size_bytes() >> 20));
    row("recover a partition after a crash", fmt_ms(s), note);
    row("recovery rate", fmt_rate(lg.value()->size_bytes(), s));
  }
  std::filesystem::remove_all(dir + "/append");

  // --- open N partitions after a clean shutdown ---
  {
    storage::log_manager_options mo;
    mo.log_dirs = {dir + "/many"};
    {
      storage::log_manager m(mo);
      if (m.open_all().error) return 1;
      auto small = make_batch(1024);
      for (int p = 0; p < partitions; ++p) {
        auto lg = m.get_or_create("topic" + std::to_string(p % 10), p / 10, {}).value();
        for (int i = 0; i < 10; ++i) (void)lg->append(small, 0, 1);
      }
      if (m.shutdown()) return 1;
    }
    storage::log_manager m(mo);
    auto t0 = clock_type::now();
    auto r = m.open_all();
    double s = seconds_since(t0);
    if (r.error || r.logs != size_t(partitions)) return 1;
    char what[96];
    std::snprintf(what, sizeof what, "open %d partitions after clean shutdown", partitions);
    row(what, fmt_ms(s), "log_manager::open_all, 2 threads");
    (void)m.shutdown();
    storage::log_manager m2(mo);
    // Unclean: drop the marker and every partition is scanned.
    std::filesystem::remove(dir + "/many/.kafka_cleanshutdown");
    t0 = clock_type::now();
    r = m2.open_all();
    s = seconds_since(t0);
    std::snprintf(what, sizeof what, "open %d partitions after a crash", partitions);
    row(what, fmt_ms(s), "every active segment scanned");
    (void)m2.shutdown();
  }
  std::filesystem::remove_all(dir);
  return 0;
}
