// metron/json.hpp — a report (or a bare snapshot) as JSON, for logs, scripts and
// GET /metrics.json.
//
// Shape (every metric of the report's raw snapshot; keys always present unless noted):
//   { "sequence": 7, "wall_ns": ..., "mono_ns": ..., "interval_seconds": 0.1,
//     "counters":        [ {"name", "help", "labels": {k: v}, "value", "rate", "windows": [W]} ],
//     "updown_counters": [ {"name", "help", "labels", "value"} ],
//     "gauges":          [ {"name", "help", "labels", "value"} ],
//     "histograms":      [ {"name", "help", "labels", "count", "sum", "min", "max", "mean",
//                           "rejected", "rate", "quantiles": [{"q", "value"}], "windows": [W],
//                           "buckets": [[lower, upper, count], ...]   (options::buckets only)} ] }
//   W = {"length_seconds", "seconds", "increase", "rate"} plus, for histograms,
//       "quantiles": [{"q", "value"}] and "max".
// Samples keep the snapshot's order (by name, then labels). Sequence, interval,
// rate, quantiles and windows are the report's (zero / empty for a bare snapshot).
// Numbers: integers exactly; doubles in shortest round-trip form; NaN and infinities
// (e.g. an empty histogram's quantiles) are null. Strings are escaped per RFC 8259;
// bytes that are not valid UTF-8 become U+FFFD plus their two hex digits, and a U+FFFD
// in the input is written as its three bytes that way (metron/json/utf8.hpp), so the
// output is always valid JSON and two distinct strings never become one.
//
// Concurrency: pure functions of their arguments; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "metron/report.hpp"
#include "metron/snapshot.hpp"

namespace metron::json {

struct options {
  /// Also emit each histogram's non-empty layout buckets as [lower, upper, count].
  bool buckets = false;
};

/// Content-Type of render's output.
inline constexpr std::string_view content_type = "application/json";

/// Appends the JSON of r to out.
void render(const report& r, std::string& out, const options& opts = {});

/// The JSON of r.
std::string render(const report& r, const options& opts = {});

/// A bare snapshot (no derived figures: sequence, rates and intervals are 0).
void render(const snapshot& s, std::string& out, const options& opts = {});
std::string render(const snapshot& s, const options& opts = {});

/// v as a JSON string literal, quotes included.
std::string quote(std::string_view v);

} // namespace metron::json
