#include "exec/expression.h"

#include <algorithm>
#include <cmath>

#include "exec/error.h"
#include "exec/kernels.h"
#include "util/time.h"

namespace sl::exec {

DataChunk gather_chunk(const DataChunk& in, const std::vector<uint32_t>& sel) {
  DataChunk out(in.types(), std::max<size_t>(in.capacity(), 1));
  for (size_t c = 0; c < in.column_count(); c++)
    out.column(c).gather(in.column(c), sel.data(), sel.size());
  out.set_size(sel.size());
  return out;
}

void scatter(const Vector& part, const std::vector<uint32_t>& sel, Vector& out) {
  out.share_heaps(part);
  for (size_t k = 0; k < sel.size(); k++) out.copy_value(part, k, sel[k]);
}

// ---- leaves --------------------------------------------------------------------------

void ColumnExpr::eval(const DataChunk& in, Vector& out, ExecContext&) const {
  out.reference(in.column(index));
}

void ConstantExpr::eval(const DataChunk& in, Vector& out, ExecContext&) const {
  out.reset();
  size_t n = in.size();
  if (value.is_null) {
    for (size_t i = 0; i < n; i++) out.set_null(i);
    return;
  }
  if (n == 0) return;
  value.write(out, 0);
  dispatch_phys(type_.id, [&](auto tag) {
    using T = decltype(tag);
    T* d = out.data<T>();
    const T v = d[0];
    for (size_t i = 1; i < n; i++) d[i] = v;
  });
}

std::string ConstantExpr::to_string() const {
  if (value.is_null) return "NULL";
  if (value.type.id == TypeId::kVarchar) return "'" + value.s + "'";
  return value.to_string();
}

void ParameterExpr::eval(const DataChunk& in, Vector& out, ExecContext& ctx) const {
  if (!slots || static_cast<size_t>(index) >= slots->size())
    throw SqlError(sqlstate::kUndefinedParameter, "no value bound for parameter $" + std::to_string(index + 1));
  ConstantExpr((*slots)[index]).eval(in, out, ctx);
}

ExprPtr make_column(size_t index, LogicalType type, std::string name) {
  return std::make_unique<ColumnExpr>(index, type, std::move(name));
}
ExprPtr make_constant(Value v) { return std::make_unique<ConstantExpr>(std::move(v)); }

// ---- casts ---------------------------------------------------------------------------

namespace {

template <class T>
double to_double(T v) {
  if constexpr (std::is_same_v<T, StringRef> || std::is_same_v<T, Interval>) return 0;
  else return static_cast<double>(v);
}

int64_t round_div(__int128 v, int64_t d) {  // half away from zero
  __int128 q = v / d, r = v % d;
  if (2 * (r < 0 ? -r : r) >= d) q += v < 0 ? -1 : 1;
  if (q > INT64_MAX || q < INT64_MIN) throw_overflow("numeric");
  return static_cast<int64_t>(q);
}

int64_t rescale(int64_t v, int from_scale, int to_scale, int precision) {
  __int128 r;
  if (to_scale >= from_scale) {
    r = static_cast<__int128>(v) * pow10_i64(to_scale - from_scale);
  } else {
    r = round_div(v, pow10_i64(from_scale - to_scale));
  }
  __int128 lim = pow10_i64(std::min(precision, 18));
  if (precision >= 19) lim = static_cast<__int128>(INT64_MAX);
  if (r >= lim || r <= -lim)
    throw SqlError(sqlstate::kNumericOutOfRange, "numeric field overflow");
  return static_cast<int64_t>(r);
}

template <class T>
void int_range_check(int64_t v, const char* name) {
  if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) throw_overflow(name);
}

class CastExpr final : public Expr {
 public:
  CastExpr(ExprPtr child, LogicalType to) : Expr(ExprKind::kCast, to), child_(std::move(child)) {}
  std::string to_string() const override {
    return "CAST(" + child_->to_string() + " AS " + type_.to_string() + ")";
  }
  ExprPtr clone() const override { return std::make_unique<CastExpr>(child_->clone(), type_); }
  std::vector<ExprPtr*> children() override { return {&child_}; }

  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    Vector src(child_->type(), std::max<size_t>(in.capacity(), 1));
    child_->eval(in, src, ctx);
    out.reset();
    cast_vector(src, out, in.size());
  }

  static void cast_vector(const Vector& src, Vector& out, size_t n) {
    LogicalType from = src.type(), to = out.type();
    if (from == to || from.id == TypeId::kNull) {
      if (from.id == TypeId::kNull) { for (size_t i = 0; i < n; i++) out.set_null(i); return; }
      out.copy_range(src, 0, n, 0);
      return;
    }
    // to text
    if (to.id == TypeId::kVarchar) {
      StringRef* od = out.data<StringRef>();
      std::string s;
      for (size_t i = 0; i < n; i++) {
        if (src.is_null(i)) { out.set_null(i); continue; }
        s.clear();
        if (from.id == TypeId::kBoolean) s = src.data<uint8_t>()[i] ? "true" : "false";
        else format_value(src, i, s);
        od[i] = out.add_string(s);
      }
      return;
    }
    // from text
    if (from.id == TypeId::kVarchar) {
      for (size_t i = 0; i < n; i++) {
        if (src.is_null(i)) { out.set_null(i); continue; }
        parse_value(src.data<StringRef>()[i].view(), to).write(out, i);
      }
      return;
    }
    if (from.id == TypeId::kBytea || to.id == TypeId::kBytea || from.id == TypeId::kInterval ||
        to.id == TypeId::kInterval)
      throw SqlError(sqlstate::kDatatypeMismatch,
                     "cannot cast type " + from.to_string() + " to " + to.to_string());
    // temporal
    if (from.is_temporal() || to.is_temporal()) {
      auto get_us = [&](size_t i) -> int64_t {
        if (from.id == TypeId::kDate) return static_cast<int64_t>(src.data<int32_t>()[i]) * kMicrosPerDay;
        return src.data<int64_t>()[i];
      };
      if (!from.is_temporal() || !to.is_temporal())
        throw SqlError(sqlstate::kDatatypeMismatch,
                       "cannot cast type " + from.to_string() + " to " + to.to_string());
      for (size_t i = 0; i < n; i++) {
        if (src.is_null(i)) { out.set_null(i); continue; }
        int64_t us = get_us(i);
        if (to.id == TypeId::kDate) {
          int64_t d = us / kMicrosPerDay - ((us % kMicrosPerDay) < 0);
          out.data<int32_t>()[i] = static_cast<int32_t>(d);
        } else {
          out.data<int64_t>()[i] = us;
        }
      }
      return;
    }
    // numeric family and boolean
    dispatch_phys(from.id, [&](auto ftag) {
      using F = decltype(ftag);
      if constexpr (std::is_same_v<F, StringRef> || std::is_same_v<F, Interval>) {
        return;
      } else {
        const F* sd = src.data<F>();
        for (size_t i = 0; i < n; i++) {
          if (src.is_null(i)) { out.set_null(i); continue; }
          F v = sd[i];
          // Normalize the source to either an exact scaled integer or a double.
          bool exact = !std::is_floating_point_v<F>;
          int64_t iv = 0;
          int iscale = 0;
          double dv = 0;
          if constexpr (std::is_floating_point_v<F>) dv = v;
          else { iv = static_cast<int64_t>(v); if (from.id == TypeId::kNumeric) iscale = from.scale; }
          switch (to.id) {
            case TypeId::kBoolean:
              out.data<uint8_t>()[i] = exact ? iv != 0 : dv != 0;
              break;
            case TypeId::kSmallInt: case TypeId::kInteger: case TypeId::kBigInt: {
              int64_t r;
              if (exact) {
                r = iscale ? round_div(iv, pow10_i64(iscale)) : iv;
              } else {
                double x = std::nearbyint(dv);
                if (!(x >= -9.2233720368547758e18 && x < 9.2233720368547758e18)) throw_overflow(to.to_string().c_str());
                r = static_cast<int64_t>(x);
              }
              if (to.id == TypeId::kSmallInt) { int_range_check<int16_t>(r, "smallint"); out.data<int16_t>()[i] = static_cast<int16_t>(r); }
              else if (to.id == TypeId::kInteger) { int_range_check<int32_t>(r, "integer"); out.data<int32_t>()[i] = static_cast<int32_t>(r); }
              else out.data<int64_t>()[i] = r;
              break;
            }
            case TypeId::kReal: case TypeId::kDouble: {
              double x = exact ? static_cast<double>(iv) / static_cast<double>(pow10_i64(iscale)) : dv;
              if (to.id == TypeId::kReal) out.data<float>()[i] = static_cast<float>(x);
              else out.data<double>()[i] = x;
              break;
            }
            case TypeId::kNumeric: {
              int64_t r;
              if (exact) {
                r = rescale(iv, iscale, to.scale, to.precision);
              } else {
                if (std::isnan(dv) || std::isinf(dv)) throw SqlError(sqlstate::kNumericOutOfRange, "numeric field overflow");
                double x = std::round(dv * static_cast<double>(pow10_i64(to.scale)));
                if (std::fabs(x) >= static_cast<double>(pow10_i64(std::min<int>(to.precision, 18))))
                  throw SqlError(sqlstate::kNumericOutOfRange, "numeric field overflow");
                r = static_cast<int64_t>(x);
              }
              out.data<int64_t>()[i] = r;
              break;
            }
            default:
              throw SqlError(sqlstate::kDatatypeMismatch,
                             "cannot cast type " + from.to_string() + " to " + to.to_string());
          }
        }
      }
    });
  }

 private:
  ExprPtr child_;
};

}  // namespace

bool can_cast(LogicalType from, LogicalType to) {
  if (from == to || from.id == TypeId::kNull) return true;
  if (from.id == TypeId::kVarchar || to.id == TypeId::kVarchar) return true;
  auto num = [](LogicalType t) { return t.is_numeric_family() || t.id == TypeId::kBoolean; };
  if (num(from) && num(to)) return true;
  if (from.is_temporal() && to.is_temporal()) return true;
  return false;
}

ExprPtr make_cast(ExprPtr e, LogicalType to) {
  if (e->type() == to) return e;
  if (!can_cast(e->type(), to))
    throw SqlError(sqlstate::kDatatypeMismatch,
                   "cannot cast type " + e->type().to_string() + " to " + to.to_string());
  return std::make_unique<CastExpr>(std::move(e), to);
}

LogicalType common_type(LogicalType a, LogicalType b) {
  if (a == b) return a;
  if (a.id == TypeId::kNull) return b;
  if (b.id == TypeId::kNull) return a;
  if (a.is_numeric_family() && b.is_numeric_family()) {
    if (a.is_float() || b.is_float())
      return (a.id == TypeId::kReal && b.id == TypeId::kReal) ? LogicalType(TypeId::kReal) : LogicalType(TypeId::kDouble);
    if (a.id == TypeId::kNumeric || b.id == TypeId::kNumeric) {
      auto digits = [](LogicalType t) -> std::pair<int, int> {
        if (t.id == TypeId::kNumeric) return {t.precision - t.scale, t.scale};
        if (t.id == TypeId::kSmallInt) return {5, 0};
        if (t.id == TypeId::kInteger) return {10, 0};
        return {18, 0};
      };
      auto [ia, sa] = digits(a);
      auto [ib, sb] = digits(b);
      int s = std::max(sa, sb);
      int p = std::min(18, std::max(ia, ib) + s);
      return LogicalType::numeric(p, s);
    }
    auto rank = [](TypeId t) { return t == TypeId::kSmallInt ? 0 : t == TypeId::kInteger ? 1 : 2; };
    return rank(a.id) >= rank(b.id) ? a : b;
  }
  if (a.is_temporal() && b.is_temporal()) {
    if (a.id == TypeId::kTimestampTz || b.id == TypeId::kTimestampTz) return TypeId::kTimestampTz;
    return TypeId::kTimestamp;
  }
  if (a.id == TypeId::kVarchar && b.id != TypeId::kVarchar) return b;  // literal coerces
  if (b.id == TypeId::kVarchar && a.id != TypeId::kVarchar) return a;
  return TypeId::kNull;
}

// ---- arithmetic ----------------------------------------------------------------------

namespace {

int64_t add_months_to_us(int64_t us, int32_t months) {
  if (!months) return us;
  int64_t days = us / kMicrosPerDay - ((us % kMicrosPerDay) < 0);
  int64_t rem = us - days * kMicrosPerDay;
  int64_t y; unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  int64_t total = y * 12 + (m - 1) + months;
  int64_t ny = total >= 0 ? total / 12 : (total - 11) / 12;
  unsigned nm = static_cast<unsigned>(total - ny * 12 + 1);
  static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  unsigned lim = dim[nm - 1];
  if (nm == 2 && ((ny % 4 == 0 && ny % 100 != 0) || ny % 400 == 0)) lim = 29;
  if (d > lim) d = lim;
  return days_from_civil(ny, nm, d) * kMicrosPerDay + rem;
}

}  // namespace

int64_t timestamp_add_interval(int64_t us, const Interval& iv, int sign) {
  int64_t r = add_months_to_us(us, sign * iv.months);
  return r + sign * (static_cast<int64_t>(iv.days) * kMicrosPerDay + iv.micros);
}

namespace {

class ArithExpr final : public Expr {
 public:
  ArithExpr(ArithOp op, ExprPtr l, ExprPtr r, LogicalType result)
      : Expr(ExprKind::kArith, result), op_(op), l_(std::move(l)), r_(std::move(r)) {}
  std::string to_string() const override {
    static const char* ops[] = {"+", "-", "*", "/", "%"};
    return "(" + l_->to_string() + " " + ops[static_cast<int>(op_)] + " " + r_->to_string() + ")";
  }
  ExprPtr clone() const override { return std::make_unique<ArithExpr>(op_, l_->clone(), r_->clone(), type_); }
  ArithOp op() const { return op_; }
  std::vector<ExprPtr*> children() override { return {&l_, &r_}; }

  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    size_t cap = std::max<size_t>(in.capacity(), 1);
    Vector a(l_->type(), cap), b(r_->type(), cap);
    l_->eval(in, a, ctx);
    r_->eval(in, b, ctx);
    out.reset();
    size_t n = in.size();
    TypeId lt = l_->type().id, rt = r_->type().id;
    // temporal combinations
    if (lt == TypeId::kDate && rt == TypeId::kDate) {
      binary_loop<int32_t, int32_t, int32_t>(a, b, out, n, [](int32_t x, int32_t y) { return x - y; });
      return;
    }
    if (lt == TypeId::kDate && (rt == TypeId::kInteger)) {
      int s = op_ == ArithOp::kSub ? -1 : 1;
      binary_loop<int32_t, int32_t, int32_t>(a, b, out, n, [s](int32_t x, int32_t y) {
        int32_t r;
        if (__builtin_add_overflow(x, s * y, &r)) throw SqlError(sqlstate::kDatetimeOverflow, "date out of range");
        return r;
      });
      return;
    }
    if ((lt == TypeId::kTimestamp || lt == TypeId::kTimestampTz || lt == TypeId::kDate) && rt == TypeId::kInterval) {
      int s = op_ == ArithOp::kSub ? -1 : 1;
      Vector ts(TypeId::kTimestamp, cap);
      const Vector* src = &a;
      if (lt == TypeId::kDate) {
        int64_t* d = ts.data<int64_t>();
        for (size_t i = 0; i < n; i++) { d[i] = int64_t{a.data<int32_t>()[i]} * kMicrosPerDay; ts.set_validity(i, a.is_valid(i)); }
        src = &ts;
      }
      binary_loop<int64_t, Interval, int64_t>(*src, b, out, n, [s](int64_t t, Interval iv) {
        return timestamp_add_interval(t, iv, s);
      });
      return;
    }
    if (lt == TypeId::kInterval && (rt == TypeId::kTimestamp || rt == TypeId::kTimestampTz)) {
      binary_loop<Interval, int64_t, int64_t>(a, b, out, n, [](Interval iv, int64_t t) {
        return timestamp_add_interval(t, iv, 1);
      });
      return;
    }
    if ((lt == TypeId::kTimestamp || lt == TypeId::kTimestampTz) && lt == rt) {
      binary_loop<int64_t, int64_t, Interval>(a, b, out, n, [](int64_t x, int64_t y) {
        Interval iv;
        int64_t d = x - y;
        iv.days = static_cast<int32_t>(d / kMicrosPerDay);
        iv.micros = d % kMicrosPerDay;
        return iv;
      });
      return;
    }
    if (lt == TypeId::kInterval && rt == TypeId::kInterval) {
      int s = op_ == ArithOp::kSub ? -1 : 1;
      binary_loop<Interval, Interval, Interval>(a, b, out, n, [s](Interval x, Interval y) {
        return Interval{x.months + s * y.months, x.days + s * y.days, x.micros + s * y.micros};
      });
      return;
    }
    if (lt == TypeId::kInterval && rt == TypeId::kDouble) {
      bool div = op_ == ArithOp::kDiv;
      binary_loop<Interval, double, Interval>(a, b, out, n, [div](Interval x, double f) {
        if (div) { if (f == 0) throw_div_zero(); f = 1 / f; }
        double months = x.months * f;
        int32_t m = static_cast<int32_t>(months);
        double days = x.days * f + (months - m) * 30;
        int32_t d = static_cast<int32_t>(days);
        int64_t us = static_cast<int64_t>(std::llround(x.micros * f + (days - d) * kMicrosPerDay));
        return Interval{m, d, us};
      });
      return;
    }
    switch (type_.id) {
      case TypeId::kSmallInt: int_op<int16_t>(a, b, out, n, "smallint"); return;
      case TypeId::kInteger: int_op<int32_t>(a, b, out, n, "integer"); return;
      case TypeId::kBigInt: int_op<int64_t>(a, b, out, n, "bigint"); return;
      case TypeId::kReal: float_op<float>(a, b, out, n); return;
      case TypeId::kDouble: float_op<double>(a, b, out, n); return;
      case TypeId::kNumeric: numeric_op(a, b, out, n); return;
      default:
        throw SqlError(sqlstate::kUndefinedFunction, "operator does not exist for " +
                       l_->type().to_string() + " and " + r_->type().to_string());
    }
  }

 private:
  template <class T>
  void int_op(const Vector& a, const Vector& b, Vector& out, size_t n, const char* name) const {
    switch (op_) {
      case ArithOp::kAdd:
        binary_loop<T, T, T>(a, b, out, n, [name](T x, T y) { T r; if (__builtin_add_overflow(x, y, &r)) throw_overflow(name); return r; });
        break;
      case ArithOp::kSub:
        binary_loop<T, T, T>(a, b, out, n, [name](T x, T y) { T r; if (__builtin_sub_overflow(x, y, &r)) throw_overflow(name); return r; });
        break;
      case ArithOp::kMul:
        binary_loop<T, T, T>(a, b, out, n, [name](T x, T y) { T r; if (__builtin_mul_overflow(x, y, &r)) throw_overflow(name); return r; });
        break;
      case ArithOp::kDiv:
        binary_loop<T, T, T>(a, b, out, n, [name](T x, T y) -> T {
          if (y == 0) throw_div_zero();
          if (y == -1) { T r; if (__builtin_sub_overflow(T(0), x, &r)) throw_overflow(name); return r; }
          return static_cast<T>(x / y);
        });
        break;
      case ArithOp::kMod:
        binary_loop<T, T, T>(a, b, out, n, [](T x, T y) -> T {
          if (y == 0) throw_div_zero();
          if (y == -1) return 0;
          return static_cast<T>(x % y);
        });
        break;
    }
  }
  template <class T>
  void float_op(const Vector& a, const Vector& b, Vector& out, size_t n) const {
    auto chk = [](T r, T x, T y) {
      if (std::isinf(r) && !std::isinf(x) && !std::isinf(y)) throw_overflow("double precision");
      return r;
    };
    switch (op_) {
      case ArithOp::kAdd: binary_loop<T, T, T>(a, b, out, n, [&](T x, T y) { return chk(x + y, x, y); }); break;
      case ArithOp::kSub: binary_loop<T, T, T>(a, b, out, n, [&](T x, T y) { return chk(x - y, x, y); }); break;
      case ArithOp::kMul: binary_loop<T, T, T>(a, b, out, n, [&](T x, T y) { return chk(x * y, x, y); }); break;
      case ArithOp::kDiv:
        binary_loop<T, T, T>(a, b, out, n, [](T x, T y) { if (y == 0) throw_div_zero(); return x / y; });
        break;
      case ArithOp::kMod:
        binary_loop<T, T, T>(a, b, out, n, [](T x, T y) { if (y == 0) throw_div_zero(); return std::fmod(x, y); });
        break;
    }
  }
  void numeric_op(const Vector& a, const Vector& b, Vector& out, size_t n) const {
    int sa = l_->type().scale, sb = r_->type().scale, rs = type_.scale, p = type_.precision;
    switch (op_) {
      case ArithOp::kAdd: case ArithOp::kSub: {
        int s = op_ == ArithOp::kSub ? -1 : 1;
        binary_loop<int64_t, int64_t, int64_t>(a, b, out, n, [=](int64_t x, int64_t y) {
          __int128 r = static_cast<__int128>(x) * pow10_i64(rs - sa) + s * static_cast<__int128>(y) * pow10_i64(rs - sb);
          if (r >= pow10_i64(p) || r <= -pow10_i64(p)) throw SqlError(sqlstate::kNumericOutOfRange, "numeric field overflow");
          return static_cast<int64_t>(r);
        });
        break;
      }
      case ArithOp::kMul:
        binary_loop<int64_t, int64_t, int64_t>(a, b, out, n, [=](int64_t x, int64_t y) {
          __int128 r = static_cast<__int128>(x) * y;  // scale sa+sb
          int from = sa + sb;
          __int128 q = from >= rs ? r / pow10_i64(from - rs) : r * pow10_i64(rs - from);
          if (from > rs) {
            __int128 rem = r % pow10_i64(from - rs);
            if (2 * (rem < 0 ? -rem : rem) >= pow10_i64(from - rs)) q += r < 0 ? -1 : 1;
          }
          if (q >= pow10_i64(p) || q <= -pow10_i64(p)) throw SqlError(sqlstate::kNumericOutOfRange, "numeric field overflow");
          return static_cast<int64_t>(q);
        });
        break;
      case ArithOp::kDiv: case ArithOp::kMod:
        binary_loop<int64_t, int64_t, int64_t>(a, b, out, n, [=, this](int64_t x, int64_t y) {
          if (y == 0) throw_div_zero();
          if (op_ == ArithOp::kMod) {
            // both at common scale
            __int128 xx = static_cast<__int128>(x) * pow10_i64(rs - sa), yy = static_cast<__int128>(y) * pow10_i64(rs - sb);
            return static_cast<int64_t>(xx % yy);
          }
          // x/10^sa / (y/10^sb) * 10^rs = x * 10^(rs + sb - sa) / y
          int e = rs + sb - sa;
          __int128 num = static_cast<__int128>(x);
          if (e >= 0) num *= static_cast<__int128>(pow10_i64(std::min(e, 18))) * (e > 18 ? pow10_i64(e - 18) : 1);
          __int128 q = num / y, rem = num % y;
          if (e < 0) { q = num / (static_cast<__int128>(y) * pow10_i64(-e)); rem = 0; }
          if (2 * (rem < 0 ? -rem : rem) >= (y < 0 ? -static_cast<__int128>(y) : y)) q += ((num < 0) != (y < 0)) ? -1 : 1;
          if (q >= pow10_i64(p) || q <= -pow10_i64(p)) throw SqlError(sqlstate::kNumericOutOfRange, "numeric field overflow");
          return static_cast<int64_t>(q);
        });
        break;
    }
  }

  ArithOp op_;
  ExprPtr l_, r_;
};

class NegateExpr final : public Expr {
 public:
  explicit NegateExpr(ExprPtr e) : Expr(ExprKind::kArith, e->type()), e_(std::move(e)) {}
  std::string to_string() const override { return "(-" + e_->to_string() + ")"; }
  ExprPtr clone() const override { return std::make_unique<NegateExpr>(e_->clone()); }
  std::vector<ExprPtr*> children() override { return {&e_}; }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    Vector a(type_, std::max<size_t>(in.capacity(), 1));
    e_->eval(in, a, ctx);
    out.reset();
    size_t n = in.size();
    switch (type_.id) {
      case TypeId::kSmallInt: neg<int16_t>(a, out, n); break;
      case TypeId::kInteger: neg<int32_t>(a, out, n); break;
      case TypeId::kBigInt: case TypeId::kNumeric: neg<int64_t>(a, out, n); break;
      case TypeId::kReal: unary_loop<float, float>(a, out, n, [](float x) { return -x; }); break;
      case TypeId::kDouble: unary_loop<double, double>(a, out, n, [](double x) { return -x; }); break;
      case TypeId::kInterval:
        unary_loop<Interval, Interval>(a, out, n, [](Interval x) { return Interval{-x.months, -x.days, -x.micros}; });
        break;
      default: throw SqlError(sqlstate::kUndefinedFunction, "operator does not exist: - " + type_.to_string());
    }
  }

 private:
  template <class T>
  static void neg(const Vector& a, Vector& out, size_t n) {
    unary_loop<T, T>(a, out, n, [](T x) { T r; if (__builtin_sub_overflow(T(0), x, &r)) throw_overflow("integer"); return r; });
  }
  ExprPtr e_;
};

// ---- comparison ----------------------------------------------------------------------

class CompareExpr final : public Expr {
 public:
  CompareExpr(CompareOp op, ExprPtr l, ExprPtr r)
      : Expr(ExprKind::kCompare, TypeId::kBoolean), op_(op), l_(std::move(l)), r_(std::move(r)) {}
  std::string to_string() const override {
    static const char* ops[] = {"=", "<>", "<", "<=", ">", ">=", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"};
    return "(" + l_->to_string() + " " + ops[static_cast<int>(op_)] + " " + r_->to_string() + ")";
  }
  ExprPtr clone() const override { return std::make_unique<CompareExpr>(op_, l_->clone(), r_->clone()); }
  bool is_eq() const { return op_ == CompareOp::kEq; }
  CompareOp op() const { return op_; }
  std::vector<ExprPtr*> children() override { return {&l_, &r_}; }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    if (op_ < CompareOp::kDistinct && l_->kind() == ExprKind::kColumn && r_->kind() == ExprKind::kConstant &&
        !static_cast<const ConstantExpr&>(*r_).value.is_null) {
      eval_column_constant(in.column(static_cast<const ColumnExpr&>(*l_).index), in.size(), out);
      return;
    }
    size_t cap = std::max<size_t>(in.capacity(), 1);
    Vector a(l_->type(), cap), b(r_->type(), cap);
    l_->eval(in, a, ctx);
    r_->eval(in, b, ctx);
    out.reset();
    size_t n = in.size();
    dispatch_phys(l_->type().id, [&](auto tag) {
      using T = decltype(tag);
      switch (op_) {
        case CompareOp::kEq: binary_loop<T, T, uint8_t>(a, b, out, n, [](const T& x, const T& y) { return cmp3(x, y) == 0; }); break;
        case CompareOp::kNe: binary_loop<T, T, uint8_t>(a, b, out, n, [](const T& x, const T& y) { return cmp3(x, y) != 0; }); break;
        case CompareOp::kLt: binary_loop<T, T, uint8_t>(a, b, out, n, [](const T& x, const T& y) { return cmp3(x, y) < 0; }); break;
        case CompareOp::kLe: binary_loop<T, T, uint8_t>(a, b, out, n, [](const T& x, const T& y) { return cmp3(x, y) <= 0; }); break;
        case CompareOp::kGt: binary_loop<T, T, uint8_t>(a, b, out, n, [](const T& x, const T& y) { return cmp3(x, y) > 0; }); break;
        case CompareOp::kGe: binary_loop<T, T, uint8_t>(a, b, out, n, [](const T& x, const T& y) { return cmp3(x, y) >= 0; }); break;
        case CompareOp::kDistinct: case CompareOp::kNotDistinct: {
          bool want_distinct = op_ == CompareOp::kDistinct;
          const T* ad = a.data<T>();
          const T* bd = b.data<T>();
          uint8_t* od = out.data<uint8_t>();
          for (size_t i = 0; i < n; i++) {
            bool an = a.is_null(i), bn = b.is_null(i);
            bool distinct = (an || bn) ? an != bn : cmp3(ad[i], bd[i]) != 0;
            od[i] = distinct == want_distinct;
          }
          break;
        }
      }
    });
  }

 private:
  // column <op> constant: one typed loop against the scalar, no vectors materialized.
  void eval_column_constant(const Vector& a, size_t n, Vector& out) const {
    out.reset();
    Vector one(r_->type(), 1);
    static_cast<const ConstantExpr&>(*r_).value.write(one, 0);
    dispatch_phys(l_->type().id, [&](auto tag) {
      using T = decltype(tag);
      const T c = one.data<T>()[0];
      const T* ad = a.data<T>();
      uint8_t* od = out.data<uint8_t>();
      auto loop = [&](auto pred) { for (size_t i = 0; i < n; i++) od[i] = pred(ad[i]); };
      if constexpr (std::is_integral_v<T>) {
        switch (op_) {
          case CompareOp::kEq: loop([c](T x) { return x == c; }); break;
          case CompareOp::kNe: loop([c](T x) { return x != c; }); break;
          case CompareOp::kLt: loop([c](T x) { return x < c; }); break;
          case CompareOp::kLe: loop([c](T x) { return x <= c; }); break;
          case CompareOp::kGt: loop([c](T x) { return x > c; }); break;
          case CompareOp::kGe: loop([c](T x) { return x >= c; }); break;
          default: break;
        }
      } else {
        switch (op_) {
          case CompareOp::kEq: loop([&c](const T& x) { return cmp3(x, c) == 0; }); break;
          case CompareOp::kNe: loop([&c](const T& x) { return cmp3(x, c) != 0; }); break;
          case CompareOp::kLt: loop([&c](const T& x) { return cmp3(x, c) < 0; }); break;
          case CompareOp::kLe: loop([&c](const T& x) { return cmp3(x, c) <= 0; }); break;
          case CompareOp::kGt: loop([&c](const T& x) { return cmp3(x, c) > 0; }); break;
          case CompareOp::kGe: loop([&c](const T& x) { return cmp3(x, c) >= 0; }); break;
          default: break;
        }
      }
    });
    if (!a.all_valid())
      for (size_t i = 0; i < n; i++)
        if (a.is_null(i)) out.set_null(i);
  }
  CompareOp op_;
  ExprPtr l_, r_;
};

// ---- boolean logic -------------------------------------------------------------------

class AndOrExpr final : public Expr {
 public:
  AndOrExpr(bool is_and, ExprPtr l, ExprPtr r)
      : Expr(is_and ? ExprKind::kAnd : ExprKind::kOr, TypeId::kBoolean), and_(is_and), l_(std::move(l)), r_(std::move(r)) {}
  std::string to_string() const override {
    return "(" + l_->to_string() + (and_ ? " AND " : " OR ") + r_->to_string() + ")";
  }
  ExprPtr clone() const override { return std::make_unique<AndOrExpr>(and_, l_->clone(), r_->clone()); }
  std::vector<ExprPtr*> children() override { return {&l_, &r_}; }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    size_t n = in.size();
    Vector a(TypeId::kBoolean, std::max<size_t>(in.capacity(), 1));
    l_->eval(in, a, ctx);
    out.reset();
    uint8_t* od = out.data<uint8_t>();
    const uint8_t* ad = a.data<uint8_t>();
    // Rows decided by the left side are not evaluated on the right (short circuit, so
    // "x <> 0 AND 1/x > 0" does not divide by zero).
    std::vector<uint32_t> rest;
    for (size_t i = 0; i < n; i++) {
      bool decided = a.is_valid(i) && (ad[i] != 0) != and_;
      if (decided) od[i] = !and_;
      else rest.push_back(static_cast<uint32_t>(i));
    }
    if (rest.empty()) return;
    Vector b(TypeId::kBoolean, std::max<size_t>(in.capacity(), 1));
    if (rest.size() == n) {
      r_->eval(in, b, ctx);
      for (size_t i = 0; i < n; i++) combine(a, i, b, i, out);
    } else {
      DataChunk sub = gather_chunk(in, rest);
      r_->eval(sub, b, ctx);
      for (size_t k = 0; k < rest.size(); k++) combine(a, rest[k], b, k, out);
    }
  }

 private:
  void combine(const Vector& a, size_t i, const Vector& b, size_t k, Vector& out) const {
    // left is NULL or the neutral value here
    bool bn = b.is_null(k);
    bool bv = !bn && b.data<uint8_t>()[k];
    bool an = a.is_null(i);
    if (!bn && bv != and_) { out.data<uint8_t>()[i] = !and_; return; }  // right decides
    if (an || bn) { out.set_null(i); return; }
    out.data<uint8_t>()[i] = and_;
  }
  bool and_;
  ExprPtr l_, r_;
};

class NotExpr final : public Expr {
 public:
  explicit NotExpr(ExprPtr e) : Expr(ExprKind::kNot, TypeId::kBoolean), e_(std::move(e)) {}
  std::string to_string() const override { return "(NOT " + e_->to_string() + ")"; }
  ExprPtr clone() const override { return std::make_unique<NotExpr>(e_->clone()); }
  std::vector<ExprPtr*> children() override { return {&e_}; }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    Vector a(TypeId::kBoolean, std::max<size_t>(in.capacity(), 1));
    e_->eval(in, a, ctx);
    out.reset();
    unary_loop<uint8_t, uint8_t>(a, out, in.size(), [](uint8_t x) -> uint8_t { return !x; });
  }

 private:
  ExprPtr e_;
};

class IsNullExpr final : public Expr {
 public:
  IsNullExpr(ExprPtr e, bool negate) : Expr(ExprKind::kIsNull, TypeId::kBoolean), e_(std::move(e)), negate_(negate) {}
  std::string to_string() const override { return "(" + e_->to_string() + (negate_ ? " IS NOT NULL)" : " IS NULL)"); }
  ExprPtr clone() const override { return std::make_unique<IsNullExpr>(e_->clone(), negate_); }
  std::vector<ExprPtr*> children() override { return {&e_}; }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    Vector a(e_->type(), std::max<size_t>(in.capacity(), 1));
    e_->eval(in, a, ctx);
    out.reset();
    uint8_t* od = out.data<uint8_t>();
    for (size_t i = 0; i < in.size(); i++) od[i] = a.is_null(i) != negate_;
  }

 private:
  ExprPtr e_;
  bool negate_;
};

class IsBoolExpr final : public Expr {
 public:
  IsBoolExpr(ExprPtr e, bool value, bool negate)
      : Expr(ExprKind::kIsNull, TypeId::kBoolean), e_(std::move(e)), value_(value), negate_(negate) {}
  std::string to_string() const override {
    return "(" + e_->to_string() + (negate_ ? " IS NOT " : " IS ") + (value_ ? "TRUE)" : "FALSE)");
  }
  ExprPtr clone() const override { return std::make_unique<IsBoolExpr>(e_->clone(), value_, negate_); }
  std::vector<ExprPtr*> children() override { return {&e_}; }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    Vector a(TypeId::kBoolean, std::max<size_t>(in.capacity(), 1));
    e_->eval(in, a, ctx);
    out.reset();
    uint8_t* od = out.data<uint8_t>();
    for (size_t i = 0; i < in.size(); i++) {
      bool is = a.is_valid(i) && (a.data<uint8_t>()[i] != 0) == value_;
      od[i] = is != negate_;
    }
  }

 private:
  ExprPtr e_;
  bool value_, negate_;
};

// ---- CASE / COALESCE / NULLIF -------------------------------------------------------

class CaseExpr final : public Expr {
 public:
  CaseExpr(std::vector<ExprPtr> w, std::vector<ExprPtr> t, ExprPtr e, LogicalType type)
      : Expr(ExprKind::kCase, type), whens_(std::move(w)), thens_(std::move(t)), else_(std::move(e)) {}
  std::string to_string() const override {
    std::string s = "CASE";
    for (size_t i = 0; i < whens_.size(); i++) s += " WHEN " + whens_[i]->to_string() + " THEN " + thens_[i]->to_string();
    if (else_) s += " ELSE " + else_->to_string();
    return s + " END";
  }
  ExprPtr clone() const override {
    std::vector<ExprPtr> w, t;
    for (auto& x : whens_) w.push_back(x->clone());
    for (auto& x : thens_) t.push_back(x->clone());
    return std::make_unique<CaseExpr>(std::move(w), std::move(t), else_ ? else_->clone() : nullptr, type_);
  }
  std::vector<ExprPtr*> children() override {
    std::vector<ExprPtr*> c;
    for (auto& x : whens_) c.push_back(&x);
    for (auto& x : thens_) c.push_back(&x);
    if (else_) c.push_back(&else_);
    return c;
  }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    size_t n = in.size(), cap = std::max<size_t>(in.capacity(), 1);
    out.reset();
    std::vector<uint32_t> rest(n);
    for (size_t i = 0; i < n; i++) rest[i] = static_cast<uint32_t>(i);
    for (size_t w = 0; w < whens_.size() && !rest.empty(); w++) {
      DataChunk sub = gather_chunk(in, rest);
      Vector cond(TypeId::kBoolean, cap);
      whens_[w]->eval(sub, cond, ctx);
      std::vector<uint32_t> hit_local, hit, miss;
      for (size_t k = 0; k < rest.size(); k++) {
        if (cond.is_valid(k) && cond.data<uint8_t>()[k]) { hit_local.push_back(static_cast<uint32_t>(k)); hit.push_back(rest[k]); }
        else miss.push_back(rest[k]);
      }
      if (!hit.empty()) {
        DataChunk hsub = gather_chunk(sub, hit_local);
        Vector r(type_, cap);
        thens_[w]->eval(hsub, r, ctx);
        scatter(r, hit, out);
      }
      rest = std::move(miss);
    }
    if (rest.empty()) return;
    if (else_) {
      DataChunk sub = gather_chunk(in, rest);
      Vector r(type_, cap);
      else_->eval(sub, r, ctx);
      scatter(r, rest, out);
    } else {
      for (auto i : rest) out.set_null(i);
    }
  }

 private:
  std::vector<ExprPtr> whens_, thens_;
  ExprPtr else_;
};

class CoalesceExpr final : public Expr {
 public:
  CoalesceExpr(std::vector<ExprPtr> args, LogicalType type) : Expr(ExprKind::kCoalesce, type), args_(std::move(args)) {}
  std::string to_string() const override {
    std::string s = "coalesce(";
    for (size_t i = 0; i < args_.size(); i++) s += (i ? ", " : "") + args_[i]->to_string();
    return s + ")";
  }
  ExprPtr clone() const override {
    std::vector<ExprPtr> a;
    for (auto& x : args_) a.push_back(x->clone());
    return std::make_unique<CoalesceExpr>(std::move(a), type_);
  }
  std::vector<ExprPtr*> children() override {
    std::vector<ExprPtr*> c;
    for (auto& x : args_) c.push_back(&x);
    return c;
  }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    size_t n = in.size(), cap = std::max<size_t>(in.capacity(), 1);
    out.reset();
    std::vector<uint32_t> rest(n);
    for (size_t i = 0; i < n; i++) rest[i] = static_cast<uint32_t>(i);
    for (auto& a : args_) {
      if (rest.empty()) break;
      DataChunk sub = gather_chunk(in, rest);
      Vector r(type_, cap);
      a->eval(sub, r, ctx);
      out.share_heaps(r);
      std::vector<uint32_t> miss;
      for (size_t k = 0; k < rest.size(); k++) {
        if (r.is_valid(k)) out.copy_value(r, k, rest[k]);
        else miss.push_back(rest[k]);
      }
      rest = std::move(miss);
    }
    for (auto i : rest) out.set_null(i);
  }

 private:
  std::vector<ExprPtr> args_;
};

class NullIfExpr final : public Expr {
 public:
  NullIfExpr(ExprPtr a, ExprPtr b) : Expr(ExprKind::kNullIf, a->type()), a_(std::move(a)), b_(std::move(b)) {}
  std::string to_string() const override { return "nullif(" + a_->to_string() + ", " + b_->to_string() + ")"; }
  ExprPtr clone() const override { return std::make_unique<NullIfExpr>(a_->clone(), b_->clone()); }
  std::vector<ExprPtr*> children() override { return {&a_, &b_}; }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    size_t cap = std::max<size_t>(in.capacity(), 1);
    Vector a(a_->type(), cap), b(b_->type(), cap);
    a_->eval(in, a, ctx);
    b_->eval(in, b, ctx);
    out.reset();
    out.copy_range(a, 0, in.size(), 0);
    dispatch_phys(type_.id, [&](auto tag) {
      using T = decltype(tag);
      for (size_t i = 0; i < in.size(); i++)
        if (a.is_valid(i) && b.is_valid(i) && cmp3(a.data<T>()[i], b.data<T>()[i]) == 0) out.set_null(i);
    });
  }

 private:
  ExprPtr a_, b_;
};

// ---- IN ------------------------------------------------------------------------------

class InListExpr final : public Expr {
 public:
  InListExpr(ExprPtr e, std::vector<ExprPtr> list, bool negate)
      : Expr(ExprKind::kInList, TypeId::kBoolean), e_(std::move(e)), list_(std::move(list)), negate_(negate) {}
  std::string to_string() const override {
    std::string s = "(" + e_->to_string() + (negate_ ? " NOT IN (" : " IN (");
    for (size_t i = 0; i < list_.size(); i++) s += (i ? ", " : "") + list_[i]->to_string();
    return s + "))";
  }
  ExprPtr clone() const override {
    std::vector<ExprPtr> l;
    for (auto& x : list_) l.push_back(x->clone());
    return std::make_unique<InListExpr>(e_->clone(), std::move(l), negate_);
  }
  std::vector<ExprPtr*> children() override {
    std::vector<ExprPtr*> c{&e_};
    for (auto& x : list_) c.push_back(&x);
    return c;
  }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    size_t n = in.size(), cap = std::max<size_t>(in.capacity(), 1);
    Vector a(e_->type(), cap);
    e_->eval(in, a, ctx);
    std::vector<uint8_t> found(n, 0), saw_null(n, 0);
    for (auto& item : list_) {
      Vector b(item->type(), cap);
      item->eval(in, b, ctx);
      dispatch_phys(e_->type().id, [&](auto tag) {
        using T = decltype(tag);
        for (size_t i = 0; i < n; i++) {
          if (b.is_null(i)) saw_null[i] = 1;
          else if (a.is_valid(i) && cmp3(a.data<T>()[i], b.data<T>()[i]) == 0) found[i] = 1;
        }
      });
    }
    out.reset();
    for (size_t i = 0; i < n; i++) {
      if (a.is_null(i) || (!found[i] && saw_null[i])) out.set_null(i);
      else out.data<uint8_t>()[i] = found[i] != negate_;
    }
  }

 private:
  ExprPtr e_;
  std::vector<ExprPtr> list_;
  bool negate_;
};

class InSetExpr final : public Expr {
 public:
  InSetExpr(ExprPtr e, std::vector<Value> set, bool negate)
      : Expr(ExprKind::kInList, TypeId::kBoolean), e_(std::move(e)), negate_(negate), values_(std::move(set)),
        set_(e_->type(), std::max<size_t>(values_.size(), 1)) {
    for (size_t i = 0; i < values_.size(); i++) {
      if (values_[i].is_null) { has_null_ = true; continue; }
      values_[i].write(set_, count_++);
    }
    dispatch_phys(e_->type().id, [&](auto tag) {
      using T = decltype(tag);
      T* d = set_.data<T>();
      std::sort(d, d + count_, [](const T& x, const T& y) { return cmp3(x, y) < 0; });
    });
  }
  std::string to_string() const override {
    return "(" + e_->to_string() + (negate_ ? " NOT IN " : " IN ") + "(<" + std::to_string(values_.size()) + " values>))";
  }
  ExprPtr clone() const override { return std::make_unique<InSetExpr>(e_->clone(), values_, negate_); }
  std::vector<ExprPtr*> children() override { return {&e_}; }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    size_t n = in.size();
    Vector a(e_->type(), std::max<size_t>(in.capacity(), 1));
    e_->eval(in, a, ctx);
    out.reset();
    dispatch_phys(e_->type().id, [&](auto tag) {
      using T = decltype(tag);
      const T* d = set_.data<T>();
      for (size_t i = 0; i < n; i++) {
        if (a.is_null(i)) { if (count_ || has_null_) out.set_null(i); else out.data<uint8_t>()[i] = negate_; continue; }
        const T& x = a.data<T>()[i];
        bool f = std::binary_search(d, d + count_, x, [](const T& p, const T& q) { return cmp3(p, q) < 0; });
        if (!f && has_null_) out.set_null(i);
        else out.data<uint8_t>()[i] = f != negate_;
      }
    });
  }

 private:
  ExprPtr e_;
  bool negate_;
  std::vector<Value> values_;
  Vector set_;
  size_t count_ = 0;
  bool has_null_ = false;
};

// ---- LIKE ----------------------------------------------------------------------------

bool like_match(std::string_view s, std::string_view p, char esc) {
  size_t si = 0, pi = 0, star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char c = p[pi];
      if (c == '%') { star_p = ++pi; star_s = si; continue; }
      if (c == esc && pi + 1 < p.size()) {
        if (p[pi + 1] == s[si]) { pi += 2; si++; continue; }
      } else if (c == '_' || c == s[si]) { pi++; si++; continue; }
    }
    if (star_p != std::string_view::npos) { pi = star_p; si = ++star_s; continue; }
    return false;
  }
  while (pi < p.size() && p[pi] == '%') pi++;
  return pi == p.size();
}

class LikeExpr final : public Expr {
 public:
  LikeExpr(ExprPtr e, ExprPtr p, bool ci, bool negate)
      : Expr(ExprKind::kLike, TypeId::kBoolean), e_(std::move(e)), p_(std::move(p)), ci_(ci), negate_(negate) {}
  std::string to_string() const override {
    return "(" + e_->to_string() + (negate_ ? " NOT" : "") + (ci_ ? " ILIKE " : " LIKE ") + p_->to_string() + ")";
  }
  ExprPtr clone() const override { return std::make_unique<LikeExpr>(e_->clone(), p_->clone(), ci_, negate_); }
  std::vector<ExprPtr*> children() override { return {&e_, &p_}; }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    size_t cap = std::max<size_t>(in.capacity(), 1);
    Vector a(TypeId::kVarchar, cap), b(TypeId::kVarchar, cap);
    e_->eval(in, a, ctx);
    p_->eval(in, b, ctx);
    out.reset();
    std::string ls, lp;
    binary_loop<StringRef, StringRef, uint8_t>(a, b, out, in.size(), [&](StringRef s, StringRef p) -> uint8_t {
      if (!ci_) return like_match(s.view(), p.view(), '\\') != negate_;
      ls.assign(s.view()); lp.assign(p.view());
      for (auto& c : ls) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      for (auto& c : lp) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      return like_match(ls, lp, '\\') != negate_;
    });
  }

 private:
  ExprPtr e_, p_;
  bool ci_, negate_;
};

// ---- functions -----------------------------------------------------------------------

class FunctionExpr final : public Expr {
 public:
  FunctionExpr(ScalarFunctionBinding b, std::vector<ExprPtr> args)
      : Expr(ExprKind::kFunction, b.result), b_(std::move(b)), args_(std::move(args)) {}
  std::string to_string() const override {
    std::string s = b_.name + "(";
    for (size_t i = 0; i < args_.size(); i++) s += (i ? ", " : "") + args_[i]->to_string();
    return s + ")";
  }
  ExprPtr clone() const override {
    std::vector<ExprPtr> a;
    for (auto& x : args_) a.push_back(x->clone());
    return std::make_unique<FunctionExpr>(b_, std::move(a));
  }
  std::vector<ExprPtr*> children() override {
    std::vector<ExprPtr*> c;
    for (auto& x : args_) c.push_back(&x);
    return c;
  }
  void eval(const DataChunk& in, Vector& out, ExecContext& ctx) const override {
    size_t cap = std::max<size_t>(in.capacity(), 1);
    std::vector<Vector> vals;
    vals.reserve(args_.size());
    for (auto& a : args_) {
      vals.emplace_back(a->type(), cap);
      a->eval(in, vals.back(), ctx);
    }
    out.reset();
    b_.kernel(vals, in.size(), out, ctx);
  }

 private:
  ScalarFunctionBinding b_;
  std::vector<ExprPtr> args_;
};

}  // namespace

ExprPtr make_arith(ArithOp op, ExprPtr l, ExprPtr r, LogicalType result) {
  return std::make_unique<ArithExpr>(op, std::move(l), std::move(r), result);
}
ExprPtr make_negate(ExprPtr e) { return std::make_unique<NegateExpr>(std::move(e)); }
ExprPtr make_compare(CompareOp op, ExprPtr l, ExprPtr r) {
  return std::make_unique<CompareExpr>(op, std::move(l), std::move(r));
}
ExprPtr make_and(ExprPtr l, ExprPtr r) { return std::make_unique<AndOrExpr>(true, std::move(l), std::move(r)); }
ExprPtr make_or(ExprPtr l, ExprPtr r) { return std::make_unique<AndOrExpr>(false, std::move(l), std::move(r)); }
ExprPtr make_not(ExprPtr e) { return std::make_unique<NotExpr>(std::move(e)); }
ExprPtr make_is_null(ExprPtr e, bool negate) { return std::make_unique<IsNullExpr>(std::move(e), negate); }
ExprPtr make_is_bool(ExprPtr e, bool value, bool negate) {
  return std::make_unique<IsBoolExpr>(std::move(e), value, negate);
}
ExprPtr make_case(std::vector<ExprPtr> w, std::vector<ExprPtr> t, ExprPtr e, LogicalType type) {
  return std::make_unique<CaseExpr>(std::move(w), std::move(t), std::move(e), type);
}
ExprPtr make_coalesce(std::vector<ExprPtr> args, LogicalType type) {
  return std::make_unique<CoalesceExpr>(std::move(args), type);
}
ExprPtr make_nullif(ExprPtr a, ExprPtr b) { return std::make_unique<NullIfExpr>(std::move(a), std::move(b)); }
ExprPtr make_in_list(ExprPtr e, std::vector<ExprPtr> list, bool negate) {
  return std::make_unique<InListExpr>(std::move(e), std::move(list), negate);
}
ExprPtr make_in_set(ExprPtr e, std::vector<Value> set, bool negate) {
  return std::make_unique<InSetExpr>(std::move(e), std::move(set), negate);
}
ExprPtr make_like(ExprPtr e, ExprPtr p, bool ci, bool negate) {
  return std::make_unique<LikeExpr>(std::move(e), std::move(p), ci, negate);
}
ExprPtr make_function(ScalarFunctionBinding b, std::vector<ExprPtr> args) {
  return std::make_unique<FunctionExpr>(std::move(b), std::move(args));
}

Value eval_constant(const Expr& e, ExecContext& ctx) {
  DataChunk one(std::vector<LogicalType>{}, 1);
  one.set_size(1);
  Vector out(e.type(), 1);
  e.eval(one, out, ctx);
  return Value::read(out, 0);
}

bool as_equality(Expr& e, ExprPtr** l, ExprPtr** r) {
  if (e.kind() != ExprKind::kCompare || e.to_string().find(" = ") == std::string::npos) return false;
  auto* c = dynamic_cast<CompareExpr*>(&e);
  if (!c || !c->is_eq()) return false;
  auto ch = c->children();
  *l = ch[0];
  *r = ch[1];
  return true;
}

bool as_comparison(Expr& e, CompareOp* op, ExprPtr** l, ExprPtr** r) {
  if (e.kind() != ExprKind::kCompare) return false;
  auto* c = dynamic_cast<CompareExpr*>(&e);
  if (!c) return false;
  auto ch = c->children();
  *op = c->op();
  *l = ch[0];
  *r = ch[1];
  return true;
}

bool as_arithmetic(Expr& e, ArithOp* op, ExprPtr** l, ExprPtr** r) {
  if (e.kind() != ExprKind::kArith) return false;
  auto* a = dynamic_cast<ArithExpr*>(&e);
  if (!a) return false;
  auto ch = a->children();
  *op = a->op();
  *l = ch[0];
  *r = ch[1];
  return true;
}

void split_and(ExprPtr e, std::vector<ExprPtr>& out) {
  if (e->kind() == ExprKind::kAnd) {
    auto ch = e->children();
    split_and(std::move(*ch[0]), out);
    split_and(std::move(*ch[1]), out);
    return;
  }
  out.push_back(std::move(e));
}

bool as_parameter(const Expr& e, int* index) {
  if (e.kind() != ExprKind::kParameter) return false;
  *index = static_cast<const ParameterExpr&>(e).index;
  return true;
}

void collect_columns(Expr& e, std::vector<ColumnExpr*>& out) {
  if (e.kind() == ExprKind::kColumn) out.push_back(static_cast<ColumnExpr*>(&e));
  for (auto* c : e.children()) collect_columns(**c, out);
}

bool is_constant_expr(Expr& e) {
  if (e.kind() == ExprKind::kColumn || e.kind() == ExprKind::kParameter) return false;
  if (e.kind() == ExprKind::kFunction && e.to_string().rfind("random(", 0) == 0) return false;
  for (auto* c : e.children())
    if (!is_constant_expr(**c)) return false;
  return true;
}

}  // namespace sl::exec
