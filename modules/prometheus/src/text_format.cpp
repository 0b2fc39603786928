#include "metron/prometheus/text_format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
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

// HELP and TYPE; in OpenMetrics (om) HELP also escapes '"' and a UNIT line follows
// when the name ends in a unit suffix (unit_of).
std::string_view unit_of(std::string_view family);

void append_header(std::string& out, std::string_view name, const family_info& f,
                   std::string_view type, std::string_view help_suffix = {}, bool om = false) {
  out += "# HELP ";
  out += name;
  out += ' ';
  if (f.help.empty()) {
    out += "metron ";
    out += to_string(f.kind);
    out += ' ';
    out += f.name;
  } else {
    out += om ? escape_label_value(f.help) : escape_help(f.help);
  }
  out += help_suffix;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  if (auto u = om ? unit_of(name) : std::string_view{}; !u.empty()) {
    out += "# UNIT ";
    out += name;
    out += ' ';
    out += u;
    out += '\n';
  }
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

// OpenMetrics units: the suffixes of base units that a family name may end in.
constexpr std::string_view units[] = {"seconds", "bytes", "ratio", "meters", "grams", "joules", "volts", "amperes",
                                      "celsius"};

std::string_view unit_of(std::string_view family) {
  for (auto u : units)
    if (family.size() > u.size() + 1 && ends_with(family, u) && family[family.size() - u.size() - 1] == '_')
      return u;
  return {};
}

void append_seconds(std::string& out, std::int64_t ns) {
  // Seconds with the nanoseconds exact (a double would round them).
  auto s = ns / 1'000'000'000;
  auto frac = ns % 1'000'000'000;
  if (frac < 0)
    frac += 1'000'000'000, --s;
  append_value(out, s);
  if (frac != 0) {
    char buf[10];
    for (int i = 8; i >= 0; --i, frac /= 10)
      buf[i] = static_cast<char>('0' + frac % 10);
    std::size_t n = 9;
    while (buf[n - 1] == '0')
      --n;
    out += '.';
    out.append(buf, n);
  }
}

// " # {k="v",...} value timestamp" after a bucket line.
void append_exemplar(std::string& out, const exemplar_sample& e) {
  out += " # {";
  for (std::size_t i = 0; i < e.labels.size(); ++i) {
    if (i != 0)
      out += ',';
    out += e.labels.name(i);
    out += "=\"";
    out += escape_label_value(e.labels.value(i));
    out += '"';
  }
  out += "} ";
  append_value(out, e.value);
  out += ' ';
  append_seconds(out, e.wall_ns);
}

// name_created{labels} <creation seconds>, when the series knows it.
void append_created(std::string& out, std::string_view name, const series_ref& id) {
  if (id.created_ns() <= 0)
    return;
  append_series(out, name, "_created", id.labels());
  out += ' ';
  append_seconds(out, id.created_ns());
  out += '\n';
}

// A snapshot and, if r is not null, its report's quantiles; OpenMetrics 1.0 if om.
void render_impl(const snapshot& s, const report* r, std::string& out, const text_options& opts, bool om) {
  for (std::size_t i = 0; i < opts.buckets.size(); ++i)
    if (!std::isfinite(opts.buckets[i]) || (i > 0 && !(opts.buckets[i - 1] < opts.buckets[i])))
      throw std::invalid_argument("prometheus::text_options::buckets must be finite and strictly ascending");
  std::vector<std::string> les;
  for (double b : opts.buckets)
    les.push_back(format_value(b));
  std::set<std::string, std::less<>> used;
  // OpenMetrics has no free comments: a skipped family is left out silently there.
  auto skip = [&](std::string_view name) {
    if (!om)
      skipped(out, name);
  };
  auto header = [&](std::string_view name, const family_info& f, std::string_view type,
                    std::string_view help_suffix = {}) { append_header(out, name, f, type, help_suffix, om); };
  // A counter family: 0.0.4 names family and sample <base>_total; OpenMetrics names
  // the family <base> and its samples <base>_total and <base>_created.
  auto counter_family = [&](const family_info& f, auto samples, auto value_of) {
    std::string base = ends_with(f.name, "_total") ? f.name.substr(0, f.name.size() - 6) : f.name;
    std::string total = base + "_total";
    if (om ? !claim(used, {base, total, base + "_created"}) : !claim(used, {total})) {
      skip(f.name);
      return;
    }
    header(om ? base : total, f, "counter");
    for (auto& c : samples) {
      if (!exportable(c.labels()))
        continue;
      append_series(out, total, {}, c.labels());
      out += ' ';
      append_value(out, value_of(c));
      out += '\n';
      if (om)
        append_created(out, base, c.series);
    }
  };

  for (auto& family : s.families) {
    const family_info& f = *family;
    if (!valid_metric_name(f.name)) {
      if (!om)
        out += "# metron: skipped a family whose name is not a valid metric name\n";
      continue;
    }
    switch (f.kind) {
      case metric_kind::counter: {
        auto samples = samples_named(s.counters, f.name);
        if (!samples.empty())
          counter_family(f, samples, [](const counter_sample& c) { return c.total; });
        break;
      }
      case metric_kind::updown_counter: {
        auto samples = samples_named(s.updowns, f.name);
        if (samples.empty())
          break;
        if (!claim(used, {f.name})) {
          skip(f.name);
          break;
        }
        header(f.name, f, "gauge");
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
        if (f.monotonic) {
          counter_family(f, samples, [](const gauge_sample& g) { return g.current; });
          break;
        }
        if (!claim(used, {f.name})) {
          skip(f.name);
          break;
        }
        header(f.name, f, "gauge");
        for (auto& g : samples) {
          if (!exportable(g.labels()))
            continue;
          append_series(out, f.name, {}, g.labels());
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
        if (!claim(used, {f.name, f.name + "_bucket", f.name + "_sum", f.name + "_count", f.name + "_created"})) {
          skip(f.name);
          break;
        }
        header(f.name, f, "histogram");
        for (auto& h : samples) {
          if (!exportable(h.labels(), "le"))
            continue;
          auto& buckets = h.data.buckets();
          auto it = buckets.begin();
          auto& exemplars = h.data.exemplars();
          auto ex = exemplars.begin();
          // The latest exemplar among those counted up to `bound` and not yet shown:
          // an exemplar sits in the exported bucket its value is counted in.
          auto exemplar_up_to = [&](double bound) -> const exemplar_sample* {
            const exemplar_sample* best = nullptr;
            for (; ex != exemplars.end() && bucket_layout::upper(bucket_layout::index(ex->value)) <= bound; ++ex)
              if (best == nullptr || ex->wall_ns > best->wall_ns)
                best = &*ex;
            return best;
          };
          std::uint64_t cumulative = 0;
          for (std::size_t i = 0; i < opts.buckets.size(); ++i) {
            // Layout buckets lying wholly below the bound: values < upper <= bound.
            while (it != buckets.end() && bucket_layout::upper(it->first) <= opts.buckets[i])
              cumulative += (it++)->second;
            append_series(out, f.name, "_bucket", h.labels(), "le", les[i]);
            out += ' ';
            append_value(out, cumulative);
            if (om)
              if (auto* e = exemplar_up_to(opts.buckets[i]))
                append_exemplar(out, *e);
            out += '\n';
          }
          append_series(out, f.name, "_bucket", h.labels(), "le", "+Inf");
          out += ' ';
          append_value(out, h.data.count());
          if (om)
            if (auto* e = exemplar_up_to(std::numeric_limits<double>::infinity()))
              append_exemplar(out, *e);
          out += '\n';
          append_series(out, f.name, "_sum", h.labels());
          out += ' ';
          append_value(out, h.data.sum());
          out += '\n';
          append_series(out, f.name, "_count", h.labels());
          out += ' ';
          append_value(out, h.data.count());
          out += '\n';
          if (om)
            append_created(out, f.name, h.series);
        }
        if (!opts.export_quantiles || r == nullptr)
          break;
        bool any = std::any_of(samples.begin(), samples.end(),
                               [r](auto& h) { return !r->figures(h).quantiles.empty(); });
        if (!any)
          break;
        std::string sname = f.name + opts.quantile_suffix;
        if (!claim(used, {sname, sname + "_sum", sname + "_count", sname + "_created"})) {
          skip(sname);
          break;
        }
        header(sname, f, "summary", " (quantiles)");
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
          if (om)
            append_created(out, sname, h.series);
        }
        break;
      }
    }
  }
}

} // namespace

void render_text(const report& r, std::string& out, const text_options& opts) {
  render_impl(r.raw(), &r, out, opts, false);
}

std::string render_text(const report& r, const text_options& opts) {
  std::string out;
  render_text(r, out, opts);
  return out;
}

void render_text(const snapshot& s, std::string& out, const text_options& opts) {
  render_impl(s, nullptr, out, opts, false);
}

std::string render_text(const snapshot& s, const text_options& opts) {
  std::string out;
  render_text(s, out, opts);
  return out;
}

void render_openmetrics(const report& r, std::string& out, const text_options& opts, bool eof) {
  render_impl(r.raw(), &r, out, opts, true);
  if (eof)
    out += "# EOF\n";
}

std::string render_openmetrics(const report& r, const text_options& opts) {
  std::string out;
  render_openmetrics(r, out, opts);
  return out;
}

void render_openmetrics(const snapshot& s, std::string& out, const text_options& opts, bool eof) {
  render_impl(s, nullptr, out, opts, true);
  if (eof)
    out += "# EOF\n";
}

std::string render_openmetrics(const snapshot& s, const text_options& opts) {
  std::string out;
  render_openmetrics(s, out, opts);
  return out;
}

namespace {

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return v;
}

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

// q=<qvalue> (RFC 9110 12.4.2) in thousandths; -1 if malformed.
int parse_q(std::string_view v) {
  v = trim(v);
  if (v.empty() || (v[0] != '0' && v[0] != '1'))
    return -1;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1)
    return q;
  if (v[1] != '.' || v.size() > 5)
    return -1;
  int scale = 100;
  for (std::size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (v[i] < '0' || v[i] > '9')
      return -1;
    q += (v[i] - '0') * scale;
  }
  return q <= 1000 ? q : -1;
}

} // namespace

bool wants_openmetrics(std::string_view accept) noexcept {
  int om_q = 0;   // best q of an OpenMetrics 1.0.0 range
  int text_q = 0; // best q of a range that 0.0.4 satisfies (text/plain, text/*, */*)
  while (!accept.empty()) {
    auto comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    auto semi = range.find(';');
    std::string_view type = trim(range.substr(0, semi));
    std::string_view params = semi == std::string_view::npos ? std::string_view{} : range.substr(semi + 1);
    int q = 1000;
    bool version_ok = true;
    while (!params.empty()) {
      auto next = params.find(';');
      std::string_view p = params.substr(0, next);
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      auto eq = p.find('=');
      if (eq == std::string_view::npos)
        continue;
      std::string_view key = trim(p.substr(0, eq));
      std::string_view value = trim(p.substr(eq + 1));
      if (iequals(key, "q"))
        q = parse_q(value);
      else if (iequals(key, "version"))
        version_ok = value == "1.0.0";
    }
    if (q <= 0)
      continue; // malformed or "not acceptable"
    if (iequals(type, "application/openmetrics-text")) {
      if (version_ok)
        om_q = std::max(om_q, q);
    } else if (iequals(type, "text/plain") || iequals(type, "text/*") || iequals(type, "*/*")) {
      text_q = std::max(text_q, q);
    }
  }
  return om_q > 0 && om_q >= text_q;
}

} // namespace metron::prometheus
