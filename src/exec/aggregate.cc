#include "exec/aggregate.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <unordered_set>

#include "exec/error.h"
#include "exec/keys.h"
#include "exec/kernels.h"

namespace sl::exec {
namespace {

using T = TypeId;

// ---- checkpoint encoding of states: sizes as u64, then raw values (host layout) ----
template <class T>
void put_pod(std::string& out, const T& v) { out.append(reinterpret_cast<const char*>(&v), sizeof(T)); }
template <class T>
bool get_pod(std::string_view& in, T* v) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(static_cast<void*>(v), in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}
template <class T>
void put_vec(std::string& out, const std::vector<T>& v) {
  put_pod<uint64_t>(out, v.size());
  if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}
template <class T>
bool get_vec(std::string_view& in, std::vector<T>* v) {
  uint64_t n;
  if (!get_pod(in, &n) || n > in.size() / std::max<size_t>(sizeof(T), 1)) return false;
  v->resize(n);
  if (n) std::memcpy(static_cast<void*>(v->data()), in.data(), n * sizeof(T));
  in.remove_prefix(n * sizeof(T));
  return true;
}
void put_str(std::string& out, std::string_view s) {
  put_pod<uint64_t>(out, s.size());
  out.append(s);
}
bool get_str(std::string_view& in, std::string* s) {
  uint64_t n;
  if (!get_pod(in, &n) || n > in.size()) return false;
  s->assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}
void put_strs(std::string& out, const std::vector<std::string>& v) {
  put_pod<uint64_t>(out, v.size());
  for (auto& s : v) put_str(out, s);
}
bool get_strs(std::string_view& in, std::vector<std::string>* v) {
  uint64_t n;
  if (!get_pod(in, &n) || n > in.size() / 8) return false;
  v->resize(n);
  for (auto& s : *v)
    if (!get_str(in, &s)) return false;
  return true;
}

class CountState final : public AggregateState {
 public:
  explicit CountState(bool star) : star_(star) {}
  void resize(size_t n) override { c_.resize(n, 0); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t* signs) override {
    if (star_ && !signs) {
      for (size_t i = 0; i < n; i++) c_[g[i]]++;
      return;
    }
    if (!star_ && !signs && args[0].all_valid()) {
      for (size_t i = 0; i < n; i++) c_[g[i]]++;
      return;
    }
    for (size_t i = 0; i < n; i++)
      if (star_ || args[0].is_valid(i)) c_[g[i]] += signs ? signs[i] : 1;
  }
  void update_single(std::vector<Vector>& args, size_t n, const int8_t* signs) override {
    int64_t c = 0;
    if (!signs && (star_ || args[0].all_valid())) {
      c = static_cast<int64_t>(n);
    } else {
      for (size_t i = 0; i < n; i++)
        if (star_ || args[0].is_valid(i)) c += signs ? signs[i] : 1;
    }
    c_[0] += c;
  }
  bool mergeable() const override { return true; }
  void combine(AggregateState& o, const uint32_t* t, size_t n) override {
    auto& x = static_cast<CountState&>(o);
    for (size_t g = 0; g < n; g++) c_[t[g]] += x.c_[g];
  }
  void finalize(Vector& out, size_t first, size_t n) override {
    for (size_t i = 0; i < n; i++) out.data<int64_t>()[i] = c_[first + i];
  }
  void clear(size_t g) override { c_[g] = 0; }
  size_t memory_bytes() const override { return c_.capacity() * 8; }
  bool save(std::string& out) const override { put_vec(out, c_); return true; }
  bool load(std::string_view& in) override { return get_vec(in, &c_); }

 private:
  bool star_;
  std::vector<int64_t> c_;
};

// sum / avg. Acc is int64 (exact, overflow-checked) or double.
template <class In, class Acc>
class SumState final : public AggregateState {
 public:
  SumState(bool avg, LogicalType in, LogicalType result) : avg_(avg), in_(in), result_(result) {}
  void resize(size_t n) override { s_.resize(n, Acc{}); c_.resize(n, 0); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t* signs) override {
    const In* d = args[0].data<In>();
    if (!signs && args[0].all_valid()) {
      for (size_t i = 0; i < n; i++) {
        uint32_t k = g[i];
        c_[k]++;
        if constexpr (std::is_integral_v<Acc>) {
          if (__builtin_add_overflow(s_[k], static_cast<Acc>(d[i]), &s_[k])) throw_overflow(in_.id == T::kNumeric ? "numeric" : "bigint");
        } else {
          s_[k] += static_cast<Acc>(d[i]);
        }
      }
      return;
    }
    for (size_t i = 0; i < n; i++) {
      if (args[0].is_null(i)) continue;
      int sg = signs ? signs[i] : 1;
      c_[g[i]] += sg;
      if constexpr (std::is_integral_v<Acc>) {
        Acc v = static_cast<Acc>(d[i]);
        if (sg < 0) { if (__builtin_sub_overflow(s_[g[i]], v, &s_[g[i]])) throw_overflow("bigint"); }
        else if (__builtin_add_overflow(s_[g[i]], v, &s_[g[i]])) throw_overflow(in_.id == T::kNumeric ? "numeric" : "bigint");
      } else {
        s_[g[i]] += sg * static_cast<Acc>(d[i]);
      }
    }
  }
  void finalize(Vector& out, size_t first, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      size_t g = first + i;
      if (c_[g] <= 0) { out.set_null(i); continue; }
      if (avg_) {
        double s = static_cast<double>(s_[g]);
        if (in_.id == T::kNumeric) s /= static_cast<double>(pow10_i64(in_.scale));
        out.data<double>()[i] = s / static_cast<double>(c_[g]);
      } else if constexpr (std::is_integral_v<Acc>) {
        if (result_.id == T::kNumeric && result_.precision < 19 &&
            (s_[g] >= pow10_i64(18) || s_[g] <= -pow10_i64(18)))
          throw SqlError(sqlstate::kNumericOutOfRange, "numeric field overflow");
        out.data<int64_t>()[i] = s_[g];
      } else {
        if (result_.id == T::kReal) out.data<float>()[i] = static_cast<float>(s_[g]);
        else out.data<double>()[i] = s_[g];
      }
    }
  }
  void clear(size_t g) override { s_[g] = Acc{}; c_[g] = 0; }
  void update_single(std::vector<Vector>& args, size_t n, const int8_t* signs) override {
    if (signs || !args[0].all_valid()) return AggregateState::update_single(args, n, signs);
    const In* d = args[0].data<In>();
    if constexpr (std::is_integral_v<Acc> && sizeof(In) <= 4) {
      int64_t acc = 0;  // n <= 2^31 values of at most 32 bits cannot overflow
      for (size_t i = 0; i < n; i++) acc += d[i];
      if (__builtin_add_overflow(s_[0], acc, &s_[0])) throw_overflow("bigint");
    } else if constexpr (std::is_integral_v<Acc>) {
      for (size_t i = 0; i < n; i++)
        if (__builtin_add_overflow(s_[0], static_cast<Acc>(d[i]), &s_[0])) throw_overflow(in_.id == T::kNumeric ? "numeric" : "bigint");
    } else {
      Acc acc = s_[0];
      for (size_t i = 0; i < n; i++) acc += static_cast<Acc>(d[i]);
      s_[0] = acc;
    }
    c_[0] += static_cast<int64_t>(n);
  }
  bool mergeable() const override { return true; }
  void combine(AggregateState& o, const uint32_t* t, size_t n) override {
    auto& x = static_cast<SumState&>(o);
    for (size_t g = 0; g < n; g++) {
      c_[t[g]] += x.c_[g];
      if constexpr (std::is_integral_v<Acc>) {
        if (__builtin_add_overflow(s_[t[g]], x.s_[g], &s_[t[g]])) throw_overflow(in_.id == T::kNumeric ? "numeric" : "bigint");
      } else {
        s_[t[g]] += x.s_[g];
      }
    }
  }
  size_t memory_bytes() const override { return s_.capacity() * sizeof(Acc) + c_.capacity() * 8; }
  bool save(std::string& out) const override { put_vec(out, s_); put_vec(out, c_); return true; }
  bool load(std::string_view& in) override { return get_vec(in, &s_) && get_vec(in, &c_); }

 private:
  bool avg_;
  LogicalType in_, result_;
  std::vector<Acc> s_;
  std::vector<int64_t> c_;
};

class IntervalSumState final : public AggregateState {
 public:
  explicit IntervalSumState(bool avg) : avg_(avg) {}
  void resize(size_t n) override { s_.resize(n); c_.resize(n, 0); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t* signs) override {
    const Interval* d = args[0].data<Interval>();
    for (size_t i = 0; i < n; i++) {
      if (args[0].is_null(i)) continue;
      int sg = signs ? signs[i] : 1;
      c_[g[i]] += sg;
      s_[g[i]].months += sg * d[i].months; s_[g[i]].days += sg * d[i].days; s_[g[i]].micros += sg * d[i].micros;
    }
  }
  void finalize(Vector& out, size_t first, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      size_t g = first + i;
      if (c_[g] <= 0) { out.set_null(i); continue; }
      Interval r = s_[g];
      if (avg_) {
        __int128 t = r.total_micros() / c_[g];
        r = Interval{0, static_cast<int32_t>(t / kMicrosPerDay), static_cast<int64_t>(t % kMicrosPerDay)};
      }
      out.data<Interval>()[i] = r;
    }
  }
  void clear(size_t g) override { s_[g] = Interval{}; c_[g] = 0; }
  bool mergeable() const override { return true; }
  void combine(AggregateState& o, const uint32_t* t, size_t n) override {
    auto& x = static_cast<IntervalSumState&>(o);
    for (size_t g = 0; g < n; g++) {
      c_[t[g]] += x.c_[g];
      s_[t[g]].months += x.s_[g].months; s_[t[g]].days += x.s_[g].days; s_[t[g]].micros += x.s_[g].micros;
    }
  }
  size_t memory_bytes() const override { return s_.capacity() * 16 + c_.capacity() * 8; }
  bool save(std::string& out) const override { put_vec(out, s_); put_vec(out, c_); return true; }
  bool load(std::string_view& in) override { return get_vec(in, &s_) && get_vec(in, &c_); }

 private:
  bool avg_;
  std::vector<Interval> s_;
  std::vector<int64_t> c_;
};

template <class V>
class MinMaxState final : public AggregateState {
 public:
  explicit MinMaxState(bool max) : max_(max) {}
  void resize(size_t n) override { v_.resize(n); has_.resize(n, 0); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t*) override {
    const V* d = args[0].data<V>();
    if (args[0].all_valid()) {
      if (max_) {
        for (size_t i = 0; i < n; i++) {
          uint32_t k = g[i];
          if (!has_[k] || cmp3(d[i], v_[k]) > 0) { v_[k] = d[i]; has_[k] = 1; }
        }
      } else {
        for (size_t i = 0; i < n; i++) {
          uint32_t k = g[i];
          if (!has_[k] || cmp3(d[i], v_[k]) < 0) { v_[k] = d[i]; has_[k] = 1; }
        }
      }
      return;
    }
    for (size_t i = 0; i < n; i++) {
      if (args[0].is_null(i)) continue;
      uint32_t k = g[i];
      if (!has_[k] || (max_ ? cmp3(d[i], v_[k]) > 0 : cmp3(d[i], v_[k]) < 0)) { v_[k] = d[i]; has_[k] = 1; }
    }
  }
  bool mergeable() const override { return true; }
  void combine(AggregateState& o, const uint32_t* t, size_t n) override {
    auto& x = static_cast<MinMaxState&>(o);
    for (size_t g = 0; g < n; g++) {
      if (!x.has_[g]) continue;
      uint32_t k = t[g];
      if (!has_[k] || (max_ ? cmp3(x.v_[g], v_[k]) > 0 : cmp3(x.v_[g], v_[k]) < 0)) { v_[k] = x.v_[g]; has_[k] = 1; }
    }
  }
  void finalize(Vector& out, size_t first, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      if (!has_[first + i]) out.set_null(i);
      else out.data<V>()[i] = v_[first + i];
    }
  }
  void clear(size_t g) override { has_[g] = 0; }
  size_t memory_bytes() const override { return v_.capacity() * sizeof(V) + has_.capacity(); }
  bool save(std::string& out) const override { put_vec(out, v_); put_vec(out, has_); return true; }
  bool load(std::string_view& in) override { return get_vec(in, &v_) && get_vec(in, &has_); }

 private:
  bool max_;
  std::vector<V> v_;
  std::vector<uint8_t> has_;
};

class StringMinMaxState final : public AggregateState {
 public:
  explicit StringMinMaxState(bool max) : max_(max) {}
  void resize(size_t n) override { v_.resize(n); has_.resize(n, 0); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t*) override {
    const StringRef* d = args[0].data<StringRef>();
    for (size_t i = 0; i < n; i++) {
      if (args[0].is_null(i)) continue;
      uint32_t k = g[i];
      int c = has_[k] ? d[i].view().compare(v_[k]) : 0;
      if (!has_[k] || (max_ ? c > 0 : c < 0)) {
        bytes_ += d[i].len;
        v_[k].assign(d[i].view());
        has_[k] = 1;
      }
    }
  }
  void finalize(Vector& out, size_t first, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      if (!has_[first + i]) out.set_null(i);
      else out.data<StringRef>()[i] = out.add_string(v_[first + i]);
    }
  }
  void clear(size_t g) override { has_[g] = 0; }
  size_t memory_bytes() const override { return v_.capacity() * 40 + bytes_; }
  bool save(std::string& out) const override { put_strs(out, v_); put_vec(out, has_); return true; }
  bool load(std::string_view& in) override {
    if (!get_strs(in, &v_) || !get_vec(in, &has_)) return false;
    bytes_ = 0;
    for (auto& x : v_) bytes_ += x.size();
    return true;
  }
  bool mergeable() const override { return true; }
  void combine(AggregateState& o, const uint32_t* t, size_t n) override {
    auto& x = static_cast<StringMinMaxState&>(o);
    for (size_t g = 0; g < n; g++) {
      if (!x.has_[g]) continue;
      uint32_t k = t[g];
      int c = has_[k] ? x.v_[g].compare(v_[k]) : 0;
      if (!has_[k] || (max_ ? c > 0 : c < 0)) { bytes_ += x.v_[g].size(); v_[k] = x.v_[g]; has_[k] = 1; }
    }
  }

 private:
  bool max_;
  std::vector<std::string> v_;
  std::vector<uint8_t> has_;
  size_t bytes_ = 0;
};

class BoolState final : public AggregateState {
 public:
  explicit BoolState(bool is_and) : and_(is_and) {}
  void resize(size_t n) override { v_.resize(n, and_); has_.resize(n, 0); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t*) override {
    const uint8_t* d = args[0].data<uint8_t>();
    for (size_t i = 0; i < n; i++) {
      if (args[0].is_null(i)) continue;
      has_[g[i]] = 1;
      v_[g[i]] = and_ ? (v_[g[i]] && d[i]) : (v_[g[i]] || d[i]);
    }
  }
  void finalize(Vector& out, size_t first, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      if (!has_[first + i]) out.set_null(i);
      else out.data<uint8_t>()[i] = v_[first + i];
    }
  }
  void clear(size_t g) override { has_[g] = 0; v_[g] = and_; }
  bool mergeable() const override { return true; }
  void combine(AggregateState& o, const uint32_t* t, size_t n) override {
    auto& x = static_cast<BoolState&>(o);
    for (size_t g = 0; g < n; g++) {
      if (!x.has_[g]) continue;
      uint32_t k = t[g];
      v_[k] = has_[k] ? (and_ ? (v_[k] && x.v_[g]) : (v_[k] || x.v_[g])) : x.v_[g];
      has_[k] = 1;
    }
  }
  size_t memory_bytes() const override { return v_.capacity() * 2; }
  bool save(std::string& out) const override { put_vec(out, v_); put_vec(out, has_); return true; }
  bool load(std::string_view& in) override { return get_vec(in, &v_) && get_vec(in, &has_); }

 private:
  bool and_;
  std::vector<uint8_t> v_, has_;
};

class StringAggState final : public AggregateState {
 public:
  void resize(size_t n) override { v_.resize(n); has_.resize(n, 0); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t*) override {
    for (size_t i = 0; i < n; i++) {
      if (args[0].is_null(i)) continue;
      uint32_t k = g[i];
      if (has_[k] && args[1].is_valid(i)) v_[k] += args[1].data<StringRef>()[i].view();
      auto s = args[0].data<StringRef>()[i].view();
      v_[k] += s;
      bytes_ += s.size();
      has_[k] = 1;
    }
  }
  void finalize(Vector& out, size_t first, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      if (!has_[first + i]) out.set_null(i);
      else out.data<StringRef>()[i] = out.add_string(v_[first + i]);
    }
  }
  void clear(size_t g) override { has_[g] = 0; v_[g].clear(); }
  size_t memory_bytes() const override { return v_.capacity() * 40 + bytes_; }

 private:
  std::vector<std::string> v_;
  std::vector<uint8_t> has_;
  size_t bytes_ = 0;
};

uint64_t mix64(uint64_t x) {
  x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
  return x;
}

// HyperLogLog with 2^12 registers per group (standard error ~1.6%).
class HllState final : public AggregateState {
 public:
  static constexpr int kP = 12;
  static constexpr size_t kM = size_t{1} << kP;
  void resize(size_t n) override { regs_.resize(n * kM, 0); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t*) override {
    std::vector<const Vector*> cols{&args[0]};
    encode_keys(cols, n, {}, keys_);
    for (size_t i = 0; i < n; i++) {
      if (args[0].is_null(i)) continue;
      uint64_t h = mix64(std::hash<std::string>{}(keys_[i]));
      size_t idx = h >> (64 - kP);
      uint64_t rest = (h << kP) | (uint64_t{1} << (kP - 1));
      uint8_t rank = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
      uint8_t& r = regs_[g[i] * kM + idx];
      if (rank > r) r = rank;
    }
  }
  void finalize(Vector& out, size_t first, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      const uint8_t* r = &regs_[(first + i) * kM];
      double sum = 0;
      size_t zeros = 0;
      for (size_t k = 0; k < kM; k++) { sum += std::ldexp(1.0, -r[k]); zeros += r[k] == 0; }
      double alpha = 0.7213 / (1 + 1.079 / kM);
      double e = alpha * kM * kM / sum;
      if (e <= 2.5 * kM && zeros) e = kM * std::log(static_cast<double>(kM) / zeros);
      out.data<int64_t>()[i] = static_cast<int64_t>(std::llround(e));
    }
  }
  void clear(size_t g) override { std::fill(regs_.begin() + g * kM, regs_.begin() + (g + 1) * kM, 0); }
  bool mergeable() const override { return true; }
  void combine(AggregateState& o, const uint32_t* t, size_t n) override {
    auto& x = static_cast<HllState&>(o);
    for (size_t g = 0; g < n; g++)
      for (size_t k = 0; k < kM; k++) regs_[t[g] * kM + k] = std::max(regs_[t[g] * kM + k], x.regs_[g * kM + k]);
  }
  size_t memory_bytes() const override { return regs_.capacity(); }

 private:
  std::vector<uint8_t> regs_;
  std::vector<std::string> keys_;
};

// percentile_cont (exact, linear interpolation); approx_percentile uses the same exact
// computation (documented).
class PercentileState final : public AggregateState {
 public:
  explicit PercentileState(double f) : f_(f) {}
  void resize(size_t n) override { v_.resize(n); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t*) override {
    const double* d = args[0].data<double>();
    for (size_t i = 0; i < n; i++)
      if (args[0].is_valid(i)) { v_[g[i]].push_back(d[i]); count_++; }
  }
  void finalize(Vector& out, size_t first, size_t n) override {
    for (size_t i = 0; i < n; i++) {
      auto& v = v_[first + i];
      if (v.empty()) { out.set_null(i); continue; }
      std::sort(v.begin(), v.end());
      double pos = f_ * static_cast<double>(v.size() - 1);
      size_t lo = static_cast<size_t>(std::floor(pos));
      size_t hi = std::min(lo + 1, v.size() - 1);
      out.data<double>()[i] = v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
    }
  }
  void clear(size_t g) override { v_[g].clear(); }
  size_t memory_bytes() const override { return v_.capacity() * 24 + count_ * 8; }

 private:
  double f_;
  std::vector<std::vector<double>> v_;
  size_t count_ = 0;
};

// DISTINCT wrapper: passes on only the first occurrence of each (group, value).
class DistinctState final : public AggregateState {
 public:
  explicit DistinctState(std::unique_ptr<AggregateState> inner) : inner_(std::move(inner)) {}
  void resize(size_t n) override { inner_->resize(n); }
  void update(std::vector<Vector>& args, const uint32_t* g, size_t n, const int8_t*) override {
    std::vector<const Vector*> cols{&args[0]};
    encode_keys(cols, n, {}, keys_);
    std::vector<uint32_t> sel, groups;
    for (size_t i = 0; i < n; i++) {
      if (args[0].is_null(i)) continue;
      std::string k(reinterpret_cast<const char*>(&g[i]), 4);
      k += keys_[i];
      if (seen_.insert(std::move(k)).second) { sel.push_back(static_cast<uint32_t>(i)); groups.push_back(g[i]); bytes_ += keys_[i].size() + 40; }
    }
    if (sel.empty()) return;
    std::vector<Vector> sub;
    for (auto& a : args) {
      sub.emplace_back(a.type(), std::max<size_t>(a.capacity(), 1));
      sub.back().gather(a, sel.data(), sel.size());
    }
    inner_->update(sub, groups.data(), sel.size(), nullptr);
  }
  void finalize(Vector& out, size_t first, size_t n) override { inner_->finalize(out, first, n); }
  void clear(size_t g) override {
    inner_->clear(g);
    std::string prefix(reinterpret_cast<const char*>(&g), 4);
    for (auto it = seen_.begin(); it != seen_.end();) {
      if (it->compare(0, 4, prefix) == 0) it = seen_.erase(it);
      else ++it;
    }
  }
  size_t memory_bytes() const override { return inner_->memory_bytes() + bytes_; }
  bool save(std::string& out) const override {
    std::vector<std::string> seen(seen_.begin(), seen_.end());
    std::sort(seen.begin(), seen.end());
    put_strs(out, seen);
    return inner_->save(out);
  }
  bool load(std::string_view& in) override {
    std::vector<std::string> seen;
    if (!get_strs(in, &seen)) return false;
    seen_ = std::unordered_set<std::string>(seen.begin(), seen.end());
    bytes_ = 0;
    for (auto& k : seen_) bytes_ += k.size() + 36;
    return inner_->load(in);
  }

 private:
  std::unique_ptr<AggregateState> inner_;
  std::unordered_set<std::string> seen_;
  std::vector<std::string> keys_;
  size_t bytes_ = 0;
};

}  // namespace

void AggregateState::update_single(std::vector<Vector>& args, size_t n, const int8_t* signs) {
  thread_local std::vector<uint32_t> zeros;
  if (zeros.size() < n) zeros.assign(n, 0);
  update(args, zeros.data(), n, signs);
}

void AggregateState::combine(AggregateState&, const uint32_t*, size_t) {
  throw InternalError("aggregate state cannot be combined");
}

bool is_aggregate_function(const std::string& name) {
  static const char* names[] = {"count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every",
                                "string_agg", "approx_count_distinct", "percentile_cont",
                                "approx_percentile", "mean"};
  for (auto* n : names)
    if (name == n) return true;
  return false;
}

bool resolve_aggregate(const std::string& name, const std::vector<LogicalType>& args,
                       AggregateSignature* out, std::string* error) {
  auto fail = [&]() {
    std::string sig;
    for (size_t i = 0; i < args.size(); i++) sig += (i ? ", " : "") + args[i].to_string();
    *error = "function " + name + "(" + sig + ") does not exist";
    return false;
  };
  LogicalType a0 = args.empty() ? LogicalType() : (args[0].id == T::kNull ? LogicalType(T::kVarchar) : args[0]);
  if (name == "count") {
    if (args.empty()) { *out = {AggKind::kCountStar, T::kBigInt, {}}; return true; }
    if (args.size() != 1) return fail();
    *out = {AggKind::kCount, T::kBigInt, {a0}};
    return true;
  }
  if (args.size() != 1 && name != "string_agg" && name != "percentile_cont" && name != "approx_percentile") return fail();
  if (name == "sum" || name == "avg" || name == "mean") {
    bool avg = name != "sum";
    if (args[0].id == T::kNull) a0 = T::kBigInt;
    if (a0.id == T::kInterval) { *out = {avg ? AggKind::kAvg : AggKind::kSum, T::kInterval, {a0}}; return true; }
    if (!a0.is_numeric_family()) return fail();
    LogicalType r;
    if (avg) r = T::kDouble;
    else if (a0.is_integer()) r = T::kBigInt;
    else if (a0.id == T::kNumeric) r = LogicalType::numeric(18, a0.scale);
    else r = a0.id == T::kReal ? LogicalType(T::kReal) : LogicalType(T::kDouble);
    *out = {avg ? AggKind::kAvg : AggKind::kSum, r, {a0}};
    return true;
  }
  if (name == "min" || name == "max") {
    *out = {name == "min" ? AggKind::kMin : AggKind::kMax, a0, {a0}};
    return true;
  }
  if (name == "bool_and" || name == "bool_or" || name == "every") {
    if (a0.id != T::kBoolean && args[0].id != T::kNull) return fail();
    *out = {name == "bool_or" ? AggKind::kBoolOr : AggKind::kBoolAnd, T::kBoolean, {T::kBoolean}};
    return true;
  }
  if (name == "string_agg") {
    if (args.size() != 2) return fail();
    *out = {AggKind::kStringAgg, T::kVarchar, {T::kVarchar, T::kVarchar}};
    return true;
  }
  if (name == "approx_count_distinct") {
    *out = {AggKind::kApproxCountDistinct, T::kBigInt, {a0}};
    return true;
  }
  if (name == "percentile_cont" || name == "approx_percentile") {
    // percentile_cont(fraction) WITHIN GROUP (ORDER BY x) arrives as (x, fraction);
    // approx_percentile(x, fraction) too.
    if (args.size() != 2 || !(args[0].is_numeric_family() || args[0].id == T::kNull)) return fail();
    *out = {name == "percentile_cont" ? AggKind::kPercentileCont : AggKind::kApproxPercentile, T::kDouble,
            {T::kDouble, T::kDouble}};
    return true;
  }
  *error = "function " + name + " does not exist";
  return false;
}

std::unique_ptr<AggregateState> make_aggregate_state(const AggregateSignature& sig, bool distinct, double fraction) {
  std::unique_ptr<AggregateState> s;
  LogicalType in = sig.arg_types.empty() ? LogicalType() : sig.arg_types[0];
  switch (sig.kind) {
    case AggKind::kCountStar: s = std::make_unique<CountState>(true); break;
    case AggKind::kCount: s = std::make_unique<CountState>(false); break;
    case AggKind::kSum: case AggKind::kAvg: {
      bool avg = sig.kind == AggKind::kAvg;
      switch (in.id) {
        case T::kSmallInt: s = std::make_unique<SumState<int16_t, int64_t>>(avg, in, sig.result); break;
        case T::kInteger: s = std::make_unique<SumState<int32_t, int64_t>>(avg, in, sig.result); break;
        case T::kBigInt: case T::kNumeric: s = std::make_unique<SumState<int64_t, int64_t>>(avg, in, sig.result); break;
        case T::kReal: s = std::make_unique<SumState<float, double>>(avg, in, sig.result); break;
        case T::kDouble: s = std::make_unique<SumState<double, double>>(avg, in, sig.result); break;
        case T::kInterval: s = std::make_unique<IntervalSumState>(avg); break;
        default: throw InternalError("sum over " + in.to_string());
      }
      break;
    }
    case AggKind::kMin: case AggKind::kMax: {
      bool max = sig.kind == AggKind::kMax;
      if (phys_type(in.id) == PhysType::kStr) { s = std::make_unique<StringMinMaxState>(max); break; }
      dispatch_phys(in.id, [&](auto tag) {
        using V = decltype(tag);
        if constexpr (!std::is_same_v<V, StringRef>) s = std::make_unique<MinMaxState<V>>(max);
      });
      break;
    }
    case AggKind::kBoolAnd: s = std::make_unique<BoolState>(true); break;
    case AggKind::kBoolOr: s = std::make_unique<BoolState>(false); break;
    case AggKind::kStringAgg: s = std::make_unique<StringAggState>(); break;
    case AggKind::kApproxCountDistinct: s = std::make_unique<HllState>(); break;
    case AggKind::kPercentileCont: case AggKind::kApproxPercentile:
      if (!(fraction >= 0 && fraction <= 1))
        throw SqlError(sqlstate::kInvalidParameter, "percentile value " + std::to_string(fraction) + " is not between 0 and 1");
      s = std::make_unique<PercentileState>(fraction);
      break;
  }
  if (distinct && sig.kind != AggKind::kCountStar) s = std::make_unique<DistinctState>(std::move(s));
  return s;
}

}  // namespace sl::exec
