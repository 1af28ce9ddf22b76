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
#include <atomic>
#include <memory>

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
  void set_skip_syncs(bool on) { skip_syncs_.store(on); }
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
  void count_write() { writes_.fetch_add(1); }

 private:
  file_system& base_;
  std::atomic<int64_t> budget_{-1};
  std::atomic<int> write_errno_{0};
  std::atomic<int> sync_errno_{0};
  std::atomic<int> truncate_errno_{0};
  std::atomic<bool> skip_syncs_{false};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> writes_{0};
};

}  // namespace strata::storage::fs
