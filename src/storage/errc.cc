#include "storage/errc.h"

#include <sys/resource.h>

namespace strata::storage {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "strata.storage"; }
  std::string message(int ev) const override {
    switch (errc(ev)) {
      case errc::success: return "success";
      case errc::offset_out_of_range: return "offset out of range";
      case errc::invalid_batch: return "malformed record batch in append buffer";
      case errc::batch_too_large: return "append larger than segment.bytes";
      case errc::no_space:
        return "no space left on device: the append was rejected and the log is unchanged";
      case errc::io_error: return "I/O error: the operation was rejected and the log is unchanged";
      case errc::log_offline:
        return "log is offline after an unrecoverable I/O error (KAFKA_STORAGE_ERROR)";
      case errc::log_closed: return "log is closed or its partition was deleted";
      case errc::corrupt_segment: return "corrupt segment";
      case errc::invalid_offset: return "invalid offset";
      case errc::not_found: return "not found";
      case errc::too_many_open_files: {
        struct rlimit rl{};
        std::string lim = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 ? std::to_string(rl.rlim_cur) : "?";
        return "too many open files (EMFILE: RLIMIT_NOFILE is " + lim +
               "; raise ulimit -n or lower strata.log.open.files.max)";
      }
      case errc::out_of_maps:
        return "cannot map an index (mmap ENOMEM: vm.max_map_count or memory exhausted; lower "
               "strata.log.index.maps.max)";
    }
    return "unknown storage error";
  }
};

}  // namespace

const std::error_category& storage_category() noexcept {
  static const category c;
  return c;
}

}  // namespace strata::storage
