#include "exec/context.h"

#include <algorithm>
#include <thread>

#include "exec/error.h"
#include "util/time.h"

namespace sl::exec {

int default_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(std::min(n, 64u));
}

void MemoryTracker::grow(int64_t bytes) {
  int64_t now = used_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (now > limit_) {
    used_.fetch_sub(bytes, std::memory_order_relaxed);
    throw SqlError(sqlstate::kOutOfMemory,
                   "query exceeded its memory limit of " + std::to_string(limit_) +
                       " bytes (SET memory_limit to raise it)",
                   -1, Errc::kResourceExhausted);
  }
  int64_t p = peak_.load(std::memory_order_relaxed);
  while (now > p && !peak_.compare_exchange_weak(p, now)) {}
}

void ExecContext::check_interrupt() const {
  if (cancelled && cancelled->load(std::memory_order_relaxed))
    throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request", -1, Errc::kCancelled);
  if (deadline_ns && mono_nanos() > deadline_ns)
    throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to statement timeout", -1, Errc::kCancelled);
}

}  // namespace sl::exec
