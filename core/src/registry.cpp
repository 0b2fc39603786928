#include "metron/registry.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <type_traits>

namespace metron {

namespace {

// Orders a family's series by their labels; looks them up by a label set too, so
// the interned identity is the map's key and the labels are stored once.
struct by_labels {
  using is_transparent = void;
  bool operator()(const series_ref& a, const series_ref& b) const { return a.labels() < b.labels(); }
  bool operator()(const series_ref& a, const metron::labels& b) const { return a.labels() < b; }
  bool operator()(const metron::labels& a, const series_ref& b) const { return a < b.labels(); }
};

// The label set of a family's overflow series (registry_config::label_set_limit_action).
const metron::labels& overflow_labels() {
  static const metron::labels ls{{"otel_overflow", "true"}};
  return ls;
}

// A series' recorded values, as compared between snapshots (idle expiry, comeback):
// whatever a record() / add() / set() changes.
using print = std::array<std::uint64_t, 2>;
print fingerprint(const counter_sample& s) { return {s.total, 0}; }
print fingerprint(const updown_sample& s) { return {static_cast<std::uint64_t>(s.total), 0}; }
print fingerprint(const gauge_sample& s) { return {std::bit_cast<std::uint64_t>(s.current), s.rejected}; }
print fingerprint(const histogram_sample& s) { return {s.data.count(), s.data.rejected()}; }

// The sample of one flat entry (what snapshot() copies).
template <class E>
auto read_sample(const E& e) {
  using M = std::remove_cv_t<std::remove_pointer_t<decltype(e.metric)>>;
  if constexpr (std::is_same_v<M, metron::counter>)
    return counter_sample{{e.id}, e.metric->value()};
  else if constexpr (std::is_same_v<M, metron::updown_counter>)
    return updown_sample{{e.id}, e.metric->value()};
  else if constexpr (std::is_same_v<M, metron::gauge>)
    return gauge_sample{{e.id}, e.metric->value(), e.metric->rejected()};
  else
    return histogram_sample{{e.id}, e.metric->snapshot()};
}

} // namespace

// The family's declared monotonic flag for metric type M (family_info::monotonic).
template <class M>
constexpr bool declared_monotonic = std::is_same_v<M, metron::settable_counter>;

// Guarded by mutex_: read under either lock, written under the exclusive one.
struct registry::lifecycle {
  family* fam = nullptr;
  bool overflow = false; // the family's {otel_overflow="true"} series: outside the limits
  bool live = true;
  print seen{};               // the recorded values at the last look
  std::int64_t changed_ns = 0; // clock time (now_ns) they were last seen to change
};

template <class M>
struct registry::node {
  explicit node(const detail::mode_flag* lock_free) : metric(lock_free) {}
  M metric;
  lifecycle life;
};

struct registry::family {
  template <class M>
  using series_map = std::map<series_ref, std::unique_ptr<node<M>>, by_labels>;

  metric_kind kind;
  bool monotonic;
  family_ref ref; // replaced (never changed) when a help text arrives later
  series_map<metron::counter> counters;
  series_map<metron::updown_counter> updowns;
  series_map<metron::gauge> gauges;
  series_map<metron::histogram> histograms;
  series_map<metron::settable_counter> settables;
  std::size_t live = 0;    // live series
  std::size_t counted = 0; // live series counted against max_label_sets (not the overflow one)

  template <class M>
  auto& series() {
    if constexpr (std::is_same_v<M, metron::counter>)
      return counters;
    else if constexpr (std::is_same_v<M, metron::updown_counter>)
      return updowns;
    else if constexpr (std::is_same_v<M, metron::gauge>)
      return gauges;
    else if constexpr (std::is_same_v<M, metron::settable_counter>)
      return settables;
    else
      return histograms;
  }

  /// f(map) for each series map; true if one of the calls returned true.
  template <class F>
  bool any_map(F f) {
    return f(counters) || f(updowns) || f(gauges) || f(histograms) || f(settables);
  }

  /// "gauge", or "settable counter" for a gauge family declared monotonic.
  std::string kind_name() const { return monotonic ? "settable counter" : to_string(kind); }
};

namespace {
std::int64_t wall_now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}
} // namespace

// What one snapshot() does besides reading: with `manage`, compare each series' values
// with the last look, retire the idle, bring back the retired that changed.
struct registry::pass {
  bool manage;
  std::int64_t now;
  std::int64_t idle; // idle_expiry in ns; 0: never
  // Rejected values and dropped exemplars of the retired series read (not emitted):
  // the self counters sum over every series, so a retirement never lowers them.
  std::uint64_t hidden_rejected = 0;
  std::uint64_t hidden_dropped = 0;
};

registry::registry(registry_config cfg) : lock_free_(cfg.lock_free), cfg_(cfg) {
  static const char* reasons[refusal_kinds] = {"invalid", "label_sets", "series"};
  for (int r = 0; r < refusal_kinds; ++r)
    refusal_ids_[r] = series_ref::make("metron_registry_refusals_total", {{"reason", reasons[r]}}, metric_kind::counter);
  refusals_family_ = family_ref::make("metron_registry_refusals_total", metric_kind::counter,
                                      "Metric creations the registry refused, by reason");
  rejected_values_id_ = series_ref::make("metron_rejected_values_total", {}, metric_kind::counter);
  rejected_values_family_ = family_ref::make("metron_rejected_values_total", metric_kind::counter,
                                             "Values rejected by this registry's gauges and histograms "
                                             "(NaN, infinite, negative, out of memory)");
  collector_errors_id_ = series_ref::make("metron_collector_errors_total", {}, metric_kind::counter);
  collector_errors_family_ = family_ref::make("metron_collector_errors_total", metric_kind::counter,
                                              "Collector runs (registry::add_collector) that threw");
  exemplars_dropped_id_ = series_ref::make("metron_exemplars_dropped_total", {}, metric_kind::counter);
  exemplars_dropped_family_ = family_ref::make("metron_exemplars_dropped_total", metric_kind::counter,
                                               "Exemplars this registry's histograms dropped "
                                               "(queue full, invalid, contended, out of memory)");
  static const char* why[retire_reasons] = {"removed", "idle"};
  for (int r = 0; r < retire_reasons; ++r)
    retired_ids_[r] = series_ref::make("metron_registry_retired_total", {{"reason", why[r]}}, metric_kind::counter);
  retired_family_ = family_ref::make("metron_registry_retired_total", metric_kind::counter,
                                     "Series the registry retired (registry::remove, idle expiry), by reason");
  anchor_ = std::shared_ptr<registry_anchor>(new registry_anchor(this));
}

registry::~registry() {
  anchor_->retire(); // waits for every with() in progress; later ones return false
}

void registry::refuse(refusal why, const std::exception& e) {
  refusals_[why].fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
  if (auto* le = dynamic_cast<const std::length_error*>(&e))
    throw *le;
  throw std::invalid_argument(e.what());
}

void registry::validate(metric_kind kind, std::string_view name, const metron::labels& ls, std::string_view help) {
  auto fail = [&](const std::string& what) { refuse(invalid, std::invalid_argument("metron: " + what)); };
  if (name.size() > cfg_.max_name_bytes)
    fail("metric name '" + detail::quoted(name) + "' is longer than " + std::to_string(cfg_.max_name_bytes)
         + " bytes (registry_config::max_name_bytes)");
  if (!valid_metric_name(name))
    fail("invalid metric name '" + detail::quoted(name) + "' (must match [a-zA-Z_:][a-zA-Z0-9_:]*)");
  if (ls.size() > cfg_.max_labels)
    fail("metric '" + std::string{name} + "' has " + std::to_string(ls.size()) + " labels, more than "
         + std::to_string(cfg_.max_labels) + " (registry_config::max_labels)");
  for (auto& [k, v] : ls) {
    if (k.size() > cfg_.max_name_bytes)
      fail("label key '" + detail::quoted(k) + "' of metric '" + std::string{name} + "' is longer than "
           + std::to_string(cfg_.max_name_bytes) + " bytes (registry_config::max_name_bytes)");
    if (v.size() > cfg_.max_label_value_bytes)
      fail("the value of label '" + detail::quoted(k) + "' of metric '" + std::string{name} + "' is longer than "
           + std::to_string(cfg_.max_label_value_bytes) + " bytes (registry_config::max_label_value_bytes)");
    if (kind == metric_kind::histogram && (k == "le" || k == "quantile"))
      fail("label key '" + k + "' is reserved for histogram '" + std::string{name} + "'");
  }
  if (help.size() > cfg_.max_help_bytes)
    fail("the help text of metric '" + std::string{name} + "' is longer than " + std::to_string(cfg_.max_help_bytes)
         + " bytes (registry_config::max_help_bytes)");
  if (!valid_utf8(help))
    fail("the help text of metric '" + std::string{name} + "' is not valid UTF-8");
}

template <class M>
auto& registry::flat() {
  if constexpr (std::is_same_v<M, metron::counter>)
    return flat_counters_;
  else if constexpr (std::is_same_v<M, metron::updown_counter>)
    return flat_updowns_;
  else if constexpr (std::is_same_v<M, metron::gauge> || std::is_same_v<M, metron::settable_counter>)
    return flat_gauges_; // a settable counter is read as its gauge cell
  else
    return flat_histograms_;
}

std::int64_t registry::now_ns() const {
  auto t = cfg_.clock ? cfg_.clock() : std::chrono::steady_clock::now();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

void registry::retire(lifecycle& l, retire_reason why) const {
  l.live = false;
  --l.fam->live;
  if (!l.overflow)
    --l.fam->counted;
  --series_;
  ++retired_now_;
  retirements_[why].fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
}

void registry::revive(lifecycle& l, std::int64_t now) const {
  l.live = true;
  l.changed_ns = now;
  ++l.fam->live;
  if (!l.overflow)
    ++l.fam->counted;
  ++series_;
  --retired_now_;
}

template <class M>
M& registry::get_or_create(metric_kind kind, std::string_view name, metron::labels ls,
                           std::string_view help) {
  validate(kind, name, ls, help);
  try {
    ls = normalized(std::move(ls));
  } catch (const std::invalid_argument& e) {
    refuse(invalid, e);
  }
  constexpr bool monotonic = declared_monotonic<M>;
  auto kind_error = [&](const family& f) {
    refuse(invalid, std::invalid_argument("metron: metric '" + std::string{name} + "' is already a "
                                          + f.kind_name() + ", not a "
                                          + (monotonic ? std::string{"settable counter"} : to_string(kind))));
  };
  auto clashes = [&](const family& f) { return f.kind != kind || f.monotonic != monotonic; };
  { // Fast path: the metric exists and is live.
    std::shared_lock lock{mutex_};
    if (auto it = families_.find(name); it != families_.end()) {
      if (clashes(*it->second))
        kind_error(*it->second);
      auto& s = it->second->template series<M>();
      if (auto m = s.find(ls); m != s.end() && m->second->life.live)
        return m->second->metric;
    }
  }
  std::unique_lock lock{mutex_};
  const bool overflow = ls == overflow_labels(); // one per family: outside the limits
  auto it = families_.find(name);
  family* f = it == families_.end() ? nullptr : it->second.get();
  if (f != nullptr) {
    if (clashes(*f))
      kind_error(*f);
    auto& s = f->template series<M>();
    auto m = s.find(ls);
    if (m != s.end() && m->second->life.live)
      return m->second->metric;
    // A new or a retired identity: a registration, the limits apply.
    if (!overflow && f->counted >= cfg_.max_label_sets)
      return at_limit<M>(*f, label_sets,
                         std::length_error("metron: metric '" + std::string{name} + "' already has "
                                           + std::to_string(f->counted)
                                           + " label sets, the registry's limit (registry_config::max_label_sets); "
                                             "drop a high-cardinality label or raise the limit"),
                         help);
    if (!overflow && series_ >= cfg_.max_series)
      return at_limit<M>(*f, series_limit,
                         std::length_error("metron: the registry already has " + std::to_string(series_)
                                           + " series, its limit (registry_config::max_series)"),
                         help);
    if (m != s.end()) {
      revive(m->second->life, now_ns());
      return m->second->metric;
    }
  } else if (series_ >= cfg_.max_series) { // a new name has no overflow series to fall back on
    refuse(series_limit, std::length_error("metron: the registry already has " + std::to_string(series_)
                                           + " series, its limit (registry_config::max_series)"));
  }
  return add_series<M>(f, name, std::move(ls), kind, help, overflow);
}

template <class M>
M& registry::at_limit(family& f, refusal why, const std::length_error& e, std::string_view help) {
  if (cfg_.label_set_limit_action == on_limit::throw_error)
    refuse(why, e);
  refusals_[why].fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
  auto& s = f.template series<M>();
  if (auto m = s.find(overflow_labels()); m != s.end()) {
    if (!m->second->life.live)
      revive(m->second->life, now_ns());
    return m->second->metric;
  }
  return add_series<M>(&f, f.ref->name, overflow_labels(), f.kind, help, true);
}

template <class M>
M& registry::add_series(family* f, std::string_view name, metron::labels ls, metric_kind kind,
                        std::string_view help, bool overflow) {
  constexpr bool monotonic = declared_monotonic<M>;
  // Everything that can throw happens before the registry changes.
  auto id = series_ref::make(std::string{name}, std::move(ls), kind, wall_now_ns());
  auto fresh = std::make_unique<node<M>>(&lock_free_);
  auto& fl = flat<M>();
  fl.reserve(fl.size() + 1);
  flat_families_.reserve(flat_families_.size() + 1);
  auto fresh_family = family_ref::make(std::string{name}, kind, std::string{help}, monotonic);
  auto by_name = [](const flat_family& e, std::string_view n) { return e.ref->name < n; };
  if (f == nullptr) {
    auto fam = std::unique_ptr<family>(new family{kind, monotonic, fresh_family, {}, {}, {}, {}, {}});
    f = fam.get();
    families_.emplace(std::string{name}, std::move(fam));
    auto pos = std::lower_bound(flat_families_.begin(), flat_families_.end(), name, by_name);
    flat_families_.insert(pos, flat_family{fresh_family, f});
  } else if (f->ref->help.empty() && !help.empty()) {
    auto pos = std::lower_bound(flat_families_.begin(), flat_families_.end(), name, by_name);
    pos->ref = f->ref = fresh_family; // snapshots taken before keep the old identity
  }
  node<M>& n = *fresh;
  n.life.fam = f;
  n.life.overflow = overflow;
  if (cfg_.idle_expiry.count() > 0)
    n.life.changed_ns = now_ns();
  f->template series<M>().emplace(id, std::move(fresh));
  using stored = typename std::remove_reference_t<decltype(fl)>::value_type;
  auto pos = std::upper_bound(fl.begin(), fl.end(), id, [](const series_ref& a, const stored& e) { return a < e.id; });
  if constexpr (monotonic)
    fl.insert(pos, stored{std::move(id), &n.metric.cell_, &n.life});
  else
    fl.insert(pos, stored{std::move(id), &n.metric, &n.life});
  ++f->live;
  if (!overflow)
    ++f->counted;
  ++series_;
  return n.metric;
}

bool registry::remove(std::string_view name, const metron::labels& ls) {
  metron::labels key;
  try {
    key = normalized(ls);
  } catch (const std::invalid_argument&) {
    return false; // a repeated label key: no series has this label set
  }
  std::unique_lock lock{mutex_};
  auto it = families_.find(name);
  if (it == families_.end())
    return false;
  return it->second->any_map([&](auto& s) {
    auto m = s.find(key);
    if (m == s.end() || !m->second->life.live)
      return false;
    auto& n = *m->second;
    // The values now: what a comeback is compared with (a later record changes them).
    using M = decltype(n.metric);
    if constexpr (declared_monotonic<M>) // read as its gauge cell, as snapshots do
      n.life.seen = fingerprint(read_sample(entry<metron::gauge>{m->first, &n.metric.cell_, nullptr}));
    else
      n.life.seen = fingerprint(read_sample(entry<M>{m->first, &n.metric, nullptr}));
    retire(n.life, removed);
    return true;
  });
}

std::size_t registry::retired() const {
  std::shared_lock lock{mutex_};
  return retired_now_;
}

metron::counter& registry::counter(std::string_view name, metron::labels ls, std::string_view help) {
  return get_or_create<metron::counter>(metric_kind::counter, name, std::move(ls), help);
}

metron::updown_counter& registry::updown_counter(std::string_view name, metron::labels ls,
                                                 std::string_view help) {
  return get_or_create<metron::updown_counter>(metric_kind::updown_counter, name, std::move(ls), help);
}

metron::gauge& registry::gauge(std::string_view name, metron::labels ls, std::string_view help) {
  return get_or_create<metron::gauge>(metric_kind::gauge, name, std::move(ls), help);
}

metron::histogram& registry::histogram(std::string_view name, metron::labels ls, std::string_view help) {
  return get_or_create<metron::histogram>(metric_kind::histogram, name, std::move(ls), help);
}

metron::settable_counter& registry::settable_counter(std::string_view name, metron::labels ls,
                                                     std::string_view help) {
  return get_or_create<metron::settable_counter>(metric_kind::gauge, name, std::move(ls), help);
}

// -- collectors ------------------------------------------------------------------------

void registry::refuse_if_collecting(const char* what) const {
  // Only the collecting thread stores its own id, and a thread always reads its own
  // latest store (coherence), so this sees our id exactly while we collect.
  if (collecting_on_.load(std::memory_order_relaxed) == std::this_thread::get_id()) // relaxed: own store
    throw std::logic_error(std::string{"metron: registry::"} + what
                           + " called from one of the registry's own collectors");
}

collector_id registry::add_collector(std::function<void()> collect) {
  if (!collect)
    throw std::invalid_argument("metron: registry::add_collector needs a callable, not an empty function");
  refuse_if_collecting("add_collector");
  std::lock_guard lock{collectors_mutex_};
  collectors_.push_back({next_collector_, std::move(collect)});
  return next_collector_++;
}

bool registry::remove_collector(collector_id id) {
  refuse_if_collecting("remove_collector");
  std::function<void()> removed; // destroyed after the lock is released
  std::lock_guard lock{collectors_mutex_}; // waits for a run in progress
  auto it = std::find_if(collectors_.begin(), collectors_.end(), [id](auto& c) { return c.id == id; });
  if (it == collectors_.end())
    return false;
  removed = std::move(it->collect);
  collectors_.erase(it);
  return true;
}

namespace {

// A callback metric: make() gets or creates it, a collector sets it to read().
template <class Make>
collector_id add_callback(registry& reg, const char* what, std::function<double()> read, Make make) {
  if (!read)
    throw std::invalid_argument(std::string{"metron: registry::"} + what + " needs a callable, not an empty function");
  auto& metric = make();
  return reg.add_collector([&metric, read = std::move(read)] { metric.set(read()); });
}

} // namespace

collector_id registry::gauge_callback(std::string_view name, metron::labels ls, std::string_view help,
                                      std::function<double()> read) {
  return add_callback(*this, "gauge_callback", std::move(read),
                      [&]() -> metron::gauge& { return gauge(name, std::move(ls), help); });
}

collector_id registry::counter_callback(std::string_view name, metron::labels ls, std::string_view help,
                                        std::function<double()> read) {
  return add_callback(*this, "counter_callback", std::move(read),
                      [&]() -> metron::settable_counter& { return settable_counter(name, std::move(ls), help); });
}

void registry::run_collectors() const {
  refuse_if_collecting("snapshot");
  std::lock_guard lock{collectors_mutex_};
  if (collectors_.empty())
    return;
  collecting_on_.store(std::this_thread::get_id(), std::memory_order_relaxed); // relaxed: see refuse_if_collecting
  for (auto& c : collectors_) {
    try {
      c.collect();
    } catch (...) {
      collector_errors_.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
    }
  }
  collecting_on_.store(std::thread::id{}, std::memory_order_relaxed); // relaxed: see refuse_if_collecting
}

// -- reading -----------------------------------------------------------------------------

void registry::add_self_metrics(metron::snapshot& s, std::uint64_t rejected,
                                std::uint64_t exemplars_dropped) const {
  for (auto& g : s.gauges)
    rejected += g.rejected;
  for (auto& h : s.histograms) {
    rejected += h.data.rejected();
    exemplars_dropped += h.data.exemplars_dropped();
  }
  std::uint64_t refusals[refusal_kinds];
  bool refused = false;
  for (int r = 0; r < refusal_kinds; ++r) {
    refusals[r] = refusals_[r].load(std::memory_order_relaxed); // relaxed: a pure count
    refused = refused || refusals[r] != 0;
  }
  std::uint64_t errors = collector_errors();
  std::uint64_t retirements[retire_reasons];
  bool retired_any = false;
  for (int r = 0; r < retire_reasons; ++r) {
    retirements[r] = retirements_[r].load(std::memory_order_relaxed); // relaxed: a pure count
    retired_any = retired_any || retirements[r] != 0;
  }
  if (!refused && rejected == 0 && errors == 0 && exemplars_dropped == 0 && !retired_any)
    return;
  // Adds family f unless a user metric has its name (theirs wins); true if added.
  auto add_family = [&](const family_ref& f) {
    if (s.find_family(f->name) != nullptr)
      return false;
    s.families.insert(std::upper_bound(s.families.begin(), s.families.end(), f,
                                       [](const family_ref& a, const family_ref& b) { return a->name < b->name; }),
                      f);
    return true;
  };
  auto add = [&](const series_ref& id, std::uint64_t v) {
    s.counters.insert(std::upper_bound(s.counters.begin(), s.counters.end(), id,
                                       [](const series_ref& a, const counter_sample& c) { return a < c.series; }),
                      counter_sample{{id}, v});
  };
  if (refused && add_family(refusals_family_))
    for (int r = 0; r < refusal_kinds; ++r)
      add(refusal_ids_[r], refusals[r]);
  if (rejected != 0 && add_family(rejected_values_family_))
    add(rejected_values_id_, rejected);
  if (errors != 0 && add_family(collector_errors_family_))
    add(collector_errors_id_, errors);
  if (exemplars_dropped != 0 && add_family(exemplars_dropped_family_))
    add(exemplars_dropped_id_, exemplars_dropped);
  if (retired_any && add_family(retired_family_))
    for (int r = 0; r < retire_reasons; ++r)
      add(retired_ids_[r], retirements[r]);
}

template <class E, class S>
void registry::read_into(const std::vector<E>& fl, std::vector<S>& out, pass& p) const {
  out.reserve(fl.size());
  for (auto& e : fl) {
    if (!p.manage) { // nothing retired, no expiry: every series is live
      out.push_back(read_sample(e));
      continue;
    }
    S sample = read_sample(e); // a retired series too: has it been recorded into?
    lifecycle& l = *e.life;
    if (auto now = fingerprint(sample); now != l.seen) {
      l.seen = now;
      l.changed_ns = p.now;
      if (!l.live)
        revive(l, p.now); // recorded into since it was retired: back, totals continuing
    } else if (l.live && p.idle > 0 && p.now - l.changed_ns >= p.idle) {
      retire(l, idle);
    }
    if (l.live) {
      out.push_back(std::move(sample));
    } else if constexpr (std::is_same_v<S, gauge_sample>) {
      p.hidden_rejected += sample.rejected;
    } else if constexpr (std::is_same_v<S, histogram_sample>) {
      p.hidden_rejected += sample.data.rejected();
      p.hidden_dropped += sample.data.exemplars_dropped();
    }
  }
}

metron::snapshot registry::snapshot() const {
  run_collectors();
  metron::snapshot s;
  // Without expiry and with nothing retired, reading changes nothing: a shared lock,
  // as before lifecycles existed. Otherwise this snapshot may retire and revive
  // series: the exclusive lock (creation waits, as it waits for any read; recording
  // never takes the lock).
  std::shared_lock shared{mutex_};
  std::unique_lock<std::shared_mutex> exclusive;
  pass p{cfg_.idle_expiry.count() > 0 || retired_now_ > 0, 0, cfg_.idle_expiry.count()};
  if (p.manage) {
    shared.unlock();
    exclusive = std::unique_lock{mutex_};
  }
  p.now = now_ns();
  s.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch()).count();
  s.mono_ns = p.now;
  read_into(flat_counters_, s.counters, p);
  read_into(flat_updowns_, s.updowns, p);
  read_into(flat_gauges_, s.gauges, p);
  read_into(flat_histograms_, s.histograms, p);
  s.families.reserve(flat_families_.size());
  for (auto& f : flat_families_)
    if (f.fam->live > 0)
      s.families.push_back(f.ref);
  if (exclusive.owns_lock())
    exclusive.unlock();
  else
    shared.unlock();
  add_self_metrics(s, p.hidden_rejected, p.hidden_dropped);
  return s;
}

std::size_t registry::size() const {
  std::shared_lock lock{mutex_};
  return series_;
}

std::size_t registry::bytes() const {
  std::shared_lock lock{mutex_};
  std::size_t n = 0;
  for (auto& e : flat_counters_)
    n += e.metric->bytes();
  for (auto& e : flat_updowns_)
    n += e.metric->bytes();
  n += flat_gauges_.size() * sizeof(metron::gauge);
  for (auto& e : flat_histograms_)
    n += e.metric->bytes();
  return n;
}

void registry::set_max_label_sets(std::size_t n) {
  std::unique_lock lock{mutex_};
  cfg_.max_label_sets = n;
}

std::size_t registry::max_label_sets() const {
  std::shared_lock lock{mutex_};
  return cfg_.max_label_sets;
}

} // namespace metron
