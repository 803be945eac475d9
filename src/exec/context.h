// ExecContext: per-query execution state shared by operators and expressions: memory
// accounting against the query's limit, cancellation, the deadline, the statement
// timestamp (now()) and the thread budget. One per query; shared read-only by the worker
// threads of a parallel pipeline (MemoryTracker is atomic).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace sl::exec {

// The machine's hardware threads (at least 1): the default for SET threads.
int default_threads();

// Bytes held by one query's operators (hash tables, sorts, materialized results).
// grow() throws SqlError 53200 when the limit would be exceeded.
class MemoryTracker {
 public:
  explicit MemoryTracker(int64_t limit) : limit_(limit) {}
  void grow(int64_t bytes);
  void shrink(int64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  int64_t used() const { return used_.load(std::memory_order_relaxed); }
  int64_t peak() const { return peak_.load(std::memory_order_relaxed); }
  int64_t limit() const { return limit_; }

 private:
  int64_t limit_;
  std::atomic<int64_t> used_{0};
  std::atomic<int64_t> peak_{0};
};

struct ExecContext {
  explicit ExecContext(int64_t memory_limit = int64_t{1} << 40) : memory(memory_limit) {}
  MemoryTracker memory;
  const std::atomic<bool>* cancelled = nullptr;  // tripped by another thread
  int64_t deadline_ns = 0;                       // mono_nanos() deadline, 0 = none
  int64_t statement_time_us = 0;                 // now() / current_timestamp
  int threads = 1;                               // worker threads for parallel pipelines
  // Throws SqlError 57014 if the query was cancelled or ran past its deadline.
  void check_interrupt() const;
};

}  // namespace sl::exec
