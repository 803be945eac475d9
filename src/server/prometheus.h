// Prometheus text exposition format 0.0.4: a writer for metric families (HELP and TYPE
// lines, then samples), with label values escaped (\\, \", \n) and help text escaped
// (\\, \n). Names follow Prometheus's conventions: snake_case, the unit in the name
// (_seconds, _bytes), counters end in _total. Not thread-safe; one per scrape.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sl::server {

using PromLabels = std::vector<std::pair<std::string, std::string>>;

class PromWriter {
 public:
  // Starts a family: `type` is counter, gauge or untyped. Call once per name, before its
  // samples.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the current family (or of a family name with a suffix).
  void sample(std::string_view name, const PromLabels& labels, double value);
  void sample(std::string_view name, double value) { sample(name, {}, value); }
  const std::string& text() const { return out_; }

  // "a\"b" → a\\\"b as a label value is written (without the quotes).
  static std::string escape_label_value(std::string_view v);
  // A number as Prometheus reads it: integers without a fraction, NaN, +Inf, -Inf.
  static std::string format_value(double v);

 private:
  std::string out_;
};

}  // namespace sl::server
