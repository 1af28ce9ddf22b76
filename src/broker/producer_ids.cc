#include "broker/producer_ids.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace strata::broker {
namespace {
constexpr int64_t kBlock = 1000;
}

producer_ids::producer_ids(std::string dir) : dir_(std::move(dir)) {
  std::filesystem::create_directories(dir_);
  path_ = dir_ + "/producer-id-block";
  std::ifstream in(path_);
  int64_t end = 0;
  if (in >> end && end > 0) next_ = block_end_ = end;
}

producer_ids::~producer_ids() { clear_block_source(); }

void producer_ids::set_block_source(block_source fn) {
  std::lock_guard lk(mu_);
  source_ = std::move(fn);
  next_ = block_end_ = 0;  // ids come from claimed blocks only
  start_claim_locked();
}

void producer_ids::clear_block_source() {
  std::thread t;
  {
    std::lock_guard lk(mu_);
    source_ = {};
    t = std::move(claimer_);
  }
  if (t.joinable()) t.join();
}

void producer_ids::start_claim_locked() {
  if (!source_ || claiming_ || ready_) return;
  // A finished claimer only has to return; joining it here cannot wait for mu_.
  if (claimer_.joinable()) claimer_.join();
  claiming_ = true;
  claimer_ = std::thread([this, fn = source_] {
    auto b = fn();
    std::lock_guard lk(mu_);
    claiming_ = false;
    if (b && source_) ready_ = *b;
  });
}

int64_t producer_ids::next() {
  std::lock_guard lk(mu_);
  if (!source_) return next_from_file_locked();
  if (next_ >= block_end_ && ready_) {
    next_ = ready_->first;
    block_end_ = ready_->second + 1;
    ready_.reset();
  }
  if ((block_end_ - next_) * 10 <= kBlock) start_claim_locked();  // the next block, ahead of need
  if (next_ >= block_end_) return not_ready;
  return next_++;
}

int64_t producer_ids::next_from_file_locked() {
  if (next_ >= block_end_) {
    int64_t new_end = block_end_ + kBlock;
    std::string tmp = path_ + ".tmp";
    std::string content = std::to_string(new_end) + "\n";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
              ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
      spdlog::error("cannot persist producer id block to {}", path_);
      return storage_error;
    }
    next_ = block_end_;
    block_end_ = new_end;
  }
  return next_++;
}

}  // namespace strata::broker
