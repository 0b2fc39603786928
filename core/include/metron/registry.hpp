// metron/registry.hpp — metrics by name and label set.
//
// The registry creates metrics on first request and returns references that stay
// valid for the registry's lifetime; asking again for the same (name, labels)
// returns the same metric. Record through the reference: that never takes a lock.
// Creating or looking up a metric takes the registry's lock (a shared lock for a
// lookup that finds the metric).
//
// Errors (clear exceptions, nothing registered):
// - std::invalid_argument: invalid metric name or label key, a repeated label key,
//   a label key reserved for the kind ("le", "quantile" on histograms), or a name
//   already registered with another kind;
// - std::length_error: a name that already has max_label_sets label sets (the
//   cardinality limit; each refusal is also counted in rejected_label_sets()).
//
// Mode: set_lock_free(false) switches every metric of this registry to the locked
// (mutex) collectors at once, set_lock_free(true) back. Both stores of every metric
// are always summed, so nothing recorded in either mode is lost at a switch.
//
// Concurrency: every member is thread-safe. snapshot() holds a shared lock while it
// reads; metric creation waits for it, recording does not.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "metron/counter.hpp"
#include "metron/detail/mode.hpp"
#include "metron/gauge.hpp"
#include "metron/histogram.hpp"
#include "metron/labels.hpp"
#include "metron/snapshot.hpp"

namespace metron {

struct registry_config {
  /// Most label sets (series) one metric name may have.
  std::size_t max_label_sets = 1000;
  /// Start in lock-free mode (true) or with the locked collectors (false).
  bool lock_free = true;
};

class registry {
public:
  registry() : registry(registry_config{}) {}
  explicit registry(registry_config cfg);
  ~registry();

  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  // -- metrics (get or create) -------------------------------------------------------

  metron::counter& counter(std::string_view name, metron::labels ls = {}, std::string_view help = {});
  metron::updown_counter& updown_counter(std::string_view name, metron::labels ls = {},
                                         std::string_view help = {});
  metron::gauge& gauge(std::string_view name, metron::labels ls = {}, std::string_view help = {});
  metron::histogram& histogram(std::string_view name, metron::labels ls = {}, std::string_view help = {});

  // -- reading -----------------------------------------------------------------

  /// Reads every metric into a self-contained snapshot (wall_ns and mono_ns set).
  metron::snapshot snapshot() const;

  /// Number of series.
  std::size_t size() const;

  /// Bytes owned by all metrics now (cells, shards, locked stores, not the maps).
  std::size_t bytes() const;

  // -- configuration -----------------------------------------------------------

  /// Switches all metrics between the lock-free and the locked collectors.
  void set_lock_free(bool on) noexcept {
    lock_free_.store(on, std::memory_order_relaxed); // relaxed: see detail/mode.hpp
  }
  bool lock_free() const noexcept {
    return lock_free_.load(std::memory_order_relaxed); // relaxed: see detail/mode.hpp
  }

  /// Changes the cardinality limit (applies to later creations).
  void set_max_label_sets(std::size_t n);
  std::size_t max_label_sets() const;

  /// Label sets refused because of the cardinality limit.
  std::uint64_t rejected_label_sets() const noexcept {
    return rejected_label_sets_.load(std::memory_order_relaxed); // relaxed: a pure count
  }

private:
  struct family;
  template <class M>
  M& get_or_create(metric_kind kind, std::string_view name, metron::labels ls, std::string_view help);

  detail::mode_flag lock_free_;
  std::atomic<std::uint64_t> rejected_label_sets_{0};
  mutable std::shared_mutex mutex_;
  std::size_t max_label_sets_;
  std::map<std::string, std::unique_ptr<family>, std::less<>> families_;
};

} // namespace metron
