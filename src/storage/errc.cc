#include "storage/errc.h"

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
