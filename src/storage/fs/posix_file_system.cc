#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "storage/fs/file.h"

namespace strata::storage::fs {
namespace {

class posix_file final : public file {
 public:
  posix_file(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~posix_file() override { ::close(fd_); }

  int fd() const override { return fd_; }
  const std::string& path() const override { return path_; }

  std::error_code pwrite_all(const void* data, size_t n, uint64_t offset) override {
    auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      ssize_t w = ::pwrite(fd_, p, n, off_t(offset));
      if (w < 0) {
        if (errno == EINTR) continue;
        return errno_to_write_error(errno);
      }
      if (w == 0) return make_error_code(errc::io_error);
      p += w;
      n -= size_t(w);
      offset += uint64_t(w);
    }
    return {};
  }

  result<size_t> pread(void* buf, size_t n, uint64_t offset) override {
    size_t done = 0;
    auto* p = static_cast<uint8_t*>(buf);
    while (done < n) {
      ssize_t r = ::pread(fd_, p + done, n - done, off_t(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return errno_to_error(errno);
      }
      if (r == 0) break;
      done += size_t(r);
    }
    return done;
  }

  std::error_code truncate(uint64_t size) override {
    while (::ftruncate(fd_, off_t(size)) != 0) {
      if (errno != EINTR) return errno_to_write_error(errno);
    }
    return {};
  }

  std::error_code allocate(uint64_t offset, uint64_t len) override {
    int rc = ::posix_fallocate(fd_, off_t(offset), off_t(len));
    if (rc == 0) return {};
    if (rc == EOPNOTSUPP || rc == EINVAL) {
      // No block reservation on this file system: extend sparsely, as Kafka does.
      struct stat st{};
      if (::fstat(fd_, &st) != 0) return make_error_code(errc::io_error);
      if (uint64_t(st.st_size) < offset + len) return truncate(offset + len);
      return {};
    }
    return errno_to_write_error(rc);
  }

  std::error_code datasync() override {
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) return errno_to_write_error(errno);
    }
    return {};
  }

  result<uint64_t> size() override {
    struct stat st{};
    if (::fstat(fd_, &st) != 0) return make_error_code(errc::io_error);
    return uint64_t(st.st_size);
  }

  result<int64_t> modified_time_ms() override {
    struct stat st{};
    if (::fstat(fd_, &st) != 0) return make_error_code(errc::io_error);
    return int64_t(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  }

 private:
  int fd_;
  std::string path_;
};

class posix_fs final : public file_system {
 public:
  result<std::unique_ptr<file>> open(const std::string& path, open_mode mode) override {
    int flags = O_RDWR | O_CLOEXEC;
    if (mode == open_mode::read_write_create) flags |= O_CREAT;
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return errno_to_error(errno);  // EMFILE names itself (errc::too_many_open_files)
    return std::unique_ptr<file>(new posix_file(fd, path));
  }

  std::error_code remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return make_error_code(errc::io_error);
    return {};
  }

  std::error_code remove_all(const std::string& path) override {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    return ec ? make_error_code(errc::io_error) : std::error_code{};
  }

  std::error_code rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return errno_to_write_error(errno);
    return {};
  }

  std::error_code create_dirs(const std::string& path) override {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    return ec ? errno_to_write_error(ec.value()) : std::error_code{};
  }

  std::error_code sync_dir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_to_write_error(errno);
    int rc = ::fsync(fd);
    int e = errno;
    ::close(fd);
    return rc == 0 ? std::error_code{} : errno_to_write_error(e);
  }

  result<std::vector<dir_entry>> list_dir(const std::string& path) override {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) {
      return errno_to_error(errno);
    }
    std::vector<dir_entry> out;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st{};
        is_dir = ::stat((path + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      }
      out.push_back({std::move(name), is_dir});
    }
    ::closedir(d);
    return out;
  }

  bool exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
};

}  // namespace

file_system& posix_file_system() {
  static posix_fs fs;
  return fs;
}

}  // namespace strata::storage::fs
