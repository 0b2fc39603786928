#include "metron/remote/cluster_view.hpp"

#include "metron/vanished.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

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
  s.mono_ns = 0; // a node's clock means nothing here; the collector sets its own
}

} // namespace

snapshot node_contribution(const cluster_node& n) {
  snapshot out;
  if (n.latest) {
    out = n.up ? *n.latest : monotonic_part(*n.latest);
    strip_derived(out);
  }
  for (const snapshot* kept : {&n.retired, &n.vanished})
    if (!holds_nothing(*kept)) {
      snapshot r = *kept;
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

void track_vanished(snapshot& vanished, const snapshot& prev, const snapshot& next) {
  metron::track_vanished(vanished, prev, next, max_vanished);
}

void retire(snapshot& retired, const snapshot& s) {
  snapshot m = monotonic_part(s);
  strip_derived(m);
  retired.merge(m);
  retired.mono_ns = 0;
}

// -- the k-way merge (see the header's "Cost") --------------------------------------

namespace detail {

// One kind's per-node copies of one node: the identities of the node's samples the
// copies were made for (`source`, in the node's order), and the copies' identities
// (`keys`) in their own sorted order with the index of their sample (`order`).
struct relabelled {
  std::vector<series_ref> source;
  std::vector<series_ref> keys;
  std::vector<std::uint32_t> order;
};

struct node_label_cache {
  std::string node; // the label value the copies carry
  relabelled counters, updowns, gauges, histograms;
};

} // namespace detail

namespace {

// Three-way (name, labels) order, the order of operator< on series_ref.
int compare(const series_ref& a, const series_ref& b) noexcept {
  if (a.get() == b.get())
    return 0;
  if (int c = a.name().compare(b.name()))
    return c;
  auto& x = a.labels();
  auto& y = b.labels();
  for (std::size_t i = 0, n = std::min(x.size(), y.size()); i < n; ++i) {
    if (int c = x[i].first.compare(y[i].first))
      return c;
    if (int c = x[i].second.compare(y[i].second))
      return c;
  }
  return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
}

// A sorted run of samples one node contributes: its samples in order (order null)
// or through an index list, keyed by their own identities (keys null) or by others.
template <class Sample>
struct run {
  const Sample* samples = nullptr;
  const std::uint32_t* order = nullptr;
  const series_ref* keys = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;

  const Sample& sample() const noexcept { return samples[order ? order[pos] : pos]; }
  const series_ref& key() const noexcept { return keys ? keys[pos] : sample().series; }
};

// The totals run of `v`: all samples, or those not named metron_cluster_* (listed
// in `kept`, which must outlive the run).
template <class Sample>
run<Sample> totals_run(const std::vector<Sample>& v, std::vector<std::uint32_t>& kept) {
  run<Sample> r{v.data(), nullptr, nullptr, v.size()};
  if (std::none_of(v.begin(), v.end(), [](auto& x) { return foreign_cluster_metric(x.name()); }))
    return r;
  for (std::uint32_t i = 0; i < v.size(); ++i)
    if (!foreign_cluster_metric(v[i].name()))
      kept.push_back(i);
  r.order = kept.data();
  r.size = kept.size();
  return r;
}

// The per-node copies' run of `v` through cache `c`, rebuilt only when the node's
// series changed since the cache was made (compared by content: identities from the
// wire are new objects every tick).
template <class Sample>
run<Sample> copies_run(const std::vector<Sample>& v, detail::relabelled& c, const std::string& node) {
  bool same = c.source.size() == v.size();
  for (std::size_t i = 0; same && i < v.size(); ++i)
    same = c.source[i] == v[i].series;
  if (!same) {
    c.source.clear();
    c.keys.clear();
    c.order.clear();
    std::vector<series_ref> by_index(v.size());
    for (std::uint32_t i = 0; i < v.size(); ++i) {
      c.source.push_back(v[i].series);
      if (foreign_cluster_metric(v[i].name()))
        continue;
      Sample copy;
      copy.series = v[i].series;
      add_label(copy, node);
      by_index[i] = std::move(copy.series);
      c.order.push_back(i);
    }
    std::sort(c.order.begin(), c.order.end(),
              [&](std::uint32_t a, std::uint32_t b) { return compare(by_index[a], by_index[b]) < 0; });
    for (auto i : c.order)
      c.keys.push_back(std::move(by_index[i]));
  }
  return {v.data(), c.order.data(), c.keys.data(), c.order.size()};
}

// Merges sorted runs into one sorted vector: the samples with equal keys (from any
// runs, handed over in run order) become one, combine(key, group).
// Two modes. Lockstep, while every live run is at the same key (nodes with the same
// series, the common case): one comparison per run and key, no heap. Otherwise a
// binary heap of the runs ordered by (current key, run index), O(log runs)
// comparisons per sample; back to lockstep after a key that every live run had.
template <class Sample, class Combine>
std::vector<Sample> merge_runs(std::vector<run<Sample>>& runs, Combine combine) {
  std::vector<Sample> out;
  std::vector<std::uint32_t> live; // lockstep: by run index; else a heap
  std::size_t total = 0;
  for (std::uint32_t i = 0; i < runs.size(); ++i)
    if (runs[i].size > 0) {
      live.push_back(i);
      total += runs[i].size;
    }
  out.reserve(std::min(total, runs.empty() ? 0 : 2 * total / runs.size() + 16));
  auto before = [&](std::uint32_t a, std::uint32_t b) {
    int c = compare(runs[a].key(), runs[b].key());
    return c < 0 || (c == 0 && a < b);
  };
  auto sift_down = [&](std::size_t i) {
    std::size_t n = live.size();
    for (;;) {
      std::size_t l = 2 * i + 1;
      if (l >= n)
        return;
      std::size_t m = l + 1 < n && before(live[l + 1], live[l]) ? l + 1 : l;
      if (!before(live[m], live[i]))
        return;
      std::swap(live[m], live[i]);
      i = m;
    }
  };
  // Takes the top run's sample and moves the run on (heap mode).
  auto pop = [&]() -> const Sample* {
    auto& r = runs[live[0]];
    const Sample* s = &r.sample();
    if (++r.pos == r.size) {
      live[0] = live.back();
      live.pop_back();
    }
    if (!live.empty())
      sift_down(0);
    return s;
  };
  bool lockstep = true;
  std::vector<const Sample*> group;
  while (!live.empty()) {
    group.clear();
    if (lockstep) {
      const series_ref& key = runs[live[0]].key();
      bool all = true;
      for (std::size_t j = 1; all && j < live.size(); ++j)
        all = compare(runs[live[j]].key(), key) == 0;
      if (all) {
        for (auto i : live)
          group.push_back(&runs[i].sample());
        out.push_back(combine(key, group));
        for (auto i : live)
          ++runs[i].pos;
        std::erase_if(live, [&](std::uint32_t i) { return runs[i].pos == runs[i].size; });
        continue;
      }
      lockstep = false;
      for (std::size_t i = live.size() / 2; i-- > 0;)
        sift_down(i);
    }
    std::size_t had = live.size();
    const series_ref& key = runs[live[0]].key();
    group.push_back(pop());
    while (!live.empty() && compare(runs[live[0]].key(), key) == 0)
      group.push_back(pop());
    out.push_back(combine(key, group));
    if (group.size() == had) { // every run had this key: try lockstep again
      lockstep = true;
      std::sort(live.begin(), live.end());
    }
  }
  return out;
}

// The sum of a group's histograms: bucket counts add in one dense array over the
// layout (zeroed again as it is read), count, sum and rejected add, min/max combine.
class histogram_adder {
public:
  histogram_snapshot operator()(const std::vector<const histogram_sample*>& group) {
    if (group.size() == 1)
      return group[0]->data;
    std::uint32_t lo = std::numeric_limits<std::uint32_t>::max();
    std::uint32_t hi = 0;
    for (auto* h : group)
      for (auto& [index, n] : h->data.buckets()) {
        if (index >= dense_.size()) { // not this layout (a broken peer): merge pairwise
          for (std::uint32_t i = lo; i <= hi && lo <= hi; ++i) // what this group added so far
            dense_[i] = 0;
          return pairwise(group);
        }
        dense_[index] += n;
        lo = std::min(lo, index);
        hi = std::max(hi, index);
      }
    std::vector<histogram_snapshot::bucket> buckets;
    for (std::uint32_t i = lo; i <= hi && lo <= hi; ++i)
      if (dense_[i] != 0) {
        buckets.emplace_back(i, dense_[i]);
        dense_[i] = 0;
      }
    double sum = 0, min = 0, max = 0;
    std::uint64_t rejected = 0;
    bool any = false;
    for (auto* h : group) {
      rejected += h->data.rejected();
      if (h->data.count() == 0)
        continue;
      sum += h->data.sum();
      min = any ? std::min(min, h->data.min()) : h->data.min();
      max = any ? std::max(max, h->data.max()) : h->data.max();
      any = true;
    }
    return {std::move(buckets), sum, min, max, rejected};
  }

private:
  static histogram_snapshot pairwise(const std::vector<const histogram_sample*>& group) {
    histogram_snapshot acc;
    for (auto* h : group)
      acc.merge(h->data);
    return acc;
  }

  std::vector<std::uint64_t> dense_ = std::vector<std::uint64_t>(bucket_layout::size);
};

// What one node brings to a merge: a snapshot (its latest, or for the rare nodes
// that need relabelling or have retired data, node_contribution's result), whether
// its levels count, and its families.
struct part {
  const cluster_node* node = nullptr;
  const snapshot* s = nullptr;
  bool levels = true;
  std::vector<const family_ref*> families;
};

template <class Vec>
bool any_node_label(const Vec& v) {
  return std::any_of(v.begin(), v.end(), [](auto& x) {
    auto& ls = x.labels();
    return std::any_of(ls.begin(), ls.end(), [](auto& l) { return l.first == node_label; });
  });
}

// Fills p.s (owning into `owned` when needed) and p.families; throws
// std::invalid_argument when retired and latest clash.
void prepare(part& p, const cluster_node& n, snapshot& owned) {
  p.node = &n;
  bool retired = !holds_nothing(n.retired) || !holds_nothing(n.vanished);
  const snapshot* latest = n.latest.get();
  bool relabel = latest
                 && (any_node_label(latest->counters) || any_node_label(latest->histograms)
                     || (n.up && (any_node_label(latest->gauges) || any_node_label(latest->updowns))));
  if (retired || relabel) {
    owned = node_contribution(n);
    p.s = &owned;
    p.levels = true; // node_contribution dropped them already for a down node
  } else {
    p.s = latest;
    p.levels = n.up;
  }
  if (!p.s)
    return;
  for (auto& f : p.s->families)
    if (!foreign_cluster_metric(f->name)
        && (p.levels || f->kind == metric_kind::counter || f->kind == metric_kind::histogram))
      p.families.push_back(&f);
}

// True if a family of `mine` has another kind in `acc` (both sorted by name).
bool clashes(const std::vector<family_ref>& acc, const std::vector<const family_ref*>& mine) {
  auto a = acc.begin();
  for (auto* f : mine) {
    while (a != acc.end() && (*a)->name < (*f)->name)
      ++a;
    if (a != acc.end() && (*a)->name == (*f)->name && (*a)->kind != (*f)->kind)
      return true;
  }
  return false;
}

// Adds `mine` to `acc` (sorted by name; a family keeps the first non-empty help):
// in place when it brings no new name, as in a steady cluster.
void add_families(std::vector<family_ref>& acc, const std::vector<const family_ref*>& mine) {
  auto keep_help = [](family_ref& a, const family_ref& b) {
    if (a->help.empty() && !b->help.empty())
      a = b;
  };
  if (acc.size() == mine.size()) {
    bool same = true;
    for (std::size_t i = 0; same && i < acc.size(); ++i)
      same = acc[i]->name == (*mine[i])->name;
    if (same) {
      for (std::size_t i = 0; i < acc.size(); ++i)
        keep_help(acc[i], *mine[i]);
      return;
    }
  }
  std::vector<family_ref> out;
  out.reserve(acc.size() + mine.size());
  auto a = acc.begin();
  auto b = mine.begin();
  while (a != acc.end() || b != mine.end()) {
    if (b == mine.end() || (a != acc.end() && (*a)->name < (**b)->name))
      out.push_back(std::move(*a++));
    else if (a == acc.end() || (**b)->name < (*a)->name)
      out.push_back(**b++);
    else {
      keep_help(*a, **b++);
      out.push_back(std::move(*a++));
    }
  }
  acc = std::move(out);
}

// The runs of one kind: each accepted part's totals, and its copies when asked for.
template <class Sample>
std::vector<run<Sample>> runs_of(std::vector<Sample> snapshot::*samples, detail::relabelled detail::node_label_cache::*cached,
                                 bool level, std::vector<part>& parts, bool copies,
                                 std::vector<std::vector<std::uint32_t>>& kept) {
  std::vector<run<Sample>> runs;
  for (auto& k : kept)
    k.clear();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto& p = parts[i];
    if (!p.s || (level && !p.levels))
      continue;
    auto& v = p.s->*samples;
    runs.push_back(totals_run(v, kept[i]));
    if (copies) {
      auto& cache = p.node->labelled;
      if (!cache || cache->node != p.node->name) {
        cache = std::make_shared<detail::node_label_cache>();
        cache->node = p.node->name;
      }
      runs.push_back(copies_run(v, (*cache).*cached, p.node->name));
    }
  }
  return runs;
}

template <class Sample>
Sample sample_of(const series_ref& key) {
  Sample s;
  s.series = key;
  return s;
}

} // namespace

snapshot merge_cluster(const std::vector<cluster_node>& nodes, std::vector<std::string>* skipped,
                       merge_options opts) {
  snapshot acc;
  std::vector<part> parts;
  std::vector<snapshot> owned(nodes.size());
  parts.reserve(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    part p;
    try {
      prepare(p, nodes[i], owned[i]);
    } catch (const std::invalid_argument&) { // retired and latest disagree on a kind
      if (skipped)
        skipped->push_back(nodes[i].name);
      continue;
    }
    if (!p.s)
      continue;
    if (clashes(acc.families, p.families)) {
      if (skipped)
        skipped->push_back(nodes[i].name);
      continue;
    }
    add_families(acc.families, p.families);
    acc.wall_ns = std::max(acc.wall_ns, p.s->wall_ns);
    parts.push_back(std::move(p));
  }
  std::vector<std::vector<std::uint32_t>> kept(parts.size()); // totals_run's lists, per kind
  {
    auto runs = runs_of(&snapshot::counters, &detail::node_label_cache::counters, false, parts,
                        opts.per_node_series, kept);
    acc.counters = merge_runs(runs, [](const series_ref& key, auto& group) {
      auto c = sample_of<counter_sample>(key);
      for (auto* x : group)
        c.total += x->total;
      return c;
    });
  }
  {
    auto runs = runs_of(&snapshot::updowns, &detail::node_label_cache::updowns, true, parts, opts.per_node_series,
                        kept);
    acc.updowns = merge_runs(runs, [](const series_ref& key, auto& group) {
      auto u = sample_of<updown_sample>(key);
      for (auto* x : group) // wraps (a broken node's values) instead of overflowing
        u.total = static_cast<std::int64_t>(static_cast<std::uint64_t>(u.total) + static_cast<std::uint64_t>(x->total));
      return u;
    });
  }
  {
    auto runs = runs_of(&snapshot::gauges, &detail::node_label_cache::gauges, true, parts, opts.per_node_series,
                        kept);
    acc.gauges = merge_runs(runs, [](const series_ref& key, auto& group) {
      auto g = sample_of<gauge_sample>(key);
      g.current = group[0]->current;
      g.rejected = group[0]->rejected; // as snapshot::merge: the first node's
      for (std::size_t i = 1; i < group.size(); ++i)
        g.current += group[i]->current;
      return g;
    });
  }
  {
    auto runs = runs_of(&snapshot::histograms, &detail::node_label_cache::histograms, false, parts,
                        opts.per_node_series, kept);
    histogram_adder add;
    acc.histograms = merge_runs(runs, [&](const series_ref& key, auto& group) {
      auto h = sample_of<histogram_sample>(key);
      h.data = add(group);
      return h;
    });
  }
  acc.mono_ns = 0;
  return acc;
}

} // namespace metron::remote
