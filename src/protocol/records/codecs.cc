#include "protocol/records/codecs.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>
#include <memory>

namespace strata::records {
namespace {

constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeaderSize = 16;  // magic + i32 version + i32 compatible version
constexpr int32_t kXerialVersion = 1;

// Snappy emits at most 64 output bytes per 3 input bytes (a 2-byte-offset copy);
// a claimed length beyond this bound cannot be honest.
constexpr size_t kSnappyMaxRatio = 32;

// Output of one decompress call: grows `v` as the decoder asks for room, never past
// limit + 1 bytes. Producing that extra byte is how "more than limit" is detected
// without asking the decoder whether it has more to give.
class output_buffer {
 public:
  output_buffer(std::vector<uint8_t>& v, size_t limit, size_t hint)
      : v_(v), base_(v.size()), limit_(limit),
        cap_(limit < std::numeric_limits<size_t>::max() ? limit + 1 : limit),
        hint_(std::max<size_t>(hint, 4096)) {}

  uint8_t* next() { return v_.data() + base_ + used_; }
  size_t avail() const { return v_.size() - base_ - used_; }
  void produced(size_t n) { used_ += n; }
  size_t used() const { return used_; }

  // Makes avail() > 0 if the cap allows.
  bool grow() {
    size_t cur = v_.size() - base_;
    if (cur >= cap_) return false;
    size_t want = cur == 0 ? hint_ : (cur > cap_ / 2 ? cap_ : cur * 2);
    v_.resize(base_ + std::min(want, cap_));
    return true;
  }
  // Makes room for exactly n more bytes; the caller checked the limit.
  uint8_t* reserve_exact(size_t n) {
    if (avail() < n) v_.resize(base_ + used_ + n);
    return next();
  }

  errc finish() {
    if (used_ > limit_) return fail(errc::decompressed_too_large);
    v_.resize(base_ + used_);
    return errc::ok;
  }
  errc fail(errc e) {
    v_.resize(base_);
    return e;
  }

 private:
  std::vector<uint8_t>& v_;
  size_t base_;
  size_t limit_;
  size_t cap_;
  size_t hint_;
  size_t used_ = 0;
};

size_t initial_hint(size_t in_size) {
  return in_size > (std::numeric_limits<size_t>::max() / 4) ? in_size : in_size * 4;
}

// ---- gzip -------------------------------------------------------------------------

errc gzip_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out, int level) {
  if (in.size() > UINT_MAX) return errc::compression_failed;
  z_stream zs{};
  if (level == compress_options::kDefaultLevel) level = Z_DEFAULT_COMPRESSION;
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return errc::compression_failed;
  const size_t base = out.size();
  out.resize(base + deflateBound(&zs, uLong(in.size())));
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = uInt(in.size());
  zs.next_out = out.data() + base;
  zs.avail_out = uInt(out.size() - base);
  int rc = deflate(&zs, Z_FINISH);
  size_t written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    out.resize(base);
    return errc::compression_failed;
  }
  out.resize(base + written);
  return errc::ok;
}

errc gzip_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t limit) {
  if (in.size() > UINT_MAX) return errc::decompression_failed;
  output_buffer ob(out, limit, initial_hint(in.size()));
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return ob.fail(errc::decompression_failed);
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = uInt(in.size());
  for (;;) {
    if (ob.avail() == 0 && !ob.grow()) break;  // cap reached: finish() reports it
    const uInt room = uInt(std::min<size_t>(ob.avail(), UINT_MAX));
    zs.next_out = ob.next();
    zs.avail_out = room;
    int rc = inflate(&zs, Z_NO_FLUSH);
    ob.produced(room - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows (Java's GZIPInputStream reads them too).
      if (inflateReset(&zs) != Z_OK) return ob.fail(errc::decompression_failed);
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return ob.fail(errc::decompression_failed);
    // Room left but no input to fill it: the stream is cut short.
    if (zs.avail_out != 0 && zs.avail_in == 0) return ob.fail(errc::decompression_failed);
  }
  return ob.finish();
}

// ---- snappy -----------------------------------------------------------------------

errc snappy_raw_compress_append(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  const size_t base = out.size();
  out.resize(base + snappy::MaxCompressedLength(in.size()));
  size_t n = 0;
  snappy::RawCompress(reinterpret_cast<const char*>(in.data()), in.size(),
                      reinterpret_cast<char*>(out.data() + base), &n);
  out.resize(base + n);
  return errc::ok;
}

errc snappy_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out,
                     const compress_options& opts) {
  if (opts.snappy == snappy_framing::raw) return snappy_raw_compress_append(in, out);
  const size_t block = opts.xerial_block_size == 0 ? 32 * 1024 : opts.xerial_block_size;
  out.insert(out.end(), std::begin(kXerialMagic), std::end(kXerialMagic));
  for (int i = 0; i < 2; ++i) {  // version, then minimum compatible version
    uint8_t v[4];
    store_be32(v, uint32_t(kXerialVersion));
    out.insert(out.end(), v, v + 4);
  }
  for (size_t pos = 0; pos < in.size(); pos += block) {
    const size_t len_at = out.size();
    out.resize(len_at + 4);
    snappy_raw_compress_append(in.subspan(pos, std::min(block, in.size() - pos)), out);
    store_be32(out.data() + len_at, uint32_t(out.size() - len_at - 4));
  }
  return errc::ok;
}

// Appends one raw snappy block to ob.
errc snappy_raw_block(std::span<const uint8_t> in, output_buffer& ob, size_t limit) {
  const char* src = reinterpret_cast<const char*>(in.data());
  size_t n = 0;
  if (!snappy::GetUncompressedLength(src, in.size(), &n)) return errc::decompression_failed;
  if (n > limit - ob.used()) return errc::decompressed_too_large;
  if (n / kSnappyMaxRatio > in.size()) return errc::decompression_failed;
  if (!snappy::RawUncompress(src, in.size(), reinterpret_cast<char*>(ob.reserve_exact(n))))
    return errc::decompression_failed;
  ob.produced(n);
  return errc::ok;
}

errc snappy_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t limit) {
  output_buffer ob(out, limit, 0);
  if (!is_xerial_snappy(in)) {
    if (errc e = snappy_raw_block(in, ob, limit); e != errc::ok) return ob.fail(e);
    return ob.finish();
  }
  if (in.size() < kXerialHeaderSize) return ob.fail(errc::decompression_failed);
  size_t pos = kXerialHeaderSize;
  while (pos < in.size()) {
    if (in.size() - pos < 4) return ob.fail(errc::decompression_failed);
    const int32_t len = int32_t(load_be32(in.data() + pos));
    pos += 4;
    if (len < 0 || size_t(len) > in.size() - pos) return ob.fail(errc::decompression_failed);
    if (errc e = snappy_raw_block(in.subspan(pos, size_t(len)), ob, limit); e != errc::ok)
      return ob.fail(e);
    pos += size_t(len);
  }
  return ob.finish();
}

// ---- lz4 --------------------------------------------------------------------------

LZ4F_preferences_t lz4_prefs(int level) {
  LZ4F_preferences_t p;
  std::memset(&p, 0, sizeof p);
  p.frameInfo.blockSizeID = LZ4F_max64KB;
  p.frameInfo.blockMode = LZ4F_blockIndependent;
  p.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
  p.compressionLevel = level == compress_options::kDefaultLevel ? 0 : level;
  return p;
}

errc lz4_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out, int level) {
  const LZ4F_preferences_t prefs = lz4_prefs(level);
  const size_t base = out.size();
  out.resize(base + LZ4F_compressFrameBound(in.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data() + base, out.size() - base, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out.resize(base);
    return errc::compression_failed;
  }
  out.resize(base + n);
  return errc::ok;
}

errc lz4_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t limit) {
  output_buffer ob(out, limit, initial_hint(in.size()));
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
    return ob.fail(errc::decompression_failed);
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> guard(dctx,
                                                                   LZ4F_freeDecompressionContext);
  size_t pos = 0;
  for (;;) {
    if (ob.avail() == 0 && !ob.grow()) break;
    size_t room = ob.avail();
    size_t dst = room;
    size_t src = in.size() - pos;
    size_t hint = LZ4F_decompress(dctx, ob.next(), &dst, in.data() + pos, &src, nullptr);
    if (LZ4F_isError(hint)) return ob.fail(errc::decompression_failed);
    pos += src;
    ob.produced(dst);
    if (hint == 0) {  // end of a frame
      if (pos == in.size()) break;
      continue;       // another frame follows; the context resets itself
    }
    // Room left but the input is used up (or no progress at all): cut short.
    if (dst < room && (pos == in.size() || (src == 0 && dst == 0)))
      return ob.fail(errc::decompression_failed);
  }
  return ob.finish();
}

// ---- zstd -------------------------------------------------------------------------

errc zstd_compress(std::span<const uint8_t> in, std::vector<uint8_t>& out, int level) {
  if (level == compress_options::kDefaultLevel) level = ZSTD_CLEVEL_DEFAULT;
  const size_t base = out.size();
  out.resize(base + ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(out.data() + base, out.size() - base, in.data(), in.size(), level);
  if (ZSTD_isError(n)) {
    out.resize(base);
    return errc::compression_failed;
  }
  out.resize(base + n);
  return errc::ok;
}

int zstd_window_log_max(size_t limit) {
  const ZSTD_bounds b = ZSTD_dParam_getBounds(ZSTD_d_windowLogMax);
  const size_t window = std::max<size_t>(limit, size_t(8) << 20);
  int log = std::max(b.lowerBound, 0);
  while (log < b.upperBound && log < 62 && (size_t(1) << log) < window) ++log;
  return log;
}

errc zstd_decompress(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t limit) {
  size_t hint = initial_hint(in.size());
  unsigned long long content = ZSTD_getFrameContentSize(in.data(), in.size());
  if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != ZSTD_CONTENTSIZE_ERROR) {
    if (content > limit) return errc::decompressed_too_large;
    hint = size_t(content) + 1;  // + 1 so a lone frame ends without a second grow
  }
  output_buffer ob(out, limit, hint);
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) return ob.fail(errc::decompression_failed);
  if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax,
                                          zstd_window_log_max(limit))))
    return ob.fail(errc::decompression_failed);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  for (;;) {
    if (ob.avail() == 0 && !ob.grow()) break;
    ZSTD_outBuffer obuf{ob.next(), ob.avail(), 0};
    const size_t before = ib.pos;
    size_t rc = ZSTD_decompressStream(dctx.get(), &obuf, &ib);
    if (ZSTD_isError(rc)) return ob.fail(errc::decompression_failed);
    ob.produced(obuf.pos);
    if (rc == 0) {  // a frame is complete
      if (ib.pos == ib.size) break;
      continue;
    }
    if (obuf.pos < obuf.size && (ib.pos == ib.size || (obuf.pos == 0 && ib.pos == before)))
      return ob.fail(errc::decompression_failed);
  }
  return ob.finish();
}

}  // namespace

bool is_xerial_snappy(std::span<const uint8_t> in) {
  return in.size() >= sizeof kXerialMagic &&
         std::memcmp(in.data(), kXerialMagic, sizeof kXerialMagic) == 0;
}

errc compress(compression codec, std::span<const uint8_t> in, std::vector<uint8_t>& out,
              const compress_options& opts) {
  switch (codec) {
    case compression::none:
      out.insert(out.end(), in.begin(), in.end());
      return errc::ok;
    case compression::gzip: return gzip_compress(in, out, opts.level);
    case compression::snappy: return snappy_compress(in, out, opts);
    case compression::lz4: return lz4_compress(in, out, opts.level);
    case compression::zstd: return zstd_compress(in, out, opts.level);
  }
  return errc::unsupported_compression;
}

errc decompress(compression codec, std::span<const uint8_t> in, std::vector<uint8_t>& out,
                size_t max_output) {
  switch (codec) {
    case compression::none:
      if (in.size() > max_output) return errc::decompressed_too_large;
      out.insert(out.end(), in.begin(), in.end());
      return errc::ok;
    case compression::gzip: return gzip_decompress(in, out, max_output);
    case compression::snappy: return snappy_decompress(in, out, max_output);
    case compression::lz4: return lz4_decompress(in, out, max_output);
    case compression::zstd: return zstd_decompress(in, out, max_output);
  }
  return errc::unsupported_compression;
}

}  // namespace strata::records
