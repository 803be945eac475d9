// Time: wall-clock milliseconds, and a Clock interface so tests drive time explicitly.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace sl {

// Milliseconds since the Unix epoch, wall clock.
int64_t now_millis();
// Monotonic nanoseconds, for measuring durations.
int64_t mono_nanos();

// A source of processing time. The real one reads the wall clock; tests use ManualClock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override { return now_millis(); }
  static SystemClock& instance();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 0) : t_(start_ms) {}
  int64_t now_ms() const override { return t_.load(std::memory_order_relaxed); }
  void set(int64_t ms) { t_.store(ms, std::memory_order_relaxed); }
  void advance(int64_t ms) { t_.fetch_add(ms, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> t_;
};

// ISO-8601 UTC with milliseconds: 2026-11-24T12:48:00.123Z
std::string format_iso8601_ms(int64_t epoch_ms);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff][Z|±hh:mm]" (or ' ' for 'T'); false on bad input.
bool parse_iso8601_ms(const std::string& s, int64_t* epoch_ms);
// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d);

}  // namespace sl
