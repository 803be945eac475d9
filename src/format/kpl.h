// KPL aggregated records (the Kinesis Producer Library's aggregation format):
//
//   0xF3 0x89 0x9A 0xC2 | protobuf AggregatedRecord | MD5(protobuf) (16 bytes)
//
//   message AggregatedRecord { repeated string partition_key_table = 1;
//                              repeated string explicit_hash_key_table = 2;
//                              repeated Record records = 3; }
//   message Record { required uint64 partition_key_index = 1;
//                    optional uint64 explicit_hash_key_index = 2;
//                    required bytes data = 3; repeated Tag tags = 4; }
//   message Tag { required string key = 1; optional string value = 2; }
//
// Decoded by hand (no protobuf dependency); unknown fields are skipped as protobuf does.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace sl::format {

inline constexpr unsigned char kKplMagic[4] = {0xF3, 0x89, 0x9A, 0xC2};

struct KplRecord {
  std::string_view partition_key;
  std::string_view explicit_hash_key;  // empty when absent
  std::string_view data;
};

// Starts with the magic and is long enough to hold the digest.
bool is_kpl_aggregate(std::string_view record);

// Splits an aggregate into its user records (views into `record`). Returns
// Errc::kCorruption with a reason on a bad digest, truncated or malformed protobuf, or
// an index outside a key table; `out` is then unspecified.
Status kpl_deaggregate(std::string_view record, std::vector<KplRecord>* out);

// Builds an aggregate of `records` (for producers and tests).
std::string kpl_aggregate(const std::vector<KplRecord>& records);

}  // namespace sl::format
