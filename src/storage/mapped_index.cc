#include "storage/mapped_index.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace strata::storage {
namespace {

constexpr uint64_t kReserveStep = 64 * 1024;

size_t page_size() {
  static const size_t p = size_t(::sysconf(_SC_PAGESIZE));
  return p;
}

}  // namespace

result<std::unique_ptr<mapped_index>> mapped_index::open(fs::file_system& fs,
                                                         const std::string& path,
                                                         size_t entry_size,
                                                         size_t capacity_bytes) {
  auto f = fs.open(path, fs::open_mode::read_write_create);
  if (!f) return f.error();
  auto size = f.value()->size();
  if (!size) return size.error();
  size_t capacity = std::max<size_t>(capacity_bytes, size_t(size.value()));
  capacity -= capacity % entry_size;
  if (capacity < entry_size) capacity = entry_size;
  size_t map_len = (capacity + page_size() - 1) / page_size() * page_size();
  void* p = ::mmap(nullptr, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, f.value()->fd(), 0);
  if (p == MAP_FAILED) {
    return errno == ENOMEM ? make_error_code(errc::out_of_maps) : errno_to_error(errno);
  }
  return std::unique_ptr<mapped_index>(new mapped_index(std::move(f).value(),
                                                        static_cast<uint8_t*>(p), map_len,
                                                        entry_size, capacity, size.value()));
}

mapped_index::mapped_index(std::unique_ptr<fs::file> f, uint8_t* base, size_t map_len,
                           size_t entry_size, size_t capacity, uint64_t file_bytes)
    : file_(std::move(f)),
      base_(base),
      map_len_(map_len),
      entry_size_(entry_size),
      capacity_(capacity),
      file_bytes_at_open_(file_bytes),
      allocated_(file_bytes) {}

mapped_index::~mapped_index() { ::munmap(base_, map_len_); }

bool mapped_index::is_zero_entry(size_t i) const {
  const uint8_t* p = at(i);
  for (size_t w = 0; w < entry_size_; w += 4) {
    if (load_be32_relaxed(p + w) != 0) return false;
  }
  return true;
}

std::error_code mapped_index::set_loaded_entries(size_t n) {
  uint64_t keep = uint64_t(n) * entry_size_;
  if (allocated_ > keep) {
    if (auto ec = file_->truncate(keep)) return ec;
    allocated_ = keep;
  }
  entries_.store(n, std::memory_order_release);
  return {};
}

bool mapped_index::reserve(uint64_t bytes) {
  if (bytes <= allocated_) return true;
  uint64_t target = std::min<uint64_t>((bytes + kReserveStep - 1) / kReserveStep * kReserveStep,
                                       capacity_);
  if (file_->allocate(allocated_, target - allocated_)) return false;
  allocated_ = target;
  return true;
}

bool mapped_index::append(const uint8_t* entry) {
  size_t n = entries_.load(std::memory_order_relaxed);
  if ((n + 1) * entry_size_ > capacity_) return false;
  if (!reserve(uint64_t(n + 1) * entry_size_)) return false;
  uint8_t* dst = base_ + n * entry_size_;
  for (size_t w = 0; w < entry_size_; w += 4) {
    uint32_t v;
    std::memcpy(&v, entry + w, 4);
    __atomic_store_n(reinterpret_cast<uint32_t*>(dst + w), v, __ATOMIC_RELAXED);
  }
  entries_.store(n + 1, std::memory_order_release);
  return true;
}

void mapped_index::truncate_entries(size_t n) {
  size_t cur = entries_.load(std::memory_order_relaxed);
  if (n >= cur) return;
  entries_.store(n, std::memory_order_release);
  for (size_t i = n; i < cur; ++i) {
    for (size_t w = 0; w < entry_size_; w += 4) store_be32_relaxed(base_ + i * entry_size_ + w, 0);
  }
}

std::error_code mapped_index::reset() {
  entries_.store(0, std::memory_order_release);
  if (allocated_ == 0) return {};  // a new file: skip a metadata operation per roll
  if (auto ec = file_->truncate(0)) return ec;
  allocated_ = 0;
  return {};
}

std::error_code mapped_index::trim() {
  uint64_t keep = uint64_t(entries()) * entry_size_;
  if (allocated_ == keep) return {};
  if (auto ec = file_->truncate(keep)) return ec;
  allocated_ = keep;
  return {};
}

}  // namespace strata::storage
