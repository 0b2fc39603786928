// metron/console/table.hpp — the live view's frame: a report and its history
// rendered as a text table. A pure function, so it is unit-tested as text.
//
// Layout (every line at most `width` columns, at most `max_lines` lines):
//
//   <title> — tick 42 · frame every 100ms · 21 series
//   <notes, one per line>
//
//   HISTOGRAMS                        rate/s      p50      p90      p99      max  p99, last 40
//   demo_request_duration_seconds
//     route="GET /api/search"           611k   2.01ms   3.92ms   9.51ms   48.2ms  ▁▁▂▁▁█▇▁▁
//   COUNTERS                          rate/s    total                                rate, last 40
//   ...
//   GAUGES                             value                                        value, last 40
//
// A family with labelled series gets a line with its name and one indented row per
// series (the labels as k="v", space-separated); a single unlabelled series is one
// row. Histogram figures are over the history's latest interval (history.hpp);
// names ending in "_seconds" are shown as durations, others with SI suffixes.
// Rows and names too long for the width are cut in the middle with "…"; rows
// beyond max_lines are replaced by a "… N more rows" line.
//
// Concurrency: a pure function of its arguments; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "metron/console/history.hpp"
#include "metron/report.hpp"

namespace metron::console {

struct render_options {
  /// First word of the title line.
  std::string title = "metron";
  /// Lines printed under the title (e.g. the Prometheus address, records per second).
  std::vector<std::string> notes{};
  /// Columns per line.
  std::size_t width = 100;
  /// Most lines in a frame; 0 means no limit.
  std::size_t max_lines = 0;
  /// Widest name column.
  std::size_t name_width = 40;
  /// Leave out counters that are still 0 and histograms without values.
  bool hide_idle = true;
  /// Leave out metrics whose name starts with one of these.
  std::vector<std::string> hide_prefixes{};
};

/// The frame for report `r` (history must have been updated with `r`), lines
/// separated by '\n', ending in '\n'.
std::string render_table(const report& r, const history& h, const render_options& opts = {});

} // namespace metron::console
