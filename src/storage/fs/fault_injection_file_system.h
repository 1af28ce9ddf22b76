#pragma once
// A file_system that forwards to another one and injects faults, for tests (LevelDB's
// fault_injection_test, reduced). All knobs are atomics and may be changed while other
// threads use the files.
//
//   write budget   every pwrite/allocate consumes bytes from a budget; a pwrite larger
//                  than what is left writes the part that fits and then fails with
//                  ENOSPC, like a disk that fills up in the middle of a write. -1 = no
//                  limit ("space returns").
//   write_errno    every pwrite fails with this errno before writing anything (0 = off).
//   sync_errno     every datasync/sync_dir fails (0 = off).
//   truncate_errno every truncate fails (0 = off).
//   skip_syncs     datasync/sync_dir succeed without syncing: for tests that simulate
//                  damage by editing files and gain nothing from waiting on the disk.
//   sync delay     every file datasync sleeps first (a slow disk; overlapping syncs).
//   sync_errno_for datasyncs of files whose path contains a string fail (one partition).
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "storage/fs/file.h"

namespace strata::storage::fs {

class fault_injection_file_system final : public file_system {
 public:
  // `base` must outlive this object.
  explicit fault_injection_file_system(file_system& base) : base_(base) {}

  void set_write_budget(int64_t bytes) { budget_.store(bytes); }
  void set_write_errno(int e) { write_errno_.store(e); }
  void set_sync_errno(int e) { sync_errno_.store(e); }
  void set_truncate_errno(int e) { truncate_errno_.store(e); }
  // Every open fails with this errno (0: none), e.g. EMFILE.
  void set_open_errno(int e) { open_errno_.store(e); }
  uint64_t opens() const { return opens_.load(); }
  void set_skip_syncs(bool on) { skip_syncs_.store(on); }
  // Every file datasync sleeps this long first (a slow disk), so tests can see syncs of
  // different files overlap.
  void set_sync_delay(std::chrono::microseconds d) { sync_delay_us_.store(d.count()); }
  // File datasyncs whose path contains `s` fail with `e` (0 or empty: none), the others
  // are unaffected: one partition's disk error among many.
  void set_sync_errno_for(std::string s, int e) {
    std::lock_guard lk(mu_);
    sync_fail_substring_ = std::move(s);
    sync_fail_errno_ = e;
  }
  int sync_errno_for(const std::string& path) const {
    std::lock_guard lk(mu_);
    if (sync_fail_errno_ == 0 || sync_fail_substring_.empty()) return 0;
    return path.find(sync_fail_substring_) != std::string::npos ? sync_fail_errno_ : 0;
  }
  // How many file datasyncs were running at once, at most.
  int peak_concurrent_syncs() const { return peak_syncs_.load(); }
  bool skip_syncs() const { return skip_syncs_.load(); }
  int64_t write_budget() const { return budget_.load(); }
  uint64_t syncs() const { return syncs_.load(); }
  uint64_t writes() const { return writes_.load(); }

  result<std::unique_ptr<file>> open(const std::string& path, open_mode mode) override;
  std::error_code remove(const std::string& path) override { return base_.remove(path); }
  std::error_code remove_all(const std::string& path) override { return base_.remove_all(path); }
  std::error_code rename(const std::string& from, const std::string& to) override {
    return base_.rename(from, to);
  }
  std::error_code create_dirs(const std::string& path) override { return base_.create_dirs(path); }
  std::error_code sync_dir(const std::string& path) override;
  result<std::vector<dir_entry>> list_dir(const std::string& path) override {
    return base_.list_dir(path);
  }
  bool exists(const std::string& path) override { return base_.exists(path); }

  // Used by the wrapped files.
  // Returns how many of n bytes may be written now (n when unlimited).
  size_t take_budget(size_t n);
  // Takes all n bytes or none.
  bool take_budget_exact(size_t n);
  int write_errno() const { return write_errno_.load(); }
  int sync_errno() const { return sync_errno_.load(); }
  int truncate_errno() const { return truncate_errno_.load(); }
  void count_sync() { syncs_.fetch_add(1); }
  // Brackets a file datasync: tracks the concurrency peak, applies the delay.
  void sync_begin();
  void sync_end() { in_sync_.fetch_sub(1); }
  void count_write() { writes_.fetch_add(1); }

 private:
  file_system& base_;
  std::atomic<int64_t> budget_{-1};
  std::atomic<int> write_errno_{0};
  std::atomic<int> sync_errno_{0};
  std::atomic<int> truncate_errno_{0};
  std::atomic<int> open_errno_{0};
  std::atomic<uint64_t> opens_{0};
  std::atomic<bool> skip_syncs_{false};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<int64_t> sync_delay_us_{0};
  std::atomic<int> in_sync_{0};
  std::atomic<int> peak_syncs_{0};
  mutable std::mutex mu_;
  std::string sync_fail_substring_;
  int sync_fail_errno_ = 0;
};

}  // namespace strata::storage::fs
