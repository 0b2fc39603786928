#include "metron/registry.hpp"

#include <chrono>
#include <mutex>
#include <stdexcept>

namespace metron {

struct registry::family {
  metric_kind kind;
  std::string help;
  std::map<metron::labels, std::unique_ptr<metron::counter>> counters;
  std::map<metron::labels, std::unique_ptr<metron::updown_counter>> updowns;
  std::map<metron::labels, std::unique_ptr<metron::gauge>> gauges;
  std::map<metron::labels, std::unique_ptr<metron::histogram>> histograms;

  template <class M>
  auto& series() {
    if constexpr (std::is_same_v<M, metron::counter>)
      return counters;
    else if constexpr (std::is_same_v<M, metron::updown_counter>)
      return updowns;
    else if constexpr (std::is_same_v<M, metron::gauge>)
      return gauges;
    else
      return histograms;
  }

  std::size_t size() const {
    return counters.size() + updowns.size() + gauges.size() + histograms.size();
  }
};

registry::registry(registry_config cfg) : lock_free_(cfg.lock_free), max_label_sets_(cfg.max_label_sets) {}

registry::~registry() = default;

template <class M>
M& registry::get_or_create(metric_kind kind, std::string_view name, metron::labels ls,
                           std::string_view help) {
  if (!valid_metric_name(name))
    throw std::invalid_argument("metron: invalid metric name '" + std::string{name}
                                + "' (must match [a-zA-Z_:][a-zA-Z0-9_:]*)");
  ls = normalized(std::move(ls));
  if (kind == metric_kind::histogram)
    for (auto& [k, v] : ls)
      if (k == "le" || k == "quantile")
        throw std::invalid_argument("metron: label key '" + k + "' is reserved for histogram '"
                                    + std::string{name} + "'");
  auto kind_error = [&](const family& f) {
    return std::invalid_argument("metron: metric '" + std::string{name} + "' is already a "
                                 + to_string(f.kind) + ", not a " + to_string(kind));
  };
  { // Fast path: the metric exists.
    std::shared_lock lock{mutex_};
    if (auto it = families_.find(name); it != families_.end()) {
      if (it->second->kind != kind)
        throw kind_error(*it->second);
      auto& s = it->second->template series<M>();
      if (auto m = s.find(ls); m != s.end())
        return *m->second;
    }
  }
  std::unique_lock lock{mutex_};
  auto it = families_.find(name);
  if (it == families_.end())
    it = families_.emplace(std::string{name}, std::unique_ptr<family>(new family{kind, std::string{help}, {}, {}, {}, {}})).first;
  family& f = *it->second;
  if (f.kind != kind)
    throw kind_error(f);
  if (f.help.empty())
    f.help = help;
  auto& s = f.template series<M>();
  if (auto m = s.find(ls); m != s.end())
    return *m->second;
  if (f.size() >= max_label_sets_) {
    rejected_label_sets_.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
    throw std::length_error("metron: metric '" + std::string{name} + "' already has "
                            + std::to_string(f.size()) + " label sets, the registry's limit "
                            "(registry_config::max_label_sets); drop a high-cardinality label or raise the limit");
  }
  auto metric = std::make_unique<M>(&lock_free_);
  M& ref = *metric;
  s.emplace(std::move(ls), std::move(metric));
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

metron::snapshot registry::snapshot() const {
  metron::snapshot s;
  std::shared_lock lock{mutex_};
  s.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch()).count();
  s.mono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now().time_since_epoch()).count();
  s.families.reserve(families_.size());
  for (auto& [name, f] : families_) {
    s.families.push_back({name, f->kind, f->help});
    for (auto& [ls, m] : f->counters)
      s.counters.push_back({name, ls, m->value(), 0, {}});
    for (auto& [ls, m] : f->updowns)
      s.updowns.push_back({name, ls, m->value()});
    for (auto& [ls, m] : f->gauges)
      s.gauges.push_back({name, ls, m->value()});
    for (auto& [ls, m] : f->histograms)
      s.histograms.push_back({name, ls, m->snapshot(), 0, {}, {}});
  }
  return s;
}

std::size_t registry::size() const {
  std::shared_lock lock{mutex_};
  std::size_t n = 0;
  for (auto& [name, f] : families_)
    n += f->size();
  return n;
}

std::size_t registry::bytes() const {
  std::shared_lock lock{mutex_};
  std::size_t n = 0;
  for (auto& [name, f] : families_) {
    for (auto& [ls, m] : f->counters)
      n += m->bytes();
    for (auto& [ls, m] : f->updowns)
      n += m->bytes();
    n += f->gauges.size() * sizeof(metron::gauge);
    for (auto& [ls, m] : f->histograms)
      n += m->bytes();
  }
  return n;
}

void registry::set_max_label_sets(std::size_t n) {
  std::unique_lock lock{mutex_};
  max_label_sets_ = n;
}

std::size_t registry::max_label_sets() const {
  std::shared_lock lock{mutex_};
  return max_label_sets_;
}

} // namespace metron
