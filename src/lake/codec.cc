#include "lake/codec.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

namespace sl::lake::parquet {

int codec_thrift_id(Codec c) {
  switch (c) {
    case Codec::kNone: return 0;
    case Codec::kSnappy: return 1;
    case Codec::kGzip: return 2;
    case Codec::kZstd: return 6;
  }
  return 0;
}

bool codec_from_thrift(int id, Codec* out) {
  switch (id) {
    case 0: *out = Codec::kNone; return true;
    case 1: *out = Codec::kSnappy; return true;
    case 2: *out = Codec::kGzip; return true;
    case 6: *out = Codec::kZstd; return true;
    default: return false;
  }
}

struct Compressor::Contexts {
  ZSTD_CCtx* zc = nullptr;
  ZSTD_DCtx* zd = nullptr;
  // Compression output before it is copied out: a std::string would zero-fill the whole
  // bound on every resize.
  std::unique_ptr<char[]> buf;
  size_t cap = 0;
  char* reserve(size_t n) {
    if (n > cap) {
      buf = std::make_unique_for_overwrite<char[]>(n);
      cap = n;
    }
    return buf.get();
  }
  ~Contexts() {
    if (zc) ZSTD_freeCCtx(zc);
    if (zd) ZSTD_freeDCtx(zd);
  }
};

Compressor::Compressor() : ctx_(std::make_unique<Contexts>()) {}
Compressor::~Compressor() = default;

namespace {

Status gzip_compress(int level, std::string_view in, std::string* out) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return internal_error("gzip: deflateInit2 failed");
  }
  out->resize(deflateBound(&zs, in.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data());
  zs.avail_out = static_cast<uInt>(out->size());
  int rc = deflate(&zs, Z_FINISH);
  size_t n = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return internal_error("gzip: deflate failed");
  out->resize(n);
  return Status::OK();
}

Status gzip_decompress(std::string_view in, size_t size, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return internal_error("gzip: inflateInit2 failed");
  out->resize(size);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data());
  zs.avail_out = static_cast<uInt>(size);
  int rc = Z_OK;
  // Concatenated gzip members are legal; inflate each until the input is used up.
  while (true) {
    rc = inflate(&zs, Z_FINISH);
    if (rc == Z_STREAM_END && zs.avail_in > 0 && zs.avail_out > 0) {
      if (inflateReset(&zs) != Z_OK) break;
      continue;
    }
    break;
  }
  size_t n = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && n == size && zs.avail_in == 0)) {
    return corruption("gzip data does not decompress (zlib code " + std::to_string(rc) + ")");
  }
  if (n != size) {
    return corruption("gzip data decompresses to " + std::to_string(n) + " bytes, the page header says " +
                      std::to_string(size));
  }
  return Status::OK();
}

}  // namespace

Status Compressor::compress(Codec c, int level, std::string_view in, std::string* out) {
  switch (c) {
    case Codec::kNone:
      out->assign(in.data(), in.size());
      return Status::OK();
    case Codec::kSnappy: {
      char* b = ctx_->reserve(snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), b, &n);
      out->assign(b, n);
      return Status::OK();
    }
    case Codec::kGzip:
      return gzip_compress(level < 0 || level > 9 ? 6 : level, in, out);
    case Codec::kZstd: {
      if (!ctx_->zc) ctx_->zc = ZSTD_createCCtx();
      size_t bound = ZSTD_compressBound(in.size());
      char* b = ctx_->reserve(bound);
      size_t n = ZSTD_compressCCtx(ctx_->zc, b, bound, in.data(), in.size(), level);
      if (ZSTD_isError(n)) return internal_error(std::string("zstd: ") + ZSTD_getErrorName(n));
      out->assign(b, n);
      return Status::OK();
    }
  }
  return internal_error("unknown codec");
}

Status Compressor::decompress(Codec c, std::string_view in, size_t size, std::string* out) {
  switch (c) {
    case Codec::kNone:
      if (in.size() != size) {
        return corruption("uncompressed page of " + std::to_string(in.size()) + " bytes, the header says " +
                          std::to_string(size));
      }
      out->assign(in.data(), in.size());
      return Status::OK();
    case Codec::kSnappy: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) return corruption("bad snappy data");
      if (n != size) {
        return corruption("snappy data decompresses to " + std::to_string(n) + " bytes, the page header says " +
                          std::to_string(size));
      }
      out->resize(size);
      if (!snappy::RawUncompress(in.data(), in.size(), out->data())) return corruption("bad snappy data");
      return Status::OK();
    }
    case Codec::kGzip:
      return gzip_decompress(in, size, out);
    case Codec::kZstd: {
      unsigned long long fs = ZSTD_getFrameContentSize(in.data(), in.size());
      if (fs == ZSTD_CONTENTSIZE_ERROR) return corruption("bad zstd data");
      if (fs != ZSTD_CONTENTSIZE_UNKNOWN && fs != size) {
        return corruption("zstd data decompresses to " + std::to_string(fs) + " bytes, the page header says " +
                          std::to_string(size));
      }
      if (!ctx_->zd) ctx_->zd = ZSTD_createDCtx();
      out->resize(size);
      size_t n = ZSTD_decompressDCtx(ctx_->zd, out->data(), size, in.data(), in.size());
      if (ZSTD_isError(n)) return corruption(std::string("bad zstd data: ") + ZSTD_getErrorName(n));
      if (n != size) {
        return corruption("zstd data decompresses to " + std::to_string(n) + " bytes, the page header says " +
                          std::to_string(size));
      }
      return Status::OK();
    }
  }
  return internal_error("unknown codec");
}

}  // namespace sl::lake::parquet
