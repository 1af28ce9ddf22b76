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

int64_t producer_ids::next() {
  std::lock_guard lk(mu_);
  if (source_ && next_ >= block_end_) {
    auto block = source_();
    if (!block) return -1;
    next_ = block->first;
    block_end_ = block->second + 1;
  }
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
      return -1;
    }
    next_ = block_end_;
    block_end_ = new_end;
  }
  return next_++;
}

}  // namespace strata::broker
