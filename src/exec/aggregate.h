// Aggregate functions over groups, vectorized: update() takes a batch of argument
// vectors and the group id of every row (one virtual call per batch, typed loops inside).
// States honour the changelog sign for count/sum/avg (+1 adds, -1 removes); min/max,
// string_agg, percentiles and distinct aggregates treat every row as an insert (the
// streaming runtime keeps retractable state for those separately).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exec/types.h"
#include "exec/vector.h"

namespace sl::exec {

enum class AggKind {
  kCountStar, kCount, kSum, kAvg, kMin, kMax, kBoolAnd, kBoolOr, kStringAgg,
  kApproxCountDistinct, kPercentileCont, kApproxPercentile,
};

struct AggregateSignature {
  AggKind kind;
  LogicalType result;
  std::vector<LogicalType> arg_types;  // the binder casts arguments to these
};

// Resolves name(args); false with `error` set if unknown or the arguments do not fit.
bool resolve_aggregate(const std::string& name, const std::vector<LogicalType>& args,
                       AggregateSignature* out, std::string* error);
bool is_aggregate_function(const std::string& name);

class AggregateState {
 public:
  virtual ~AggregateState() = default;
  // Makes room for group ids < n (new groups start empty).
  virtual void resize(size_t n) = 0;
  // args: evaluated argument vectors; groups[i] is row i's group; signs may be null.
  virtual void update(std::vector<Vector>& args, const uint32_t* groups, size_t n,
                      const int8_t* signs) = 0;
  // Writes the result of groups [first, first+n) to out[0..n).
  virtual void finalize(Vector& out, size_t first, size_t n) = 0;
  // Forgets group g's contents (window frames restart per partition).
  virtual void clear(size_t g) = 0;
  virtual size_t memory_bytes() const = 0;
  // Checkpoints (stream/): appends the whole state (every group) to `out`, and restores
  // it from the front of `in` (consuming it) into a state made with the same signature.
  // Both return false if this aggregate cannot be checkpointed.
  virtual bool save(std::string& out) const { return false; }
  virtual bool load(std::string_view& in) { return false; }
  // Every row in group 0 (aggregates without GROUP BY); the default calls update().
  virtual void update_single(std::vector<Vector>& args, size_t n, const int8_t* signs);
  // Parallel aggregation: whether combine() is supported, and folds `other` (the same
  // kind of state, filled by another thread) into this one: other's group g goes to this
  // state's group target[g], for g < n. REQUIRES: resize() covers every target.
  virtual bool mergeable() const { return false; }
  virtual void combine(AggregateState& other, const uint32_t* target, size_t n);
};

// `fraction` is the constant percentile for percentile_cont/approx_percentile.
std::unique_ptr<AggregateState> make_aggregate_state(const AggregateSignature& sig, bool distinct,
                                                     double fraction);

}  // namespace sl::exec
