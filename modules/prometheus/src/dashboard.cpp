// The dashboard's per-tick JSON (dashboard.hpp). A hand-written writer, as in
// modules/json: a dashboard connection receives one of these per tick, so it is kept
// compact (short keys, sparse coarse buckets).
#include "metron/prometheus/dashboard.hpp"

#include <charconv>
#include <cmath>

#include "metron/bucket_layout.hpp"
#include "metron/json.hpp"

namespace metron::prometheus {

namespace {

// -- writing ----------------------------------------------------------------------

// Sub-buckets of the layout merged into one heatmap group: 64 / 8 = 8 groups per binade.
constexpr int group_shift = 3;
constexpr int groups_per_binade = (1 << bucket_layout::sub_bits) >> group_shift;

// The quantiles plotted per tick.
constexpr double tick_qs[] = {0.5, 0.9, 0.99};

void number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

template <class Int>
void integer(std::string& out, Int v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void head(std::string& out, const sample_base& x) {
  out += "{\"n\":";
  out += json::quote(x.name());
  out += ",\"l\":{";
  bool first = true;
  for (auto& [k, v] : x.labels()) {
    if (!first)
      out += ',';
    first = false;
    out += json::quote(k);
    out += ':';
    out += json::quote(v);
  }
  out += '}';
}

void quantile_list(std::string& out, const std::vector<quantile_value>& qs) {
  out += '[';
  for (std::size_t i = 0; i < qs.size(); ++i) {
    if (i)
      out += ',';
    out += '[';
    number(out, qs[i].q);
    out += ',';
    number(out, qs[i].value);
    out += ']';
  }
  out += ']';
}

void windows(std::string& out, const std::vector<window_stats>& ws, bool histogram) {
  out += '[';
  for (std::size_t i = 0; i < ws.size(); ++i) {
    auto& w = ws[i];
    if (i)
      out += ',';
    out += "{\"len\":";
    number(out, static_cast<double>(w.length_ns) / 1e9);
    out += ",\"secs\":";
    number(out, w.seconds);
    out += ",\"inc\":";
    number(out, w.increase);
    out += ",\"r\":";
    number(out, w.rate);
    if (histogram) {
      out += ",\"q\":";
      quantile_list(out, w.quantiles);
      out += ",\"max\":";
      number(out, w.max);
    }
    out += '}';
  }
  out += ']';
}

// The interval's figures and its buckets in heatmap groups.
void tick(std::string& out, const histogram_snapshot& t) {
  out += ",\"t\":{\"c\":";
  integer(out, t.count());
  out += ",\"s\":";
  number(out, t.sum());
  out += ",\"max\":";
  number(out, t.count() ? t.max() : NAN);
  double values[std::size(tick_qs)];
  t.quantiles(tick_qs, std::size(tick_qs), values);
  out += ",\"q\":[";
  for (std::size_t i = 0; i < std::size(tick_qs); ++i) {
    if (i)
      out += ',';
    out += '[';
    number(out, tick_qs[i]);
    out += ',';
    number(out, values[i]);
    out += ']';
  }
  out += "],\"b\":[";
  bool first = true;
  int group = 0;
  std::uint64_t count = 0;
  auto flush = [&] {
    if (count == 0)
      return;
    if (!first)
      out += ',';
    first = false;
    integer(out, group);
    out += ',';
    integer(out, count);
  };
  for (auto [index, n] : t.buckets()) {
    int g = (static_cast<int>(index) - 1) >> group_shift; // the underflow bucket (0) is group -1
    if (g != group) {
      flush();
      group = g;
      count = 0;
    }
    count += n;
  }
  flush();
  out += "]}";
}

} // namespace

std::string dashboard_event(const report& rep, const report* previous_report) {
  const snapshot& now = rep.raw();
  const snapshot* previous = previous_report ? &previous_report->raw() : nullptr;
  std::string out;
  out.reserve(256 + 160 * now.series());
  out += "{\"seq\":";
  integer(out, rep.sequence());
  out += ",\"wall_ms\":";
  integer(out, now.wall_ns / 1'000'000);
  out += ",\"interval\":";
  number(out, rep.interval_seconds());
  out += ",\"layout\":{\"min_exp\":";
  integer(out, bucket_layout::min_exp);
  out += ",\"per_binade\":";
  integer(out, groups_per_binade);
  out += "},\"counters\":[";
  for (std::size_t i = 0; i < now.counters.size(); ++i) {
    auto& c = now.counters[i];
    if (i)
      out += ',';
    head(out, c);
    out += ",\"v\":";
    integer(out, c.total);
    out += ",\"r\":";
    auto& cf = rep.counter_stats()[i]; // parallel to raw().counters
    number(out, cf.rate);
    out += ",\"w\":";
    windows(out, cf.windows, false);
    out += '}';
  }
  out += "],\"updowns\":[";
  for (std::size_t i = 0; i < now.updowns.size(); ++i) {
    if (i)
      out += ',';
    head(out, now.updowns[i]);
    out += ",\"v\":";
    integer(out, now.updowns[i].total);
    out += '}';
  }
  out += "],\"gauges\":[";
  for (std::size_t i = 0; i < now.gauges.size(); ++i) {
    if (i)
      out += ',';
    head(out, now.gauges[i]);
    out += ",\"v\":";
    number(out, now.gauges[i].current);
    out += '}';
  }
  out += "],\"histograms\":[";
  histogram_snapshot interval; // reused: minus_into keeps its bucket storage
  for (std::size_t i = 0; i < now.histograms.size(); ++i) {
    auto& h = now.histograms[i];
    if (i)
      out += ',';
    head(out, h);
    out += ",\"c\":";
    integer(out, h.data.count());
    out += ",\"s\":";
    number(out, h.data.sum());
    out += ",\"min\":";
    number(out, h.data.min());
    out += ",\"max\":";
    number(out, h.data.max());
    out += ",\"r\":";
    auto& hf = rep.histogram_stats()[i]; // parallel to raw().histograms
    number(out, hf.rate);
    out += ",\"q\":";
    quantile_list(out, hf.quantiles);
    out += ",\"w\":";
    windows(out, hf.windows, true);
    if (previous) {
      auto* before = previous->find_histogram_sample(h.name(), h.labels());
      if (before && before->data.count() <= h.data.count()) {
        h.data.minus_into(before->data, interval);
        tick(out, interval);
      } else if (!before) {
        tick(out, h.data); // new since the previous snapshot: all of it is in the interval
      }
      // A count that went down (a restarted node behind a collector): no interval.
    }
    out += '}';
  }
  out += "]}";
  return out;
}

std::string dashboard_frame(const report& now, const report* previous) {
  std::string out = "event: tick\ndata: ";
  out += dashboard_event(now, previous);
  out += "\n\n";
  return out;
}

} // namespace metron::prometheus
