#pragma once
// Walking the record batches of a .log file. Two speeds:
//
//  - read_batch_header: one pread of the 61-byte header at a known batch position. The
//    read path and the tail checks use it; nothing past the header is read.
//  - batch_reader: sequential, buffered reads of whole batches with CRC-32C checks, for
//    recovery (Kafka's LogSegment.recover).
//
// Both check what makes a batch walkable: magic 2, a batch_length that covers the header,
// a non-negative last_offset_delta, and that the batch ends inside the valid data.
#include <cstdint>
#include <span>
#include <vector>

#include "storage/fs/file.h"

namespace strata::storage {

// What storage keeps of a batch: its header fields and where it is.
struct batch_info {
  uint64_t position = 0;
  uint32_t size = 0;  // whole batch, header included
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = -1;
  int32_t leader_epoch = -1;
};

enum class scan_status {
  ok,
  end,         // clean end: no bytes left
  incomplete,  // a header or batch runs past the end of the data (a torn write)
  corrupt,     // bad magic, size or CRC
  io_error,
};

// Fills `out` from a 61-byte header at `hdr`; false if the header is not walkable.
bool parse_batch_header(const uint8_t* hdr, uint64_t position, batch_info* out);

// Reads and checks the header of the batch at `position`; `limit` is the end of the
// valid data (the batch must end at or before it).
scan_status read_batch_header(fs::file& f, uint64_t position, uint64_t limit, batch_info* out);

// Sequential reader over [start, limit) that checks each batch's CRC.
class batch_reader {
 public:
  batch_reader(fs::file& f, uint64_t start, uint64_t limit, bool verify_crc);
  // The next batch, or why there is none. After anything but ok, position() is where
  // the valid data ends.
  scan_status next(batch_info* out);
  uint64_t position() const { return pos_; }
  // The bytes of the batch next() last returned ok, when CRCs are verified (they were
  // read to check it); empty otherwise. Valid until the next call to next().
  std::span<const uint8_t> batch_bytes() const { return last_; }

 private:
  // Makes [pos_, pos_+n) available in buf_; false at end of data (short).
  scan_status fill(size_t n);

  fs::file& f_;
  uint64_t pos_;
  uint64_t limit_;
  bool verify_crc_;
  std::vector<uint8_t> buf_;
  uint64_t buf_start_ = 0;  // file position of buf_[0]
  size_t buf_len_ = 0;
  std::span<const uint8_t> last_;
};

}  // namespace strata::storage
