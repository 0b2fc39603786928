#include "metron/registry.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>

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

template <class M>
using series_map = std::map<series_ref, std::unique_ptr<M>, by_labels>;

} // namespace

// The family's declared monotonic flag for metric type M (family_info::monotonic).
template <class M>
constexpr bool declared_monotonic = std::is_same_v<M, metron::settable_counter>;

struct registry::family {
  metric_kind kind;
  bool monotonic;
  family_ref ref; // replaced (never changed) when a help text arrives later
  series_map<metron::counter> counters;
  series_map<metron::updown_counter> updowns;
  series_map<metron::gauge> gauges;
  series_map<metron::histogram> histograms;
  series_map<metron::settable_counter> settables;

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

  std::size_t size() const {
    return counters.size() + updowns.size() + gauges.size() + histograms.size() + settables.size();
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
  { // Fast path: the metric exists.
    std::shared_lock lock{mutex_};
    if (auto it = families_.find(name); it != families_.end()) {
      if (clashes(*it->second))
        kind_error(*it->second);
      auto& s = it->second->template series<M>();
      if (auto m = s.find(ls); m != s.end())
        return *m->second;
    }
  }
  std::unique_lock lock{mutex_};
  auto it = families_.find(name);
  if (it != families_.end()) {
    family& f = *it->second;
    if (clashes(f))
      kind_error(f);
    auto& s = f.template series<M>();
    if (auto m = s.find(ls); m != s.end())
      return *m->second;
    if (f.size() >= cfg_.max_label_sets)
      refuse(label_sets, std::length_error(
                           "metron: metric '" + std::string{name} + "' already has " + std::to_string(f.size())
                           + " label sets, the registry's limit (registry_config::max_label_sets); drop a "
                             "high-cardinality label or raise the limit"));
  }
  if (series_ >= cfg_.max_series)
    refuse(series_limit, std::length_error("metron: the registry already has " + std::to_string(series_)
                                           + " series, its limit (registry_config::max_series)"));
  // Everything that can throw happens before the registry changes.
  auto id = series_ref::make(std::string{name}, std::move(ls), kind, wall_now_ns());
  auto metric = std::make_unique<M>(&lock_free_);
  auto& fl = flat<M>();
  fl.reserve(fl.size() + 1);
  flat_families_.reserve(flat_families_.size() + 1);
  auto fresh_family = family_ref::make(std::string{name}, kind, std::string{help}, monotonic);
  if (it == families_.end()) {
    it = families_.emplace(std::string{name},
                           std::unique_ptr<family>(new family{kind, monotonic, fresh_family, {}, {}, {}, {}, {}}))
           .first;
    auto pos = std::lower_bound(flat_families_.begin(), flat_families_.end(), name,
                                [](const family_ref& f, std::string_view n) { return f->name < n; });
    flat_families_.insert(pos, fresh_family);
  } else if (it->second->ref->help.empty() && !help.empty()) {
    auto pos = std::lower_bound(flat_families_.begin(), flat_families_.end(), name,
                                [](const family_ref& f, std::string_view n) { return f->name < n; });
    *pos = it->second->ref = fresh_family; // snapshots taken before keep the old identity
  }
  M& ref = *metric;
  it->second->template series<M>().emplace(id, std::move(metric));
  using stored = typename std::remove_reference_t<decltype(fl)>::value_type;
  auto pos = std::upper_bound(fl.begin(), fl.end(), id, [](const series_ref& a, const stored& e) { return a < e.id; });
  if constexpr (monotonic)
    fl.insert(pos, stored{std::move(id), &ref.cell_});
  else
    fl.insert(pos, stored{std::move(id), &ref});
  ++series_;
  return ref;
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

void registry::add_self_metrics(metron::snapshot& s) const {
  std::uint64_t rejected = 0;
  for (auto& g : s.gauges)
    rejected += g.rejected;
  std::uint64_t exemplars_dropped = 0;
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
  if (!refused && rejected == 0 && errors == 0 && exemplars_dropped == 0)
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
}

metron::snapshot registry::snapshot() const {
  run_collectors();
  metron::snapshot s;
  std::shared_lock lock{mutex_};
  s.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch()).count();
  s.mono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now().time_since_epoch()).count();
  s.families = flat_families_;
  s.counters.reserve(flat_counters_.size());
  for (auto& [id, m] : flat_counters_)
    s.counters.push_back({{id}, m->value()});
  s.updowns.reserve(flat_updowns_.size());
  for (auto& [id, m] : flat_updowns_)
    s.updowns.push_back({{id}, m->value()});
  s.gauges.reserve(flat_gauges_.size());
  for (auto& [id, m] : flat_gauges_)
    s.gauges.push_back({{id}, m->value(), m->rejected()});
  s.histograms.reserve(flat_histograms_.size());
  for (auto& [id, m] : flat_histograms_)
    s.histograms.push_back({{id}, m->snapshot()});
  lock.unlock();
  add_self_metrics(s);
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
