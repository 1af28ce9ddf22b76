#include "storage/fs/fault_injection_file_system.h"

#include <cerrno>
#include <thread>

namespace strata::storage::fs {
namespace {

class faulty_file final : public file {
 public:
  faulty_file(std::unique_ptr<file> base, fault_injection_file_system& fs)
      : base_(std::move(base)), fs_(fs) {}

  int fd() const override { return base_->fd(); }
  const std::string& path() const override { return base_->path(); }

  std::error_code pwrite_all(const void* data, size_t n, uint64_t offset) override {
    fs_.count_write();
    if (int e = fs_.write_errno()) return errno_to_write_error(e);
    size_t allowed = fs_.take_budget(n);
    if (allowed > 0) {
      if (auto ec = base_->pwrite_all(data, allowed, offset)) return ec;
    }
    if (allowed < n) return errno_to_write_error(ENOSPC);
    return {};
  }
  result<size_t> pread(void* buf, size_t n, uint64_t offset) override {
    return base_->pread(buf, n, offset);
  }
  std::error_code truncate(uint64_t size) override {
    if (int e = fs_.truncate_errno()) return errno_to_write_error(e);
    return base_->truncate(size);
  }
  std::error_code allocate(uint64_t offset, uint64_t len) override {
    if (int e = fs_.write_errno()) return errno_to_write_error(e);
    // Only the bytes that extend the file need space; an all-or-nothing reservation.
    auto cur = base_->size();
    if (!cur) return cur.error();
    uint64_t need = offset + len > cur.value() ? offset + len - cur.value() : 0;
    if (need > 0 && !fs_.take_budget_exact(need)) return errno_to_write_error(ENOSPC);
    return base_->allocate(offset, len);
  }
  std::error_code datasync() override {
    fs_.count_sync();
    if (int e = fs_.sync_errno()) return errno_to_write_error(e);
    fs_.sync_begin();
    std::error_code ec;
    if (int e = fs_.sync_errno_for(base_->path()))
      ec = errno_to_write_error(e);
    else if (!fs_.skip_syncs())
      ec = base_->datasync();
    fs_.sync_end();
    return ec;
  }
  result<uint64_t> size() override { return base_->size(); }
  result<int64_t> modified_time_ms() override { return base_->modified_time_ms(); }

 private:
  std::unique_ptr<file> base_;
  fault_injection_file_system& fs_;
};

}  // namespace

void fault_injection_file_system::sync_begin() {
  int now = in_sync_.fetch_add(1) + 1;
  int peak = peak_syncs_.load();
  while (now > peak && !peak_syncs_.compare_exchange_weak(peak, now)) {
  }
  if (int64_t us = sync_delay_us_.load()) std::this_thread::sleep_for(std::chrono::microseconds(us));
}

result<std::unique_ptr<file>> fault_injection_file_system::open(const std::string& path,
                                                                open_mode mode) {
  opens_.fetch_add(1);
  if (int e = open_errno_.load()) return errno_to_error(e);
  auto f = base_.open(path, mode);
  if (!f) return f.error();
  return std::unique_ptr<file>(new faulty_file(std::move(f).value(), *this));
}

std::error_code fault_injection_file_system::sync_dir(const std::string& path) {
  count_sync();
  if (int e = sync_errno()) return errno_to_write_error(e);
  if (skip_syncs()) return {};
  return base_.sync_dir(path);
}

size_t fault_injection_file_system::take_budget(size_t n) {
  int64_t cur = budget_.load();
  while (true) {
    if (cur < 0) return n;  // unlimited
    size_t allowed = std::min<size_t>(n, size_t(cur));
    if (budget_.compare_exchange_weak(cur, cur - int64_t(allowed))) return allowed;
  }
}

bool fault_injection_file_system::take_budget_exact(size_t n) {
  int64_t cur = budget_.load();
  while (true) {
    if (cur < 0) return true;
    if (cur < int64_t(n)) return false;
    if (budget_.compare_exchange_weak(cur, cur - int64_t(n))) return true;
  }
}

}  // namespace strata::storage::fs
