#pragma once
// Storage errors: an `errc` enum registered as a std::error_category, and a thin
// result<T> (a value or a std::error_code). Nothing on the append or read path throws.
// The broker maps these to Kafka error codes at its seam (STYLE 2.4).
#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace strata::storage {

enum class errc : int {
  success = 0,
  offset_out_of_range,   // offset below the log start offset or above the log end offset
  invalid_batch,         // the append buffer is not a sequence of whole v2 batches
  batch_too_large,       // an append larger than segment.bytes (Kafka: RECORD_BATCH_TOO_LARGE)
  no_space,              // ENOSPC / EDQUOT: nothing was appended, the log is unchanged
  io_error,              // any other I/O failure; the log is unchanged
  log_offline,           // an earlier I/O failure left the log unsafe to write; restart needed
  log_closed,            // the log was closed or its partition deleted
  corrupt_segment,       // recovery found damage it could not cut away
  invalid_offset,        // an offset argument violates the log's invariants
  not_found,
  too_many_open_files,   // EMFILE / ENFILE: the process (RLIMIT_NOFILE) or system file table is full
  out_of_maps,           // mmap ENOMEM: vm.max_map_count or address space exhausted
};

const std::error_category& storage_category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {int(e), storage_category()}; }

// Maps an errno from a failed open, read or write to the storage error the caller
// sees. Errors with a cause an operator can act on keep it (no_space,
// too_many_open_files, out_of_maps); the rest become io_error. The broker maps all of
// them but batch_too_large and log_closed to KAFKA_STORAGE_ERROR.
inline std::error_code errno_to_error(int e) noexcept {
  switch (e) {
    case ENOSPC:
    case EDQUOT: return make_error_code(errc::no_space);
    case EMFILE:
    case ENFILE: return make_error_code(errc::too_many_open_files);
    case ENOENT: return make_error_code(errc::not_found);
    default: return make_error_code(errc::io_error);
  }
}
inline std::error_code errno_to_write_error(int e) noexcept {
  return e == ENOENT ? make_error_code(errc::io_error) : errno_to_error(e);
}

// A value or an error, no exceptions. `value()` on an error is a bug (asserted).
template <class T>
class [[nodiscard]] result {
 public:
  result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
  result(std::error_code ec) : v_(std::in_place_index<1>, ec) {}
  result(errc e) : v_(std::in_place_index<1>, make_error_code(e)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  bool has_error() const noexcept { return v_.index() == 1; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  std::error_code error() const noexcept {
    return has_error() ? std::get<1>(v_) : std::error_code{};
  }

 private:
  std::variant<T, std::error_code> v_;
};

}  // namespace strata::storage

template <>
struct std::is_error_code_enum<strata::storage::errc> : std::true_type {};
