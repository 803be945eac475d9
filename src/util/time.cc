#include "util/time.h"

#include <chrono>
#include <cstdio>

namespace sl {

int64_t now_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t mono_nanos() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

SystemClock& SystemClock::instance() {
  static SystemClock c;
  return c;
}

// Howard Hinnant's civil-date algorithms.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

std::string format_iso8601_ms(int64_t ms) {
  int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
  int64_t rem = ms - days * 86400000;
  int64_t y;
  unsigned mo, d;
  civil_from_days(days, &y, &mo, &d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), mo, d, static_cast<long long>(rem / 3600000),
                static_cast<long long>(rem / 60000 % 60), static_cast<long long>(rem / 1000 % 60),
                static_cast<long long>(rem % 1000));
  return buf;
}

bool parse_iso8601_ms(const std::string& s, int64_t* out) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  const char* p = s.c_str();
  int n = 0;
  if (std::sscanf(p, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) return false;
  p += n;
  int64_t frac_ms = 0;
  if (*p == 'T' || *p == ' ') {
    p++;
    if (std::sscanf(p, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3) return false;
    p += n;
    if (*p == '.') {
      p++;
      int digits = 0;
      while (*p >= '0' && *p <= '9') {
        if (digits < 3) frac_ms = frac_ms * 10 + (*p - '0');
        digits++;
        p++;
      }
      for (; digits < 3; digits++) frac_ms *= 10;
    }
  }
  int64_t offset_min = 0;
  if (*p == 'Z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1;
    int oh = 0, om = 0;
    p++;
    if (std::sscanf(p, "%2d:%2d%n", &oh, &om, &n) == 2) p += n;
    else if (std::sscanf(p, "%2d%n", &oh, &n) == 1) p += n;
    else return false;
    offset_min = sign * (oh * 60 + om);
  }
  if (*p != 0) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  *out = ((days * 24 + h) * 60 + mi - offset_min) * 60000 + sec * 1000LL + frac_ms;
  return true;
}

}  // namespace sl
