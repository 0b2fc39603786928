#include "metron/snapshot.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace metron {

const char* to_string(metric_kind k) noexcept {
  switch (k) {
    case metric_kind::counter:
      return "counter";
    case metric_kind::updown_counter:
      return "updown_counter";
    case metric_kind::gauge:
      return "gauge";
    case metric_kind::histogram:
      return "histogram";
  }
  return "unknown";
}

namespace {

// Samples are sorted by (name, labels); find one by binary search.
template <class Vec>
auto find_sample(const Vec& v, std::string_view name, const labels& query) -> decltype(&v.front()) {
  labels ls = query;
  std::sort(ls.begin(), ls.end(), [](auto& a, auto& b) { return a.first < b.first; });
  auto it = std::lower_bound(v.begin(), v.end(), std::tie(name, ls), [](auto& s, auto& key) {
    auto& [n, l] = key;
    int c = std::string_view{s.name}.compare(n);
    return c < 0 || (c == 0 && s.labels < l);
  });
  if (it != v.end() && it->name == name && it->labels == ls)
    return &*it;
  return nullptr;
}

template <class T>
bool key_less(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, family_info>)
    return a.name < b.name;
  else
    return std::tie(a.name, a.labels) < std::tie(b.name, b.labels);
}

// Merges sorted sample vectors: f(into, from) combines samples with equal keys.
template <class T, class F>
void merge_sorted(std::vector<T>& into, const std::vector<T>& from, F combine) {
  std::vector<T> out;
  out.reserve(into.size() + from.size());
  auto a = into.begin();
  auto b = from.begin();
  while (a != into.end() || b != from.end()) {
    if (b == from.end() || (a != into.end() && key_less(*a, *b)))
      out.push_back(std::move(*a++));
    else if (a == into.end() || key_less(*b, *a))
      out.push_back(*b++);
    else {
      combine(*a, *b);
      out.push_back(std::move(*a++));
      ++b;
    }
  }
  into = std::move(out);
}

} // namespace

const counter_sample* snapshot::find_counter(std::string_view name, const labels& ls) const {
  return find_sample(counters, name, ls);
}
const updown_sample* snapshot::find_updown_counter(std::string_view name, const labels& ls) const {
  return find_sample(updowns, name, ls);
}
const gauge_sample* snapshot::find_gauge(std::string_view name, const labels& ls) const {
  return find_sample(gauges, name, ls);
}
const histogram_sample* snapshot::find_histogram_sample(std::string_view name, const labels& ls) const {
  return find_sample(histograms, name, ls);
}
const histogram_snapshot* snapshot::find_histogram(std::string_view name, const labels& ls) const {
  auto* s = find_histogram_sample(name, ls);
  return s ? &s->data : nullptr;
}
const family_info* snapshot::find_family(std::string_view name) const {
  auto it = std::lower_bound(families.begin(), families.end(), name,
                             [](auto& f, std::string_view n) { return f.name < n; });
  return it != families.end() && it->name == name ? &*it : nullptr;
}

void snapshot::merge(const snapshot& other) {
  // Families first, so a kind clash throws before anything changes.
  for (auto& f : other.families)
    if (auto* mine = find_family(f.name); mine && mine->kind != f.kind)
      throw std::invalid_argument("metron: cannot merge snapshots: '" + f.name + "' is a "
                                  + to_string(mine->kind) + " in one and a " + to_string(f.kind)
                                  + " in the other");
  merge_sorted(families, other.families, [](family_info& a, const family_info& b) {
    if (a.help.empty())
      a.help = b.help;
  });
  merge_sorted(counters, other.counters, [](counter_sample& a, const counter_sample& b) {
    a.total += b.total;
    a.rate += b.rate;
  });
  merge_sorted(updowns, other.updowns, [](updown_sample& a, const updown_sample& b) { a.total += b.total; });
  merge_sorted(gauges, other.gauges, [](gauge_sample& a, const gauge_sample& b) { a.current += b.current; });
  merge_sorted(histograms, other.histograms, [](histogram_sample& a, const histogram_sample& b) {
    a.data.merge(b.data);
    a.rate += b.rate;
    a.quantiles.clear(); // no longer valid for the union; recompute from data
    a.windows.clear();
  });
  wall_ns = std::max(wall_ns, other.wall_ns);
  mono_ns = std::max(mono_ns, other.mono_ns);
}

snapshot snapshot::minus(const snapshot& earlier) const {
  snapshot d;
  d.families = families;
  d.wall_ns = wall_ns;
  d.mono_ns = mono_ns;
  d.sequence = sequence;
  d.interval_seconds = static_cast<double>(mono_ns - earlier.mono_ns) / 1e9;
  for (auto& c : counters) {
    auto* e = earlier.find_counter(c.name, c.labels);
    std::uint64_t before = e ? e->total : 0;
    d.counters.push_back({c.name, c.labels, c.total >= before ? c.total - before : c.total, 0, {}});
  }
  for (auto& u : updowns) {
    auto* e = earlier.find_updown_counter(u.name, u.labels);
    d.updowns.push_back({u.name, u.labels, u.total - (e ? e->total : 0)});
  }
  d.gauges = gauges;
  for (auto& h : histograms) {
    auto* e = earlier.find_histogram(h.name, h.labels);
    d.histograms.push_back({h.name, h.labels, e ? h.data.minus(*e) : h.data, 0, {}, {}});
  }
  return d;
}

} // namespace metron
