// metron/prometheus/dashboard.hpp — what the live dashboard (GET / of the exporter)
// receives on each tick: one JSON object per report, sent as a Server-Sent Event.
//
// Shape (keys always present; numbers as in metron/json.hpp: shortest round trip,
// NaN and infinities as null):
//   { "seq": 7, "wall_ms": 1.7e12, "interval": 0.1,
//     "layout": {"min_exp": -40, "per_binade": 8},
//     "counters":   [ {"n": name, "l": {k: v}, "v": total, "r": rate, "w": [W]} ],
//     "updowns":    [ {"n", "l", "v"} ],
//     "gauges":     [ {"n", "l", "v"} ],
//     "histograms": [ {"n", "l", "c": count, "s": sum, "min", "max", "r": rate,
//                      "q": [[q, value], ...], "w": [W],
//                      "t": {"c", "s", "max", "q": [[0.5, v], [0.9, v], [0.99, v]],
//                            "b": [k, count, k, count, ...]}   (absent without previous)} ] }
//   W = {"len": seconds, "secs": covered, "inc": increase, "r": rate} plus, for
//       histograms, "q": [[q, value], ...] and "max".
// "q" and "w" are the monitor's (cumulative quantiles, sliding windows). "t" is the
// interval since `previous` (the report the same connection got before): its count,
// sum, quantiles (within bucket_layout::relative_error) and max (its highest bucket's
// bound, clamped to the histogram's max), and its buckets regrouped per 1/8 binade for
// the heatmap: group k covers [2^(min_exp + k/8 floor) * (1 + (k mod 8) / 8), the next
// group's lower bound); k = -1 is [0, 2^min_exp), the last group everything above
// 2^max_exp. Only non-empty groups are listed, ascending.
//
// Cost: O(series + buckets of now and previous); allocates the string.
//
// Concurrency: pure functions of their arguments; thread-safe.
#pragma once

#include <memory>
#include <string>

#include "metron/report.hpp"

namespace metron::prometheus {

/// The JSON of one dashboard update (see the file comment); `previous` may be null.
std::string dashboard_event(const report& now, const report* previous);

/// dashboard_event as one Server-Sent Events frame: "event: tick\ndata: <json>\n\n".
std::string dashboard_frame(const report& now, const report* previous);

} // namespace metron::prometheus
