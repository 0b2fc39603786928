#include "metron/prometheus/text_format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>

#include "metron/json/utf8.hpp"

namespace metron::prometheus {

std::vector<double> exponential_buckets(int min_exp, int max_exp, int step) {
  if (step <= 0 || min_exp > max_exp)
    throw std::invalid_argument("exponential_buckets: need min_exp <= max_exp and step > 0");
  std::vector<double> out;
  for (int e = min_exp; e <= max_exp; e += step)
    out.push_back(std::ldexp(1.0, e));
  return out;
}

std::vector<double> default_buckets() {
  return exponential_buckets(-20, 10, 2);
}

namespace {

// Escapes the ASCII bytes listed in escape(c) (non-null: the replacement) and repairs
// every run of non-ASCII bytes (metron/json/utf8.hpp), so the result is valid UTF-8.
template <class Escape>
std::string escape_text(std::string_view v, Escape escape) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size();) {
    if (static_cast<unsigned char>(v[i]) >= 0x80) {
      std::size_t j = i;
      while (j < v.size() && static_cast<unsigned char>(v[j]) >= 0x80)
        ++j;
      utf8::append_repaired(out, v.substr(i, j - i));
      i = j;
      continue;
    }
    if (const char* e = escape(v[i]))
      out += e;
    else
      out += v[i];
    ++i;
  }
  return out;
}

} // namespace

std::string escape_label_value(std::string_view v) {
  return escape_text(v, [](char c) -> const char* {
    switch (c) {
      case '\\': return "\\\\";
      case '"': return "\\\"";
      case '\n': return "\\n";
      default: return nullptr;
    }
  });
}

std::string escape_help(std::string_view v) {
  return escape_text(v, [](char c) -> const char* {
    switch (c) {
      case '\\': return "\\\\";
      case '\n': return "\\n";
      default: return nullptr;
    }
  });
}

namespace {

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

void append_value(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_value(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// name{k="v",...,extra_key="extra_value"} — the braces only when there are labels.
void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   const labels& ls, std::string_view extra_key = {},
                   std::string_view extra_value = {}) {
  out += name;
  out += suffix;
  if (ls.empty() && extra_key.empty())
    return;
  out += '{';
  bool first = true;
  for (auto& [k, v] : ls) {
    if (!first)
      out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out += '"';
  }
  if (!extra_key.empty()) {
    if (!first)
      out += ',';
    out += extra_key;
    out += "=\"";
    out += extra_value; // le / quantile values never need escaping
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, std::string_view name, const family_info& f,
                   std::string_view type, std::string_view help_suffix = {}) {
  out += "# HELP ";
  out += name;
  out += ' ';
  if (f.help.empty()) {
    out += "metron ";
    out += to_string(f.kind);
    out += ' ';
    out += f.name;
  } else {
    out += escape_help(f.help);
  }
  out += help_suffix;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// The samples of one name in a vector sorted by (name, labels).
template <class Vec>
auto samples_named(const Vec& v, std::string_view name) {
  auto lo = std::lower_bound(v.begin(), v.end(), name,
                             [](auto& s, std::string_view n) { return std::string_view{s.name()} < n; });
  auto hi = lo;
  while (hi != v.end() && hi->name() == name)
    ++hi;
  struct range {
    decltype(lo) b, e;
    auto begin() const { return b; }
    auto end() const { return e; }
    bool empty() const { return b == e; }
  };
  return range{lo, hi};
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Claims every series name of a family; false (nothing claimed) if one is taken.
bool claim(std::set<std::string, std::less<>>& used, std::initializer_list<std::string> names) {
  for (auto& n : names)
    if (used.count(n))
      return false;
  for (auto& n : names)
    used.insert(n);
  return true;
}

// A series is exported only if its label keys are valid, distinct and not the one its
// family type adds (le, quantile): a snapshot from a remote peer is not validated by
// this process's registry, and one bad series would fail the whole scrape.
bool exportable(const labels& ls, std::string_view added_key = {}) {
  for (std::size_t i = 0; i < ls.size(); ++i) {
    if (!valid_label_key(ls[i].first) || ls[i].first == added_key)
      return false;
    for (std::size_t j = 0; j < i; ++j)
      if (ls[j].first == ls[i].first)
        return false;
  }
  return true;
}

void skipped(std::string& out, std::string_view name) {
  out += "# metron: skipped ";
  out += name;
  out += " (a series name it needs is already used)\n";
}

} // namespace

std::string format_value(double v) {
  std::string out;
  append_value(out, v);
  return out;
}

namespace {

// A snapshot and, if r is not null, its report's quantiles.
void render_impl(const snapshot& s, const report* r, std::string& out, const text_options& opts) {
  for (std::size_t i = 0; i < opts.buckets.size(); ++i)
    if (!std::isfinite(opts.buckets[i]) || (i > 0 && !(opts.buckets[i - 1] < opts.buckets[i])))
      throw std::invalid_argument("prometheus::text_options::buckets must be finite and strictly ascending");
  std::vector<std::string> les;
  for (double b : opts.buckets)
    les.push_back(format_value(b));
  std::set<std::string, std::less<>> used;

  for (auto& family : s.families) {
    const family_info& f = *family;
    if (!valid_metric_name(f.name)) {
      out += "# metron: skipped a family whose name is not a valid metric name\n";
      continue;
    }
    switch (f.kind) {
      case metric_kind::counter: {
        auto samples = samples_named(s.counters, f.name);
        if (samples.empty())
          break;
        std::string name = ends_with(f.name, "_total") ? f.name : f.name + "_total";
        if (!claim(used, {name})) {
          skipped(out, f.name);
          break;
        }
        append_header(out, name, f, "counter");
        for (auto& c : samples) {
          if (!exportable(c.labels()))
            continue;
          append_series(out, name, {}, c.labels());
          out += ' ';
          append_value(out, c.total);
          out += '\n';
        }
        break;
      }
      case metric_kind::updown_counter: {
        auto samples = samples_named(s.updowns, f.name);
        if (samples.empty())
          break;
        if (!claim(used, {f.name})) {
          skipped(out, f.name);
          break;
        }
        append_header(out, f.name, f, "gauge");
        for (auto& c : samples) {
          if (!exportable(c.labels()))
            continue;
          append_series(out, f.name, {}, c.labels());
          out += ' ';
          append_value(out, c.total);
          out += '\n';
        }
        break;
      }
      case metric_kind::gauge: {
        auto samples = samples_named(s.gauges, f.name);
        if (samples.empty())
          break;
        // A settable counter (declared monotonic) is a counter, named as counters are;
        // a gauge is a gauge whatever its name.
        std::string name = f.monotonic && !ends_with(f.name, "_total") ? f.name + "_total" : f.name;
        if (!claim(used, {name})) {
          skipped(out, f.name);
          break;
        }
        append_header(out, name, f, f.monotonic ? "counter" : "gauge");
        for (auto& g : samples) {
          if (!exportable(g.labels()))
            continue;
          append_series(out, name, {}, g.labels());
          out += ' ';
          append_value(out, g.current);
          out += '\n';
        }
        break;
      }
      case metric_kind::histogram: {
        auto samples = samples_named(s.histograms, f.name);
        if (samples.empty())
          break;
        if (!claim(used, {f.name, f.name + "_bucket", f.name + "_sum", f.name + "_count"})) {
          skipped(out, f.name);
          break;
        }
        append_header(out, f.name, f, "histogram");
        for (auto& h : samples) {
          if (!exportable(h.labels(), "le"))
            continue;
          auto& buckets = h.data.buckets();
          auto it = buckets.begin();
          std::uint64_t cumulative = 0;
          for (std::size_t i = 0; i < opts.buckets.size(); ++i) {
            // Layout buckets lying wholly below the bound: values < upper <= bound.
            while (it != buckets.end() && bucket_layout::upper(it->first) <= opts.buckets[i])
              cumulative += (it++)->second;
            append_series(out, f.name, "_bucket", h.labels(), "le", les[i]);
            out += ' ';
            append_value(out, cumulative);
            out += '\n';
          }
          append_series(out, f.name, "_bucket", h.labels(), "le", "+Inf");
          out += ' ';
          append_value(out, h.data.count());
          out += '\n';
          append_series(out, f.name, "_sum", h.labels());
          out += ' ';
          append_value(out, h.data.sum());
          out += '\n';
          append_series(out, f.name, "_count", h.labels());
          out += ' ';
          append_value(out, h.data.count());
          out += '\n';
        }
        if (!opts.export_quantiles || r == nullptr)
          break;
        bool any = std::any_of(samples.begin(), samples.end(),
                               [r](auto& h) { return !r->figures(h).quantiles.empty(); });
        if (!any)
          break;
        std::string sname = f.name + opts.quantile_suffix;
        if (!claim(used, {sname, sname + "_sum", sname + "_count"})) {
          skipped(out, sname);
          break;
        }
        append_header(out, sname, f, "summary", " (quantiles)");
        for (auto& h : samples) {
          if (!exportable(h.labels(), "quantile"))
            continue;
          for (auto& q : r->figures(h).quantiles) {
            append_series(out, sname, {}, h.labels(), "quantile", format_value(q.q));
            out += ' ';
            append_value(out, q.value);
            out += '\n';
          }
          append_series(out, sname, "_sum", h.labels());
          out += ' ';
          append_value(out, h.data.sum());
          out += '\n';
          append_series(out, sname, "_count", h.labels());
          out += ' ';
          append_value(out, h.data.count());
          out += '\n';
        }
        break;
      }
    }
  }
}

} // namespace

void render_text(const report& r, std::string& out, const text_options& opts) {
  render_impl(r.raw(), &r, out, opts);
}

std::string render_text(const report& r, const text_options& opts) {
  std::string out;
  render_text(r, out, opts);
  return out;
}

void render_text(const snapshot& s, std::string& out, const text_options& opts) {
  render_impl(s, nullptr, out, opts);
}

std::string render_text(const snapshot& s, const text_options& opts) {
  std::string out;
  render_text(s, out, opts);
  return out;
}

} // namespace metron::prometheus
