// metron/prometheus/text_format.hpp — a snapshot in the Prometheus text exposition
// format, version 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Mapping, one family per metron metric name, families in name order:
// - counter          -> TYPE counter; "_total" is appended unless the name ends in it.
// - updown counter   -> TYPE gauge.
// - gauge            -> TYPE gauge, whatever its name.
// - settable counter -> TYPE counter, named as counters are: a gauge family declared
//                       monotonic (family_info::monotonic, registry::settable_counter),
//                       a total set from elsewhere such as process_cpu_seconds_total.
//                       The declaration decides, never a "_total" suffix.
// - histogram        -> TYPE histogram: cumulative <name>_bucket{le="..."} for each
//                       configured bound plus le="+Inf", <name>_sum, <name>_count; and,
//                       when the snapshot carries quantiles (the aggregator's), a TYPE
//                       summary family <name><quantile_suffix> ("_quantiles") with
//                       {quantile="..."}, _sum and _count. The suffix avoids the
//                       histogram's own series names and promtool's rule against
//                       type names ("_summary") in metric names.
// A family none of whose series names may be used (a name already emitted, e.g. a
// counter "x" and a gauge "x_total") is skipped with a "# metron: skipped" comment, so
// the output always parses.
//
// Histogram buckets: metron's log-linear buckets are half-open [lower, upper) and much
// finer than a Prometheus ladder. The count exported for le=B is the number of values
// in layout buckets whose upper bound is <= B. When B is a layout bucket bound (every
// power of two in the tracked range is one) that is exactly the count of values < B;
// a value exactly equal to B counts in the next bound up. For any other B it is the
// count below the largest layout bound <= B (at most 1/64 of B lower). The default
// ladder, default_buckets(), is powers of two, so it is exact.
//
// Values: integers for counters, shortest round-trip decimal for doubles, "NaN",
// "+Inf", "-Inf" as the format spells them (an empty histogram's quantiles are NaN).
// Label values escape \ " and newline; HELP text escapes \ and newline; an empty
// help becomes "metron <kind> <name>" (promtool requires help text).
//
// Hostile input (a snapshot from a remote peer is not validated by this process's
// registry): bytes that are not valid UTF-8 in label values and help text are
// repaired injectively (metron/json/utf8.hpp: U+FFFD plus the byte's hex digits), as
// Prometheus fails a whole scrape over one invalid label value; a family whose name
// is not a valid metric name is skipped with a "# metron: skipped" comment that does
// not echo the name; a series with an invalid or repeated label key, or with the key
// its type adds (le for histograms, quantile for summaries), is left out.
//
// OpenMetrics 1.0 (render_openmetrics, https://openmetrics.io; what Prometheus asks
// for with Accept: application/openmetrics-text): the same families, with
// - HELP (which also escapes "), TYPE, and UNIT when the family name ends in a base
//   unit suffix (_seconds, _bytes, _ratio, _meters, _grams, _joules, _volts,
//   _amperes, _celsius);
// - counters and settable counters as family <base> (the name without "_total")
//   with samples <base>_total and <base>_created;
// - histograms' and summaries' <name>_created; _created is the series' creation
//   time (series_info::created_ns) in seconds, left out when unknown (0: series
//   received from another process);
// - on each _bucket line, the latest exemplar the snapshot carries among those whose
//   value the bucket counts (the same rule as the counts: a value equal to a bound
//   counts in the next bound up): ` # {trace_id="..."} value timestamp`, timestamp
//   in seconds with exact nanoseconds;
// - no "# metron: skipped" comments (the format has none): such families are left
//   out silently; `# EOF` last.
// wants_openmetrics(accept) is the content negotiation: the Accept header is hostile
// input, parsed in one pass without allocation; any byte sequence gives an answer.
//
// Concurrency: pure functions of their arguments; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "metron/report.hpp"
#include "metron/snapshot.hpp"

namespace metron::prometheus {

/// Bounds 2^min_exp, 2^(min_exp+step), ... up to 2^max_exp inclusive (ascending).
std::vector<double> exponential_buckets(int min_exp, int max_exp, int step = 1);

/// The default ladder: powers of four from 2^-20 (~0.95e-6) to 2^10 (1024), 16 bounds.
/// All are layout bucket bounds, so every exported count is exact.
std::vector<double> default_buckets();

struct text_options {
  /// Histogram le bounds, finite, strictly ascending (+Inf is always added).
  std::vector<double> buckets = default_buckets();
  /// Export the report's histogram quantiles as a summary family.
  bool export_quantiles = true;
  /// Suffix of the summary family's name.
  std::string quantile_suffix = "_quantiles";
};

/// Content-Type of render_text's output.
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

/// Appends the exposition of r to out.
void render_text(const report& r, std::string& out, const text_options& opts = {});

/// The exposition of r.
std::string render_text(const report& r, const text_options& opts = {});

/// A bare snapshot: the same, without the quantile summaries (a report's figures).
void render_text(const snapshot& s, std::string& out, const text_options& opts = {});
std::string render_text(const snapshot& s, const text_options& opts = {});

/// Content-Type of render_openmetrics's output.
inline constexpr std::string_view openmetrics_content_type =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Appends the OpenMetrics 1.0 exposition of r to out, "# EOF" last unless eof is
/// false (for a caller that appends families of its own, then "# EOF").
void render_openmetrics(const report& r, std::string& out, const text_options& opts = {}, bool eof = true);
std::string render_openmetrics(const report& r, const text_options& opts = {});
void render_openmetrics(const snapshot& s, std::string& out, const text_options& opts = {}, bool eof = true);
std::string render_openmetrics(const snapshot& s, const text_options& opts = {});

/// True if an HTTP Accept header asks for OpenMetrics 1.0.0: an
/// application/openmetrics-text range (version absent or 1.0.0, q > 0) with a q at
/// least that of any range text/plain 0.0.4 satisfies (text/plain, text/*, */*).
/// Malformed ranges and q values are ignored; never throws, never allocates.
bool wants_openmetrics(std::string_view accept) noexcept;

// -- pieces, exposed for tests and other exporters ---------------------------------

/// A label value escaped for the text format: \ -> \\, " -> \", newline -> \n;
/// invalid UTF-8 repaired (see the file comment).
std::string escape_label_value(std::string_view v);

/// HELP text escaped: \ -> \\, newline -> \n; invalid UTF-8 repaired.
std::string escape_help(std::string_view v);

/// A sample value: shortest round-trip decimal, or NaN / +Inf / -Inf.
std::string format_value(double v);

} // namespace metron::prometheus
