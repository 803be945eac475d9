#include "lake/thrift_compact.h"

namespace sl::lake::thrift {

// ---- CompactWriter ----------------------------------------------------------------

void CompactWriter::varint(uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void CompactWriter::binary(std::string_view v) {
  varint(v.size());
  out_->append(v);
}

void CompactWriter::header(int16_t id, CType t) {
  int delta = id - last_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<int>(t)));
  } else {
    out_->push_back(static_cast<char>(t));
    varint(zigzag(id));
  }
  last_ = id;
}

void CompactWriter::push() {
  stack_[depth_++] = last_;
  last_ = 0;
}

void CompactWriter::pop() { last_ = stack_[--depth_]; }

void CompactWriter::begin_list(int16_t id, CType elem, uint32_t n) {
  header(id, CType::kList);
  if (n < 15) {
    out_->push_back(static_cast<char>((n << 4) | static_cast<int>(elem)));
  } else {
    out_->push_back(static_cast<char>(0xf0 | static_cast<int>(elem)));
    varint(n);
  }
}

// ---- CompactReader ----------------------------------------------------------------

void CompactReader::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why) + " at byte " + std::to_string(position());
  p_ = end_;
}

uint8_t CompactReader::byte() {
  if (p_ >= end_) {
    fail("truncated Thrift data");
    return 0;
  }
  return *p_++;
}

uint64_t CompactReader::varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    uint8_t b = byte();
    if (!ok()) return 0;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail("Thrift varint longer than 10 bytes");
  return 0;
}

void CompactReader::begin_struct() {
  if (depth_ >= kMaxDepth) {
    fail("Thrift structs nested too deeply");
    return;
  }
  stack_[depth_++] = last_;
  last_ = 0;
}

void CompactReader::end_struct() {
  if (depth_ > 0) last_ = stack_[--depth_];
}

bool CompactReader::next_field(int16_t* id, CType* type) {
  if (!ok()) return false;
  uint8_t b = byte();
  if (!ok() || b == 0) return false;
  int t = b & 0x0f;
  int delta = b >> 4;
  if (t > static_cast<int>(CType::kStruct)) {
    fail("bad Thrift field type " + std::to_string(t));
    return false;
  }
  if (delta != 0) {
    *id = static_cast<int16_t>(last_ + delta);
  } else {
    int64_t v = zigzag_varint();
    if (v < INT16_MIN || v > INT16_MAX) {
      fail("bad Thrift field id");
      return false;
    }
    *id = static_cast<int16_t>(v);
  }
  last_ = *id;
  *type = static_cast<CType>(t);
  return ok();
}

int32_t CompactReader::read_i32(CType t) {
  if (t == CType::kByte) return static_cast<int8_t>(byte());
  if (t != CType::kI32 && t != CType::kI16) {
    fail("Thrift type mismatch (expected i32)");
    return 0;
  }
  int64_t v = zigzag_varint();
  if (v < INT32_MIN || v > INT32_MAX) {
    fail("Thrift i32 out of range");
    return 0;
  }
  return static_cast<int32_t>(v);
}

int64_t CompactReader::read_i64(CType t) {
  if (t == CType::kByte) return static_cast<int8_t>(byte());
  if (t != CType::kI64 && t != CType::kI32 && t != CType::kI16) {
    fail("Thrift type mismatch (expected i64)");
    return 0;
  }
  return zigzag_varint();
}

int8_t CompactReader::read_i8(CType t) {
  if (t != CType::kByte) return static_cast<int8_t>(read_i32(t));
  return static_cast<int8_t>(byte());
}

double CompactReader::read_double(CType t) {
  if (t != CType::kDouble || end_ - p_ < 8) {
    fail("bad Thrift double");
    return 0;
  }
  uint64_t bits = 0;
  for (int i = 0; i < 8; i++) bits |= static_cast<uint64_t>(p_[i]) << (8 * i);
  p_ += 8;
  double d;
  static_assert(sizeof d == 8);
  __builtin_memcpy(&d, &bits, 8);
  return d;
}

bool CompactReader::read_bool(CType t) {
  if (t == CType::kTrue) return true;
  if (t == CType::kFalse) return false;
  fail("Thrift type mismatch (expected bool)");
  return false;
}

bool CompactReader::elem_bool(CType elem) {
  if (elem != CType::kTrue && elem != CType::kFalse) {
    fail("Thrift type mismatch (expected bool element)");
    return false;
  }
  return byte() == 1;
}

std::string_view CompactReader::read_binary_view(CType t) {
  if (t != CType::kBinary) {
    fail("Thrift type mismatch (expected binary)");
    return {};
  }
  uint64_t n = varint();
  if (!ok()) return {};
  if (n > static_cast<uint64_t>(end_ - p_)) {
    fail("Thrift binary length " + std::to_string(n) + " beyond the data");
    return {};
  }
  std::string_view v(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return v;
}

std::string CompactReader::read_binary(CType t) { return std::string(read_binary_view(t)); }

uint32_t CompactReader::begin_list(CType t, CType* elem) {
  if (t != CType::kList && t != CType::kSet) {
    fail("Thrift type mismatch (expected list)");
    return 0;
  }
  uint8_t b = byte();
  uint64_t n = b >> 4;
  *elem = static_cast<CType>(b & 0x0f);
  if (n == 15) n = varint();
  if (!ok()) return 0;
  if ((b & 0x0f) > static_cast<int>(CType::kStruct)) {
    fail("bad Thrift list element type");
    return 0;
  }
  // Every element takes at least one byte.
  if (n > static_cast<uint64_t>(end_ - p_)) {
    fail("Thrift list of " + std::to_string(n) + " elements beyond the data");
    return 0;
  }
  return static_cast<uint32_t>(n);
}

void CompactReader::skip(CType t) { skip_depth(t, depth_); }

void CompactReader::skip_depth(CType t, int depth) {
  if (!ok()) return;
  if (depth >= kMaxDepth) {
    fail("Thrift values nested too deeply");
    return;
  }
  switch (t) {
    case CType::kStop:
      fail("bad Thrift type 0");
      return;
    case CType::kTrue:
    case CType::kFalse:
      return;  // a field's value is in its header
    case CType::kByte:
      byte();
      return;
    case CType::kI16:
    case CType::kI32:
    case CType::kI64:
      varint();
      return;
    case CType::kDouble:
      if (end_ - p_ < 8) fail("truncated Thrift double");
      else p_ += 8;
      return;
    case CType::kBinary:
      read_binary_view(t);
      return;
    case CType::kList:
    case CType::kSet: {
      CType elem;
      uint32_t n = begin_list(t, &elem);
      for (uint32_t i = 0; i < n && ok(); i++) {
        if (elem == CType::kTrue || elem == CType::kFalse) byte();
        else skip_depth(elem, depth + 1);
      }
      return;
    }
    case CType::kMap: {
      uint64_t n = varint();
      if (!ok() || n == 0) return;
      uint8_t kv = byte();
      if (n > static_cast<uint64_t>(end_ - p_)) {
        fail("Thrift map of " + std::to_string(n) + " entries beyond the data");
        return;
      }
      CType k = static_cast<CType>(kv >> 4), v = static_cast<CType>(kv & 0x0f);
      for (uint64_t i = 0; i < n && ok(); i++) {
        for (CType x : {k, v}) {
          if (x == CType::kTrue || x == CType::kFalse) byte();
          else skip_depth(x, depth + 1);
        }
      }
      return;
    }
    case CType::kStruct: {
      int16_t saved = last_;
      last_ = 0;
      while (ok()) {
        uint8_t b = byte();
        if (!ok() || b == 0) break;
        int ft = b & 0x0f;
        if (ft > static_cast<int>(CType::kStruct)) {
          fail("bad Thrift field type " + std::to_string(ft));
          break;
        }
        if ((b >> 4) == 0) zigzag_varint();
        skip_depth(static_cast<CType>(ft), depth + 1);
      }
      last_ = saved;
      return;
    }
  }
  fail("bad Thrift type");
}

}  // namespace sl::lake::thrift
