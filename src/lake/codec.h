// Block compression for Parquet pages: SNAPPY (raw, no framing), GZIP (RFC 1952) and
// ZSTD (one frame), through Debian's libsnappy, zlib and libzstd.
//
// A Compressor keeps its codec contexts between calls (one per writer); decompress()
// needs the exact uncompressed size from the page header and fails (kCorruption) if the
// payload does not decompress to exactly that many bytes. Not thread-safe: one instance
// per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "lake/parquet.h"
#include "util/status.h"

namespace sl::lake::parquet {

// Parquet's CompressionCodec numbers.
int codec_thrift_id(Codec c);
// false for codecs we do not read (LZO, BROTLI, LZ4, LZ4_RAW).
bool codec_from_thrift(int id, Codec* out);

class Compressor {
 public:
  Compressor();
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  // Replaces *out with the compressed bytes of `in`.
  Status compress(Codec c, int level, std::string_view in, std::string* out);
  // Replaces *out with exactly `uncompressed_size` bytes decoded from `in`.
  Status decompress(Codec c, std::string_view in, size_t uncompressed_size, std::string* out);

 private:
  struct Contexts;
  std::unique_ptr<Contexts> ctx_;
};

}  // namespace sl::lake::parquet
