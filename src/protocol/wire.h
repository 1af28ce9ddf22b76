#pragma once
// Kafka wire primitives: a bounds-checked reader and a growable writer.
//
// The reader never trusts a length. Every read checks what is left; the first
// short or invalid read sets a sticky failure flag, after which every read
// returns a zero value. Callers check ok() once at the end (librdkafka's
// err_parse, without the goto). A claimed array count or string length larger
// than the bytes left fails at once, so a hostile size never becomes an
// allocation.
//
// The writer appends big-endian bytes to one buffer. Record sets held in files
// (Fetch responses) are not copied into it: they are recorded as file_slices at
// a position of the buffer, and the connection sends them with sendfile between
// the surrounding bytes.
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strata::protocol {

using bytes = std::vector<uint8_t>;
using bytes_view = std::span<const uint8_t>;

// A Kafka UUID (topic ids): 16 raw bytes, big-endian halves on the wire.
struct uuid {
  std::array<uint8_t, 16> data{};
  bool is_zero() const;
  std::string to_base64() const;  // Kafka's URL-safe, unpadded form
  static uuid random();
  static std::optional<uuid> from_base64(std::string_view s);
  friend bool operator==(const uuid&, const uuid&) = default;
  friend auto operator<=>(const uuid&, const uuid&) = default;
};

// A range of an open file that a response serves by sendfile. `keepalive`
// holds whatever owns the descriptor (a segment) until the bytes are sent.
struct file_slice {
  int fd = -1;
  uint64_t offset = 0;
  uint32_t length = 0;
  std::shared_ptr<const void> keepalive;

  // Same range of the same descriptor; keepalive is not compared.
  friend bool operator==(const file_slice& a, const file_slice& b) {
    return a.fd == b.fd && a.offset == b.offset && a.length == b.length;
  }
};

// The schema type "records": record batches, either bytes in memory (decoded
// requests point into the request frame; the frame must outlive the view) or
// file slices (fetch responses). is_null models the nullable form.
struct records {
  bytes_view memory;                 // valid when slices is empty
  std::vector<file_slice> slices;    // served in order after `memory`
  bytes owned;                       // optional backing store for `memory`
  bool is_null = false;

  size_t size() const;
  static records null_records() { records r; r.is_null = true; return r; }
  static records copy_of(bytes_view b) {
    records r; r.owned.assign(b.begin(), b.end()); r.memory = r.owned; return r;
  }
  records() = default;
  records(const records& o) { *this = o; }
  records& operator=(const records& o);
  records(records&& o) noexcept { *this = std::move(o); }
  records& operator=(records&& o) noexcept;

  // Equal when both are null, or hold the same bytes in memory and the same
  // file slices (generated messages compare with this).
  friend bool operator==(const records& a, const records& b);
};

class reader {
 public:
  reader() = default;
  reader(const uint8_t* data, size_t size) : p_(data), end_(data + size), begin_(data) {}
  explicit reader(bytes_view b) : reader(b.data(), b.size()) {}

  bool ok() const { return ok_; }
  void fail() { ok_ = false; p_ = end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }
  const uint8_t* current() const { return p_; }

  int8_t read_int8() { return static_cast<int8_t>(fixed<uint8_t>()); }
  int16_t read_int16() { return static_cast<int16_t>(fixed<uint16_t>()); }
  int32_t read_int32() { return static_cast<int32_t>(fixed<uint32_t>()); }
  int64_t read_int64() { return static_cast<int64_t>(fixed<uint64_t>()); }
  uint16_t read_uint16() { return fixed<uint16_t>(); }
  uint32_t read_uint32() { return fixed<uint32_t>(); }
  bool read_bool() { return fixed<uint8_t>() != 0; }
  double read_float64();
  uuid read_uuid();

  uint32_t read_uvarint();   // unsigned varint (flexible versions), at most 5 bytes
  uint64_t read_uvarlong();  // at most 10 bytes
  int32_t read_varint();     // zigzag (record fields)
  int64_t read_varlong();    // zigzag

  // Lengths: -1 means null. Lengths beyond remaining() fail the reader.
  int32_t read_string_length(bool compact);
  int32_t read_bytes_length(bool compact);
  // Array counts: -1 means null. A count larger than remaining() fails: every
  // element takes at least one byte.
  int32_t read_array_length(bool compact);

  std::string read_string(bool compact);
  std::optional<std::string> read_nullable_string(bool compact);
  bytes read_bytes(bool compact);
  std::optional<bytes> read_nullable_bytes(bool compact);
  records read_records(bool compact);
  bytes_view read_raw(size_t n);
  void skip(size_t n) { (void)read_raw(n); }

  // Reads the tagged-field count and skips every field whose tag `known`
  // does not claim. The generator emits the loop itself; this is for structs
  // with no tagged fields of their own.
  void skip_tagged_fields();

 private:
  template <typename T>
  T fixed() {
    if (remaining() < sizeof(T)) { fail(); return 0; }
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | p_[i]);
    p_ += sizeof(T);
    return v;
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  const uint8_t* begin_ = nullptr;
  bool ok_ = true;
};

class writer {
 public:
  writer() { buf_.reserve(256); }

  void write_int8(int8_t v) { buf_.push_back(static_cast<uint8_t>(v)); }
  void write_int16(int16_t v) { fixed<uint16_t>(static_cast<uint16_t>(v)); }
  void write_int32(int32_t v) { fixed<uint32_t>(static_cast<uint32_t>(v)); }
  void write_int64(int64_t v) { fixed<uint64_t>(static_cast<uint64_t>(v)); }
  void write_uint16(uint16_t v) { fixed<uint16_t>(v); }
  void write_uint32(uint32_t v) { fixed<uint32_t>(v); }
  void write_bool(bool v) { buf_.push_back(v ? 1 : 0); }
  void write_float64(double v);
  void write_uuid(const uuid& v) { write_raw(v.data.data(), v.data.size()); }

  void write_uvarint(uint32_t v);
  void write_uvarlong(uint64_t v);
  void write_varint(int32_t v);
  void write_varlong(int64_t v);

  void write_string(std::string_view s, bool compact);
  void write_nullable_string(const std::optional<std::string>& s, bool compact);
  void write_bytes(bytes_view b, bool compact);
  void write_nullable_bytes(const std::optional<bytes>& b, bool compact);
  void write_records(const records& r, bool compact);
  // -1 (null) or a count.
  void write_array_length(int32_t n, bool compact);
  void write_raw(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }

  // Overwrites 4 bytes at `pos` (frame size prefixes written after the fact).
  void patch_int32(size_t pos, int32_t v);

  size_t size() const { return buf_.size(); }
  // Total size including file slices.
  uint64_t total_size() const { return buf_.size() + slice_bytes_; }
  bytes& buffer() { return buf_; }
  const bytes& buffer() const { return buf_; }

  // A file slice sits at a byte position of buffer(): it is sent after
  // buffer()[0, at) and before buffer()[at, ...).
  struct placed_slice {
    size_t at;
    file_slice slice;
  };
  const std::vector<placed_slice>& slices() const { return slices_; }
  std::vector<placed_slice> take_slices() { slice_bytes_ = 0; return std::move(slices_); }

 private:
  template <typename T>
  void fixed(T v) {
    uint8_t b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
    buf_.insert(buf_.end(), b, b + sizeof(T));
  }

  bytes buf_;
  std::vector<placed_slice> slices_;
  uint64_t slice_bytes_ = 0;
};

// Size of an unsigned varint encoding of v (tagged-field sizes).
size_t uvarint_size(uint32_t v);

}  // namespace strata::protocol
