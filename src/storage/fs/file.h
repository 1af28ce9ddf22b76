#pragma once
// The file interface every storage file goes through (LevelDB's Env, reduced to what a
// log needs). Production uses posix_file_system(); tests wrap it in a
// fault_injection_file_system to fail writes with ENOSPC after N bytes, tear writes, or
// fail fsync, so crash and disk-full handling are tested without real crashes.
//
// A `file` always owns a real descriptor: the read path hands it to sendfile and the
// indexes mmap it. Faults are injected on the calls below, not on the mappings.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "storage/errc.h"

namespace strata::storage::fs {

enum class open_mode {
  read_write,         // must exist
  read_write_create,  // created if missing, never truncated
};

// An open file. Thread-safe as far as the kernel is: positional I/O only, no seek state.
// Closes its descriptor on destruction.
class file {
 public:
  virtual ~file() = default;
  file(const file&) = delete;
  file& operator=(const file&) = delete;

  virtual int fd() const = 0;
  virtual const std::string& path() const = 0;

  // Writes all n bytes at `offset`, retrying short writes. On error some prefix may have
  // been written; the caller restores consistency (usually by truncating).
  virtual std::error_code pwrite_all(const void* data, size_t n, uint64_t offset) = 0;
  // Reads up to n bytes at `offset`; fewer only at end of file.
  virtual result<size_t> pread(void* buf, size_t n, uint64_t offset) = 0;
  virtual std::error_code truncate(uint64_t size) = 0;
  // Reserves blocks for [offset, offset+len) and extends the file to cover it, so that
  // a shared mapping of that range cannot SIGBUS when the disk fills (fallocate mode 0).
  virtual std::error_code allocate(uint64_t offset, uint64_t len) = 0;
  virtual std::error_code datasync() = 0;
  virtual result<uint64_t> size() = 0;
  virtual result<int64_t> modified_time_ms() = 0;

 protected:
  file() = default;
};

struct dir_entry {
  std::string name;
  bool is_dir = false;
};

class file_system {
 public:
  virtual ~file_system() = default;

  virtual result<std::unique_ptr<file>> open(const std::string& path, open_mode mode) = 0;
  virtual std::error_code remove(const std::string& path) = 0;  // a file; ENOENT is success
  virtual std::error_code remove_all(const std::string& path) = 0;
  virtual std::error_code rename(const std::string& from, const std::string& to) = 0;
  virtual std::error_code create_dirs(const std::string& path) = 0;
  // fsync of a directory: makes creations, renames and removals in it durable.
  virtual std::error_code sync_dir(const std::string& path) = 0;
  virtual result<std::vector<dir_entry>> list_dir(const std::string& path) = 0;
  virtual bool exists(const std::string& path) = 0;
};

// The process-wide POSIX implementation.
file_system& posix_file_system();

}  // namespace strata::storage::fs
