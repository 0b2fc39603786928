#include "metron/json.hpp"

#include <charconv>
#include <cmath>

#include "metron/json/utf8.hpp"

namespace metron::json {

namespace {

void append_string(std::string& out, std::string_view v) {
  out += '"';
  for (std::size_t i = 0; i < v.size();) {
    char c = v[i];
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
      ++i;
      continue;
    }
    if (u < 0x80) {
      out += c;
      ++i;
      continue;
    }
    // A run of non-ASCII bytes: valid UTF-8 or not, repaired injectively.
    std::size_t j = i;
    while (j < v.size() && static_cast<unsigned char>(v[j]) >= 0x80)
      ++j;
    utf8::append_repaired(out, v.substr(i, j - i));
    i = j;
  }
  out += '"';
}

void append_number(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void key(std::string& out, std::string_view k) {
  append_string(out, k);
  out += ':';
}

void append_labels(std::string& out, const labels& ls) {
  out += '{';
  bool first = true;
  for (auto& [k, v] : ls) {
    if (!first)
      out += ',';
    first = false;
    key(out, k);
    append_string(out, v);
  }
  out += '}';
}

void append_quantiles(std::string& out, const std::vector<quantile_value>& qs) {
  out += '[';
  for (std::size_t i = 0; i < qs.size(); ++i) {
    if (i)
      out += ',';
    out += "{\"q\":";
    append_number(out, qs[i].q);
    out += ",\"value\":";
    append_number(out, qs[i].value);
    out += '}';
  }
  out += ']';
}

void append_windows(std::string& out, const std::vector<window_stats>& ws, bool histogram) {
  out += '[';
  for (std::size_t i = 0; i < ws.size(); ++i) {
    auto& w = ws[i];
    if (i)
      out += ',';
    out += "{\"length_seconds\":";
    append_number(out, static_cast<double>(w.length_ns) / 1e9);
    out += ",\"seconds\":";
    append_number(out, w.seconds);
    out += ",\"increase\":";
    append_number(out, w.increase);
    out += ",\"rate\":";
    append_number(out, w.rate);
    if (histogram) {
      out += ",\"quantiles\":";
      append_quantiles(out, w.quantiles);
      out += ",\"max\":";
      append_number(out, w.max);
    }
    out += '}';
  }
  out += ']';
}

// "name", "help" and "labels" of a sample.
template <class Sample>
void append_head(std::string& out, const snapshot& s, const Sample& x) {
  out += '{';
  key(out, "name");
  append_string(out, x.name());
  out += ',';
  key(out, "help");
  auto* f = s.find_family(x.name());
  append_string(out, f ? std::string_view{f->help} : std::string_view{});
  out += ',';
  key(out, "labels");
  append_labels(out, x.labels());
}

} // namespace

std::string quote(std::string_view v) {
  std::string out;
  append_string(out, v);
  return out;
}

namespace {

// A snapshot with its report's figures, or (r == nullptr) a bare snapshot.
void render_impl(const snapshot& s, const report* r, std::string& out, const options& opts) {
  static const counter_figures no_counter_figures;
  static const histogram_figures no_histogram_figures;
  out += "{\"sequence\":";
  append_int(out, r ? r->sequence() : 0);
  out += ",\"wall_ns\":";
  append_int(out, s.wall_ns);
  out += ",\"mono_ns\":";
  append_int(out, s.mono_ns);
  out += ",\"interval_seconds\":";
  append_number(out, r ? r->interval_seconds() : 0.0);

  out += ",\"counters\":[";
  for (std::size_t i = 0; i < s.counters.size(); ++i) {
    auto& c = s.counters[i];
    auto& fig = r ? r->counter_stats()[i] : no_counter_figures;
    if (i)
      out += ',';
    append_head(out, s, c);
    out += ",\"value\":";
    append_int(out, c.total);
    out += ",\"rate\":";
    append_number(out, fig.rate);
    out += ",\"windows\":";
    append_windows(out, fig.windows, false);
    out += '}';
  }
  out += "],\"updown_counters\":[";
  for (std::size_t i = 0; i < s.updowns.size(); ++i) {
    if (i)
      out += ',';
    append_head(out, s, s.updowns[i]);
    out += ",\"value\":";
    append_int(out, s.updowns[i].total);
    out += '}';
  }
  out += "],\"gauges\":[";
  for (std::size_t i = 0; i < s.gauges.size(); ++i) {
    if (i)
      out += ',';
    append_head(out, s, s.gauges[i]);
    out += ",\"value\":";
    append_number(out, s.gauges[i].current);
    out += '}';
  }
  out += "],\"histograms\":[";
  for (std::size_t i = 0; i < s.histograms.size(); ++i) {
    auto& h = s.histograms[i];
    auto& fig = r ? r->histogram_stats()[i] : no_histogram_figures;
    if (i)
      out += ',';
    append_head(out, s, h);
    out += ",\"count\":";
    append_int(out, h.data.count());
    out += ",\"sum\":";
    append_number(out, h.data.sum());
    out += ",\"min\":";
    append_number(out, h.data.min());
    out += ",\"max\":";
    append_number(out, h.data.max());
    out += ",\"mean\":";
    append_number(out, h.data.mean());
    out += ",\"rejected\":";
    append_int(out, h.data.rejected());
    out += ",\"rate\":";
    append_number(out, fig.rate);
    out += ",\"quantiles\":";
    append_quantiles(out, fig.quantiles);
    out += ",\"windows\":";
    append_windows(out, fig.windows, true);
    if (opts.buckets) {
      out += ",\"buckets\":[";
      bool first = true;
      for (auto& [index, n] : h.data.buckets()) {
        if (!first)
          out += ',';
        first = false;
        out += '[';
        append_number(out, bucket_layout::lower(index));
        out += ',';
        append_number(out, bucket_layout::upper(index));
        out += ',';
        append_int(out, n);
        out += ']';
      }
      out += ']';
    }
    out += '}';
  }
  out += "]}";
}

} // namespace

void render(const report& r, std::string& out, const options& opts) {
  render_impl(r.raw(), &r, out, opts);
}

std::string render(const report& r, const options& opts) {
  std::string out;
  render(r, out, opts);
  return out;
}

void render(const snapshot& s, std::string& out, const options& opts) {
  render_impl(s, nullptr, out, opts);
}

std::string render(const snapshot& s, const options& opts) {
  std::string out;
  render(s, out, opts);
  return out;
}

} // namespace metron::json
