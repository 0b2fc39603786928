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

// -- identities, whichever way the snapshot stores them ------------------------------
// Snapshot samples either hold name and labels as members or refer to an interned
// series identity (series_ref, made with ::make); these helpers compile against both,
// so the hostile values below need no change when the representation does.

/// Gives sample s the identity (name, ls).
template <class Sample>
void set_series(Sample& s, std::string name, labels ls, metric_kind kind) {
  if constexpr (requires { s.series; })
    s.series = decltype(s.series)::make(std::move(name), std::move(ls), kind);
  else {
    s.name = std::move(name);
    s.labels = std::move(ls);
  }
}

/// Gives family entry f the name and help (kind unchanged).
template <class Family>
void set_family(Family& f, std::string name, metric_kind kind, std::string help) {
  if constexpr (requires { f.help(); })
    f = Family::make(std::move(name), kind, std::move(help));
  else {
    f.name = std::move(name);
    f.kind = kind;
    f.help = std::move(help);
  }
}

template <class Sample>
const std::string& name_of(const Sample& s) {
  if constexpr (requires { s.name(); })
    return s.name();
  else
    return s.name;
}

template <class Sample>
const labels& labels_of(const Sample& s) {
  if constexpr (requires { s.labels(); })
    return s.labels();
  else
    return s.labels;
}

template <class Family>
const std::string& help_of(const Family& f) {
  if constexpr (requires { f.help(); })
    return f.help();
  else
    return f.help;
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
  const std::string bad_name = "bad_name\xff\n# TYPE injected counter\ninjected 1"; // still sorts first
  for (auto& f : s.families) {
    if (name_of(f) == "bad_name")
      set_family(f, bad_name, metric_kind::gauge, "");
    if (name_of(f) == "hostile_help")
      set_family(f, "hostile_help", metric_kind::gauge, all);
  }
  for (auto& g : s.gauges) {
    auto name = name_of(g);
    auto first_value = labels_of(g).empty() ? std::string{} : labels_of(g)[0].second;
    if (name == "bad_name")
      set_series(g, bad_name, {}, metric_kind::gauge);
    if (name == "hostile_key" && first_value == "1")
      set_series(g, name, {{"bad key\"} 1\n", "1"}}, metric_kind::gauge);
    if (name == "hostile_key" && first_value == "2")
      set_series(g, name, {{"k", "a"}, {"k", "b"}}, metric_kind::gauge);
    if (name == "hostile_value")
      set_series(g, name, {{"k", hostile_strings.at(static_cast<std::size_t>(g.current))}}, metric_kind::gauge);
  }
  set_series(s.histograms[0], "hostile_hist", {{"le", "1"}}, metric_kind::histogram);
  return s;
}

} // namespace metron::test
