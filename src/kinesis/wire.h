// Request decoding, response encoding and AWS-style validation (private to kinesis/).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kinesis/internal.h"
#include "kinesis/kinesis.h"

namespace sl::kinesis {

using json = nlohmann::json;

// Parses a JSON or CBOR request body (empty → {}); SerializationException on bad input.
json parse_body(Encoding enc, std::string_view body);
// Decodes one CBOR data item (definite or indefinite lengths; tags such as the SDKs'
// timestamp tag 1 are skipped; byte strings become binary). Throws SerializationException.
json cbor_to_json(std::string_view bytes);
// Serializes a response document. Keys named *Timestamp hold epoch milliseconds and are
// written as JSON epoch seconds (1700000000.123) or CBOR tag 1 + integer milliseconds.
void write_doc(const json& doc, Encoding enc, std::string& out);

// Typed accessors: nullopt if absent or null; SerializationException on a wrong type.
std::optional<std::string> get_string(const json& in, const char* key);
std::optional<int64_t> get_int(const json& in, const char* key);
std::optional<bool> get_bool(const json& in, const char* key);
const json* get_object(const json& in, const char* key);
// JSON: epoch seconds (number); CBOR: epoch milliseconds (integer) or seconds (float).
std::optional<int64_t> get_timestamp(const json& in, const char* key, Encoding enc);
std::optional<std::vector<std::pair<std::string, std::string>>> get_string_map(
    const json& in, const char* key);
std::optional<std::vector<std::string>> get_string_list(const json& in, const char* key);
// A blob: base64 text in JSON (or CBOR text), a byte string in CBOR.
std::optional<std::string> get_blob(const json& in, const char* key, const char* field);

[[noreturn]] void throw_serialization(const std::string& msg);

// Collects constraint violations; done() throws the AWS ValidationException shape
// "N validation error(s) detected: Value 'v' at 'field' failed to satisfy constraint: c; ...".
class Validator {
 public:
  void add(const std::string& value_repr, const std::string& field, const std::string& c);
  void add_null(const std::string& field) { add("null", field, "Member must not be null"); }
  void done() const;
  bool empty() const { return errors_.empty(); }

 private:
  std::vector<std::string> errors_;
};

std::string quote(std::string_view v);  // 'v' as AWS prints a value
std::string list_repr(const std::vector<std::string>& v);
size_t utf8_length(std::string_view s);

void check_length(Validator& v, std::string_view s, size_t min, size_t max, const char* field);
void check_range(Validator& v, int64_t x, int64_t min, int64_t max, const char* field);
void check_stream_name(Validator& v, std::string_view s, const char* field);
void check_stream_arn(Validator& v, std::string_view s, const char* field);
void check_shard_id(Validator& v, std::string_view s, const std::string& field);
void check_hash_key_pattern(Validator& v, std::string_view s, const std::string& field);
void check_seq_pattern(Validator& v, std::string_view s, const std::string& field);
void check_tags(Validator& v, const std::vector<std::pair<std::string, std::string>>& tags,
                const char* field);
void check_partition_key(Validator& v, std::string_view s, const std::string& field);

struct ArnParts {
  std::string region, account, name;
};
bool parse_stream_arn(std::string_view arn, ArnParts* out);

std::string shard_id(uint32_t ordinal);  // shardId-000000000007
bool parse_shard_ordinal(std::string_view id, uint32_t* ordinal);

}  // namespace sl::kinesis
