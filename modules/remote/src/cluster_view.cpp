#include "metron/remote/cluster_view.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <tuple>

namespace metron::remote {
namespace {

bool foreign_cluster_metric(const std::string& name) {
  return std::string_view{name}.starts_with(cluster_metric_prefix);
}

template <class Vec>
void drop_cluster_series(Vec& v) {
  std::erase_if(v, [](auto& s) { return foreign_cluster_metric(s.name()); });
}

template <class Vec>
void sort_samples(Vec& v) {
  std::sort(v.begin(), v.end(), [](auto& a, auto& b) {
    return a.series < b.series;
  });
}

// A series' own `node` label becomes `exported_node` (replacing an exported_node it
// had already), so `node` is only ever the collector's. Returns true if ls changed.
bool export_node_label_in(labels& ls) {
  auto own = std::find_if(ls.begin(), ls.end(), [](auto& l) { return l.first == node_label; });
  if (own == ls.end())
    return false;
  std::string value = std::move(own->second);
  ls.erase(own);
  std::erase_if(ls, [](auto& l) { return l.first == exported_node_label; });
  ls.emplace_back(exported_node_label, std::move(value));
  std::sort(ls.begin(), ls.end(), [](auto& a, auto& b) { return a.first < b.first; });
  return true;
}

// The sample with other labels: a new identity (the old one is shared by others).
template <class Sample>
void relabel(Sample& s, labels ls) {
  s.series = series_ref::make(s.name(), std::move(ls), s.series.kind());
}

template <class Sample>
bool export_node_label(Sample& s) {
  labels ls = s.labels();
  if (!export_node_label_in(ls))
    return false;
  relabel(s, std::move(ls));
  return true;
}

template <class Sample>
void add_label(Sample& s, const std::string& node) {
  labels ls = s.labels();
  export_node_label_in(ls);
  ls.emplace_back(node_label, node);
  std::sort(ls.begin(), ls.end(), [](auto& a, auto& b) { return a.first < b.first; });
  relabel(s, std::move(ls));
}

template <class Vec>
void export_node_labels(Vec& v) {
  bool changed = false;
  for (auto& s : v)
    changed |= export_node_label(s);
  if (changed)
    sort_samples(v); // renaming can change the (name, labels) order
}

// Keeps only counters and histograms (and their families), without derived fields.
snapshot monotonic_part(const snapshot& s) {
  snapshot m;
  for (auto& f : s.families)
    if (f->kind == metric_kind::counter || f->kind == metric_kind::histogram)
      m.families.push_back(f);
  m.counters = s.counters;
  m.histograms = s.histograms;
  m.wall_ns = s.wall_ns;
  return m;
}

void strip_derived(snapshot& s) {
  for (auto& c : s.counters) {
    c.rate = 0;
    c.windows.clear();
  }
  for (auto& h : s.histograms) {
    h.rate = 0;
    h.quantiles.clear();
    h.windows.clear();
  }
  s.mono_ns = 0;
  s.sequence = 0;
  s.interval_seconds = 0;
}

} // namespace

snapshot node_contribution(const cluster_node& n) {
  snapshot out;
  if (n.latest) {
    out = n.up ? *n.latest : monotonic_part(*n.latest);
    strip_derived(out);
  }
  if (!n.retired.families.empty() || !n.retired.counters.empty() || !n.retired.histograms.empty()) {
    snapshot r = n.retired;
    strip_derived(r);
    out.merge(r); // throws on a kind clash between incarnations
  }
  std::erase_if(out.families, [](auto& f) { return foreign_cluster_metric(f->name); });
  drop_cluster_series(out.counters);
  drop_cluster_series(out.updowns);
  drop_cluster_series(out.gauges);
  drop_cluster_series(out.histograms);
  export_node_labels(out.counters);
  export_node_labels(out.updowns);
  export_node_labels(out.gauges);
  export_node_labels(out.histograms);
  out.mono_ns = 0;
  return out;
}

snapshot with_node_label(snapshot s, const std::string& node) {
  for (auto& c : s.counters)
    add_label(c, node);
  for (auto& u : s.updowns)
    add_label(u, node);
  for (auto& g : s.gauges)
    add_label(g, node);
  for (auto& h : s.histograms)
    add_label(h, node);
  // Adding a label can change the (name, labels) order; merge needs it sorted.
  sort_samples(s.counters);
  sort_samples(s.updowns);
  sort_samples(s.gauges);
  sort_samples(s.histograms);
  return s;
}

void retire(snapshot& retired, const snapshot& s) {
  snapshot m = monotonic_part(s);
  strip_derived(m);
  retired.merge(m);
  retired.mono_ns = 0;
}

snapshot merge_cluster(const std::vector<cluster_node>& nodes, std::vector<std::string>* skipped,
                       merge_options opts) {
  snapshot acc;
  for (auto& n : nodes) {
    try {
      snapshot part = node_contribution(n);
      // merge() checks the families before changing anything: a clash leaves acc as it was.
      acc.merge(part);
      // Same families as part, now in acc with the same kinds: cannot throw.
      if (opts.per_node_series)
        acc.merge(with_node_label(std::move(part), n.name));
    } catch (const std::invalid_argument&) {
      if (skipped)
        skipped->push_back(n.name);
    }
  }
  acc.mono_ns = 0;
  return acc;
}

} // namespace metron::remote
