// Strings and snapshots as a hostile or broken peer may send them: label values, help
// text, names and label keys that this process's registry would refuse. Exporters must
// still render them as output that parses (tests/json, tests/prometheus).
#pragma once

#include <string>
#include <vector>

#include "metron/metron.hpp"

namespace metron::test {

/// Every kind of invalid UTF-8, and valid strings that look like their repaired forms.
inline const std::vector<std::string> hostile_strings = {
  "\x80",               // a lone continuation byte
  "\xff",               // a byte that never occurs in UTF-8
  "\xC0\xAF",           // an overlong '/'
  "\xED\xA0\x80",       // a UTF-16 surrogate
  "\xF4\x90\x80\x80",   // past U+10FFFF
  "\xE2\x9C",           // truncated at the end
  "\xE2\x9C" "a",       // truncated before ASCII
  "\xEF\xBF\xBD",       // U+FFFD itself
  "\xEF\xBF\xBD" "ff",  // U+FFFD then "ff": what 0xFF would become if U+FFFD were kept
  "\xEF\xBF\xBD" "80",
  "ff", "", "\xE2\x9C\x93", // plain, empty, a valid check mark
};

/// p + s (spelled out: g++ 12 warns falsely, -Wrestrict, on "literal" + string).
inline std::string prefixed(const char* p, const std::string& s) {
  std::string out{p};
  out.append(s);
  return out;
}

/// A snapshot holding:
/// - gauge hostile_value, one series per hostile string as the value of label k, the
///   gauge's value being the string's index;
/// - gauge hostile_help, its help every hostile string joined;
/// - a gauge family whose name is not a valid metric name (starts "bad_name");
/// - gauge hostile_key with a series whose key is invalid and one with a repeated key;
/// - histogram hostile_hist whose only series has a label "le".
inline snapshot hostile_snapshot() {
  registry reg;
  reg.gauge("bad_name").set(1);
  reg.gauge("hostile_help", {}, "help").set(2);
  reg.gauge("hostile_key", {{"k", "1"}}).set(3);
  reg.gauge("hostile_key", {{"k", "2"}}).set(4);
  reg.histogram("hostile_hist", {{"x", "1"}}).record(1);
  for (std::size_t i = 0; i < hostile_strings.size(); ++i)
    reg.gauge("hostile_value", {{"k", prefixed("v", std::to_string(i))}}).set(static_cast<double>(i));
  auto s = reg.snapshot();
  std::string all;
  for (auto& h : hostile_strings)
    all += h;
  for (auto& f : s.families) {
    if (f.name == "bad_name")
      f.name = "bad_name\xff\n# TYPE injected counter\ninjected 1";
    if (f.name == "hostile_help")
      f.help = all;
  }
  for (auto& g : s.gauges) {
    if (g.name == "bad_name")
      g.name = "bad_name\xff\n# TYPE injected counter\ninjected 1"; // still sorts first
    if (g.name == "hostile_key" && g.labels[0].second == "1")
      g.labels = {{"bad key\"} 1\n", "1"}};
    if (g.name == "hostile_key" && g.labels[0].second == "2")
      g.labels = {{"k", "a"}, {"k", "b"}};
    if (g.name == "hostile_value")
      g.labels[0].second = hostile_strings.at(static_cast<std::size_t>(g.current));
  }
  s.histograms[0].labels = {{"le", "1"}};
  return s;
}

} // namespace metron::test
