#include "protocol/records/codecs.h"

#include <gtest/gtest.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>

#include "utils/test_util.h"

namespace strata::records {
namespace {

using test::bytes;

constexpr size_t kUnlimited = size_t(1) << 40;

class codec_roundtrip : public ::testing::TestWithParam<compression> {};

TEST_P(codec_roundtrip, sizes_and_data_kinds) {
  auto rng = test::seeded_rng();
  for (size_t n : {size_t(0), size_t(1), size_t(100), size_t(32767), size_t(32768),
                   size_t(65535), size_t(65536), size_t(65537), size_t(1) << 20,
                   (size_t(3) << 20) + 7}) {
    for (int kind = 0; kind < 3; ++kind) {
      bytes in = kind == 0 ? test::text_bytes(rng, n)
                 : kind == 1 ? test::random_bytes(rng, n)
                             : bytes(n, 0);
      bytes packed;
      ASSERT_EQ(compress(GetParam(), in, packed), errc::ok);
      bytes out = {1, 2, 3};  // decompress appends
      ASSERT_EQ(decompress(GetParam(), packed, out, kUnlimited), errc::ok) << "n=" << n;
      ASSERT_EQ(out.size(), n + 3);
      EXPECT_TRUE(std::equal(in.begin(), in.end(), out.begin() + 3)) << "n=" << n;
      EXPECT_EQ(out[0], 1);
    }
  }
}

TEST_P(codec_roundtrip, output_limit_is_exact) {
  auto rng = test::seeded_rng();
  for (size_t n : {size_t(1), size_t(5000), size_t(200000)}) {
    bytes in = test::text_bytes(rng, n);
    bytes packed;
    ASSERT_EQ(compress(GetParam(), in, packed), errc::ok);
    bytes out = {9};
    EXPECT_EQ(decompress(GetParam(), packed, out, n), errc::ok);
    EXPECT_EQ(out.size(), n + 1);
    out = {9};
    EXPECT_EQ(decompress(GetParam(), packed, out, n - 1), errc::decompressed_too_large);
    EXPECT_EQ(out, bytes{9}) << "a failed call leaves the output as it was";
  }
}

TEST_P(codec_roundtrip, bomb_stops_at_limit) {
  bytes zeros(16 << 20, 0);
  bytes packed;
  ASSERT_EQ(compress(GetParam(), zeros, packed), errc::ok);
  bytes out;
  EXPECT_EQ(decompress(GetParam(), packed, out, 1 << 20), errc::decompressed_too_large);
  EXPECT_TRUE(out.empty());
  EXPECT_LE(out.capacity(), size_t(4) << 20) << "grew far past the limit";
}

class codec_corrupt : public ::testing::TestWithParam<compression> {};

TEST_P(codec_corrupt, truncated_input_fails_cleanly) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 100000);
  bytes packed;
  ASSERT_EQ(compress(GetParam(), in, packed), errc::ok);
  for (size_t cut = 0; cut < packed.size(); cut += 1 + cut / 8) {
    bytes out;
    errc e = decompress(GetParam(), std::span(packed).first(cut), out, kUnlimited);
    // A xerial stream cut exactly between chunks is still a valid (shorter) stream.
    if (e == errc::ok) {
      EXPECT_EQ(GetParam(), compression::snappy);
      EXPECT_LT(out.size(), in.size());
      EXPECT_TRUE(std::equal(out.begin(), out.end(), in.begin()));
      continue;
    }
    EXPECT_EQ(e, errc::decompression_failed) << "cut=" << cut;
    EXPECT_TRUE(out.empty());
  }
}

TEST_P(codec_corrupt, garbage_fails_cleanly) {
  auto rng = test::seeded_rng();
  for (int i = 0; i < 200; ++i) {
    bytes junk = test::random_bytes(rng, rng() % 2000);
    bytes out;
    errc e = decompress(GetParam(), junk, out, 1 << 20);
    EXPECT_TRUE(e == errc::decompression_failed || e == errc::decompressed_too_large ||
                e == errc::ok);
    if (e != errc::ok) {
      EXPECT_TRUE(out.empty());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(all, codec_roundtrip, ::testing::ValuesIn(test::kAllCodecs),
                         [](const auto& info) { return test::codec_name(info.param); });
INSTANTIATE_TEST_SUITE_P(real, codec_corrupt, ::testing::ValuesIn(test::kRealCodecs),
                         [](const auto& info) { return test::codec_name(info.param); });

TEST(codecs, empty_input_is_an_error_for_real_codecs) {
  for (compression c : {compression::gzip, compression::snappy, compression::lz4,
                        compression::zstd}) {
    bytes out;
    EXPECT_EQ(decompress(c, {}, out, kUnlimited), errc::decompression_failed)
        << test::codec_name(c);
  }
}

TEST(codecs, unknown_codec) {
  bytes out;
  EXPECT_EQ(decompress(compression(5), bytes{1, 2}, out, 100), errc::unsupported_compression);
  EXPECT_EQ(compress(compression(7), bytes{1, 2}, out), errc::unsupported_compression);
}

// ---- cross-checks: data compressed by each library's plain API, decoded by ours ----

TEST(codecs_cross, gzip_from_zlib_deflate_window_bits_31) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 300000);
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY), Z_OK);
  bytes packed(deflateBound(&zs, in.size()));
  zs.next_in = in.data();
  zs.avail_in = uInt(in.size());
  zs.next_out = packed.data();
  zs.avail_out = uInt(packed.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  packed.resize(zs.total_out);
  deflateEnd(&zs);
  ASSERT_EQ(packed[0], 0x1f);  // gzip magic
  ASSERT_EQ(packed[1], 0x8b);

  bytes out;
  ASSERT_EQ(decompress(compression::gzip, packed, out, kUnlimited), errc::ok);
  EXPECT_EQ(out, in);

  // Two members back to back decode to the concatenation (as GZIPInputStream does).
  bytes twice = packed;
  twice.insert(twice.end(), packed.begin(), packed.end());
  out.clear();
  ASSERT_EQ(decompress(compression::gzip, twice, out, kUnlimited), errc::ok);
  ASSERT_EQ(out.size(), 2 * in.size());
  EXPECT_TRUE(std::equal(in.begin(), in.end(), out.begin() + in.size()));

  // A raw zlib (RFC 1950) stream is not gzip.
  bytes zlib_stream(compressBound(in.size()));
  uLongf zn = zlib_stream.size();
  ASSERT_EQ(compress2(zlib_stream.data(), &zn, in.data(), in.size(), 6), Z_OK);
  zlib_stream.resize(zn);
  out.clear();
  EXPECT_EQ(decompress(compression::gzip, zlib_stream, out, kUnlimited),
            errc::decompression_failed);
}

TEST(codecs_cross, gzip_ours_decodes_with_zlib) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 100000);
  bytes packed;
  ASSERT_EQ(compress(compression::gzip, in, packed), errc::ok);
  z_stream zs{};
  ASSERT_EQ(inflateInit2(&zs, 31), Z_OK);
  bytes out(in.size() + 10);
  zs.next_in = packed.data();
  zs.avail_in = uInt(packed.size());
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  EXPECT_EQ(out, in);
}

TEST(codecs_cross, snappy_raw_from_cpp_and_c_api) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 200000);
  std::string packed;
  snappy::Compress(reinterpret_cast<const char*>(in.data()), in.size(), &packed);
  bytes out;
  ASSERT_EQ(decompress(compression::snappy, test::to_bytes(packed), out, kUnlimited), errc::ok);
  EXPECT_EQ(out, in);

  size_t len = snappy_max_compressed_length(in.size());
  bytes c_packed(len);
  ASSERT_EQ(snappy_compress(reinterpret_cast<const char*>(in.data()), in.size(),
                            reinterpret_cast<char*>(c_packed.data()), &len),
            SNAPPY_OK);
  c_packed.resize(len);
  out.clear();
  ASSERT_EQ(decompress(compression::snappy, c_packed, out, kUnlimited), errc::ok);
  EXPECT_EQ(out, in);
}

// What the Java client's SnappyOutputStream writes, built by hand.
bytes xerial_frame(const bytes& in, size_t chunk) {
  bytes f = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  for (size_t pos = 0; pos < in.size(); pos += chunk) {
    size_t n = std::min(chunk, in.size() - pos);
    std::string block;
    snappy::Compress(reinterpret_cast<const char*>(in.data() + pos), n, &block);
    uint8_t len[4];
    store_be32(len, uint32_t(block.size()));
    f.insert(f.end(), len, len + 4);
    f.insert(f.end(), block.begin(), block.end());
  }
  return f;
}

TEST(codecs_cross, snappy_xerial_hand_built) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 100000);
  bytes frame = xerial_frame(in, 32 * 1024);
  EXPECT_TRUE(is_xerial_snappy(frame));
  bytes out;
  ASSERT_EQ(decompress(compression::snappy, frame, out, kUnlimited), errc::ok);
  EXPECT_EQ(out, in);

  // Limit counts across chunks.
  out.clear();
  EXPECT_EQ(decompress(compression::snappy, frame, out, in.size() - 1),
            errc::decompressed_too_large);

  // Header only: an empty stream.
  bytes header_only(frame.begin(), frame.begin() + 16);
  out.clear();
  EXPECT_EQ(decompress(compression::snappy, header_only, out, kUnlimited), errc::ok);
  EXPECT_TRUE(out.empty());

  // A chunk length past the end, or negative.
  bytes bad = frame;
  store_be32(bad.data() + 16, 0x7fffffff);
  out.clear();
  EXPECT_EQ(decompress(compression::snappy, bad, out, kUnlimited), errc::decompression_failed);
  store_be32(bad.data() + 16, 0x80000000u);
  EXPECT_EQ(decompress(compression::snappy, bad, out, kUnlimited), errc::decompression_failed);
  // A partial length prefix at the end.
  bad = frame;
  bad.push_back(0);
  EXPECT_EQ(decompress(compression::snappy, bad, out, kUnlimited), errc::decompression_failed);
}

TEST(codecs_cross, snappy_ours_is_xerial_by_default_and_raw_on_request) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 100000);
  bytes x;
  ASSERT_EQ(compress(compression::snappy, in, x), errc::ok);
  ASSERT_TRUE(is_xerial_snappy(x));
  // Walk the chunks by hand and decode each with snappy itself.
  bytes out;
  size_t pos = 16;
  int chunks = 0;
  while (pos < x.size()) {
    uint32_t len = load_be32(x.data() + pos);
    pos += 4;
    std::string block;
    ASSERT_TRUE(snappy::Uncompress(reinterpret_cast<const char*>(x.data() + pos), len, &block));
    out.insert(out.end(), block.begin(), block.end());
    pos += len;
    ++chunks;
  }
  EXPECT_EQ(chunks, 4);  // 32 KiB blocks
  EXPECT_EQ(out, in);

  bytes raw;
  compress_options o;
  o.snappy = snappy_framing::raw;
  ASSERT_EQ(compress(compression::snappy, in, raw, o), errc::ok);
  EXPECT_FALSE(is_xerial_snappy(raw));
  std::string plain;
  ASSERT_TRUE(snappy::Uncompress(reinterpret_cast<const char*>(raw.data()), raw.size(), &plain));
  EXPECT_EQ(test::to_bytes(plain), in);
}

TEST(codecs_cross, snappy_claimed_length_is_not_trusted) {
  // Varint claiming 1 GiB, then nothing.
  bytes claim = {0x80, 0x80, 0x80, 0x80, 0x04};
  bytes out;
  EXPECT_EQ(decompress(compression::snappy, claim, out, kUnlimited), errc::decompression_failed);
  EXPECT_EQ(decompress(compression::snappy, claim, out, 1 << 20), errc::decompressed_too_large);
  EXPECT_LT(out.capacity(), size_t(1) << 20);
}

bytes lz4_frame(const bytes& in, const LZ4F_preferences_t* prefs) {
  bytes f(LZ4F_compressFrameBound(in.size(), prefs));
  size_t n = LZ4F_compressFrame(f.data(), f.size(), in.data(), in.size(), prefs);
  EXPECT_FALSE(LZ4F_isError(n));
  f.resize(n);
  return f;
}

TEST(codecs_cross, lz4_frames_from_lz4f) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 500000);
  bytes out;
  ASSERT_EQ(decompress(compression::lz4, lz4_frame(in, nullptr), out, kUnlimited), errc::ok);
  EXPECT_EQ(out, in);

  // Content size, checksums, linked blocks, 4 MiB blocks: all legal frames.
  LZ4F_preferences_t p;
  std::memset(&p, 0, sizeof p);
  p.frameInfo.contentSize = in.size();
  p.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  p.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
  p.frameInfo.blockMode = LZ4F_blockLinked;
  p.frameInfo.blockSizeID = LZ4F_max4MB;
  p.compressionLevel = 9;
  bytes f = lz4_frame(in, &p);
  out.clear();
  ASSERT_EQ(decompress(compression::lz4, f, out, kUnlimited), errc::ok);
  EXPECT_EQ(out, in);

  // Flip a byte in the middle: the content checksum (or the block) catches it.
  f[f.size() / 2] ^= 0x55;
  out.clear();
  EXPECT_EQ(decompress(compression::lz4, f, out, kUnlimited), errc::decompression_failed);

  // Two frames back to back.
  bytes two = lz4_frame(in, nullptr);
  bytes second = lz4_frame(in, nullptr);
  two.insert(two.end(), second.begin(), second.end());
  out.clear();
  ASSERT_EQ(decompress(compression::lz4, two, out, kUnlimited), errc::ok);
  EXPECT_EQ(out.size(), 2 * in.size());
}

TEST(codecs_cross, lz4_ours_decodes_with_lz4f) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 300000);
  bytes packed;
  ASSERT_EQ(compress(compression::lz4, in, packed), errc::ok);
  LZ4F_dctx* d = nullptr;
  ASSERT_FALSE(LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)));
  LZ4F_frameInfo_t info;
  size_t consumed = packed.size();
  ASSERT_FALSE(LZ4F_isError(LZ4F_getFrameInfo(d, &info, packed.data(), &consumed)));
  EXPECT_EQ(info.blockSizeID, LZ4F_max64KB);  // what Kafka's Java client uses
  EXPECT_EQ(info.blockMode, LZ4F_blockIndependent);
  bytes out(in.size());
  size_t dst = out.size(), src = packed.size() - consumed;
  EXPECT_EQ(LZ4F_decompress(d, out.data(), &dst, packed.data() + consumed, &src, nullptr), 0u);
  LZ4F_freeDecompressionContext(d);
  EXPECT_EQ(dst, in.size());
  EXPECT_EQ(out, in);
}

// Streaming compression as the Java client's ZstdOutputStream does it: the frame is
// started before the input is known, so it has no content size.
bytes zstd_stream_without_size(const bytes& in, int window_log = 0) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  if (window_log) ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log);
  bytes s(ZSTD_compressBound(in.size()) + 1024);
  ZSTD_outBuffer ob{s.data(), s.size(), 0};
  for (size_t pos = 0; pos < in.size(); pos += 10000) {
    ZSTD_inBuffer ib{in.data() + pos, std::min<size_t>(10000, in.size() - pos), 0};
    while (ib.pos < ib.size) EXPECT_FALSE(ZSTD_isError(ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_continue)));
  }
  ZSTD_inBuffer none{nullptr, 0, 0};
  EXPECT_EQ(ZSTD_compressStream2(c, &ob, &none, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(c);
  s.resize(ob.pos);
  return s;
}

TEST(codecs_cross, zstd_one_shot_and_streaming_without_content_size) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 400000);
  bytes f(ZSTD_compressBound(in.size()));
  f.resize(ZSTD_compress(f.data(), f.size(), in.data(), in.size(), 5));
  bytes out;
  ASSERT_EQ(decompress(compression::zstd, f, out, kUnlimited), errc::ok);
  EXPECT_EQ(out, in);
  out.clear();
  EXPECT_EQ(decompress(compression::zstd, f, out, in.size() - 1), errc::decompressed_too_large);

  // Streaming compression with no pledged size: the frame has no content size.
  bytes s = zstd_stream_without_size(in);
  ASSERT_EQ(ZSTD_getFrameContentSize(s.data(), s.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  out.clear();
  ASSERT_EQ(decompress(compression::zstd, s, out, kUnlimited), errc::ok);
  EXPECT_EQ(out, in);
  out.clear();
  EXPECT_EQ(decompress(compression::zstd, s, out, 1000), errc::decompressed_too_large);

  // Two frames back to back.
  bytes two = f;
  two.insert(two.end(), s.begin(), s.end());
  out.clear();
  ASSERT_EQ(decompress(compression::zstd, two, out, kUnlimited), errc::ok);
  EXPECT_EQ(out.size(), 2 * in.size());
}

TEST(codecs_cross, zstd_window_is_capped_by_the_limit) {
  // A 16 MiB window announced by a frame without content size: refused while the
  // caller's limit is small (the decoder would allocate the window), accepted with a
  // limit that covers it.
  bytes in(100000, 'x');
  bytes s = zstd_stream_without_size(in, 24);
  ASSERT_EQ(ZSTD_getFrameContentSize(s.data(), s.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  bytes out;
  EXPECT_EQ(decompress(compression::zstd, s, out, 1 << 20), errc::decompression_failed);
  EXPECT_EQ(decompress(compression::zstd, s, out, 32 << 20), errc::ok);
  EXPECT_EQ(out, in);
}

TEST(codecs_cross, zstd_ours_decodes_with_zstd) {
  auto rng = test::seeded_rng();
  bytes in = test::text_bytes(rng, 300000);
  bytes packed;
  ASSERT_EQ(compress(compression::zstd, in, packed), errc::ok);
  bytes out(in.size());
  EXPECT_EQ(ZSTD_decompress(out.data(), out.size(), packed.data(), packed.size()), in.size());
  EXPECT_EQ(out, in);
}

}  // namespace
}  // namespace strata::records
