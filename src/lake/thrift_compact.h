// Thrift compact protocol, by hand, for Parquet's metadata (parquet_meta.h).
//
// CompactWriter appends to a string; CompactReader reads a bounded buffer and never reads
// past it, never recurses deeper than kMaxDepth and never allocates from an unchecked
// count: every failure sets a sticky error (ok() false) and further reads return zeros, so
// a parser can read a whole struct and check ok() once at the end.
// Not thread-safe: one instance per thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sl::lake::thrift {

// Compact-protocol type codes of a field header or a list element.
enum class CType : uint8_t {
  kStop = 0,
  kTrue = 1,  // boolean field whose value is true (in lists: a boolean element)
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) {}

  // Fields of the current struct, in increasing id order.
  void field_i32(int16_t id, int32_t v) { header(id, CType::kI32); varint(zigzag(v)); }
  void field_i64(int16_t id, int64_t v) { header(id, CType::kI64); varint(zigzag(v)); }
  void field_i8(int16_t id, int8_t v) { header(id, CType::kByte); out_->push_back(static_cast<char>(v)); }
  void field_bool(int16_t id, bool v) { header(id, v ? CType::kTrue : CType::kFalse); }
  void field_binary(int16_t id, std::string_view v) { header(id, CType::kBinary); binary(v); }
  // A nested struct: begin, its fields, end.
  void begin_struct(int16_t id) { header(id, CType::kStruct); push(); }
  void end_struct() { stop(); pop(); }
  // A list field; then `n` elements written with the element functions below.
  void begin_list(int16_t id, CType elem, uint32_t n);
  void elem_i32(int32_t v) { varint(zigzag(v)); }
  void elem_binary(std::string_view v) { binary(v); }
  void begin_elem_struct() { push(); }
  void end_elem_struct() { stop(); pop(); }
  // Ends the top-level struct.
  void stop() { out_->push_back(0); }

 private:
  static uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
  void varint(uint64_t v);
  void binary(std::string_view v);
  void header(int16_t id, CType t);
  void push();
  void pop();

  std::string* out_;
  int16_t last_ = 0;
  int16_t stack_[32] = {};
  int depth_ = 0;
};

class CompactReader {
 public:
  static constexpr int kMaxDepth = 32;

  CompactReader(const uint8_t* data, size_t size) : p_(data), end_(data + size), begin_(data) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }
  void fail(std::string why);

  // Struct iteration: begin_struct(); while (next_field(&id, &type)) { ... } end_struct().
  // next_field returns false at the struct's stop byte (or on error).
  void begin_struct();
  bool next_field(int16_t* id, CType* type);
  void end_struct();

  // Field values (type must match what next_field returned; mismatches set the error).
  int32_t read_i32(CType t);
  int64_t read_i64(CType t);
  int8_t read_i8(CType t);
  double read_double(CType t);
  bool read_bool(CType t);  // for fields: the type carries the value
  std::string read_binary(CType t);
  std::string_view read_binary_view(CType t);
  // A list header: element type and count. The count is checked against the bytes left
  // (every element takes at least one byte, except booleans in a field header...), so a
  // caller may reserve() it.
  uint32_t begin_list(CType t, CType* elem);
  // List elements.
  int32_t elem_i32(CType elem) { return read_i32(elem); }
  bool elem_bool(CType elem);
  // Skips a value of type t (nested structs, lists, sets, maps).
  void skip(CType t);

 private:
  uint64_t varint();
  int64_t zigzag_varint() { uint64_t v = varint(); return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
  uint8_t byte();
  void skip_depth(CType t, int depth);

  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  std::string error_;
  int16_t last_ = 0;
  int16_t stack_[kMaxDepth + 1] = {};
  int depth_ = 0;
};

}  // namespace sl::lake::thrift
