#include <mutex>

#include "kinesis/service_impl.h"

namespace sl::kinesis {

Throttle::Shard& Throttle::at(uint64_t cid, uint32_t ordinal, int64_t now_ms) {
  Shard& s = shards_[{cid, ordinal}];
  if (s.last_ms >= 0 && now_ms > s.last_ms) {
    double secs = static_cast<double>(now_ms - s.last_ms) / 1000.0;
    for (Bucket* b : {&s.in_bytes, &s.in_records, &s.out_bytes, &s.gets}) b->refill(secs);
  }
  if (now_ms > s.last_ms) s.last_ms = now_ms;
  return s;
}

bool Throttle::admit_put(uint64_t cid, uint32_t ordinal, size_t bytes, size_t records,
                         int64_t now_ms) {
  std::lock_guard lk(mu_);
  Shard& s = at(cid, ordinal, now_ms);
  if (s.in_bytes.tokens < static_cast<double>(bytes) ||
      s.in_records.tokens < static_cast<double>(records))
    return false;
  s.in_bytes.tokens -= static_cast<double>(bytes);
  s.in_records.tokens -= static_cast<double>(records);
  return true;
}

bool Throttle::admit_get(uint64_t cid, uint32_t ordinal, int64_t now_ms) {
  std::lock_guard lk(mu_);
  Shard& s = at(cid, ordinal, now_ms);
  if (s.gets.tokens < 1.0 || s.out_bytes.tokens <= 0) return false;
  s.gets.tokens -= 1.0;
  return true;
}

void Throttle::took_out(uint64_t cid, uint32_t ordinal, size_t bytes) {
  std::lock_guard lk(mu_);
  auto it = shards_.find({cid, ordinal});
  if (it != shards_.end()) it->second.out_bytes.tokens -= static_cast<double>(bytes);  // may go below 0: a big read
}

}  // namespace sl::kinesis
