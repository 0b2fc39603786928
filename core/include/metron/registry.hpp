// metron/registry.hpp — metrics by name and label set.
//
// The registry creates metrics on first request and returns references that stay
// valid for the registry's lifetime, whatever happens to the series (see "Series
// lifecycle"); asking again for the same (name, labels) returns the same metric.
// Record through the reference: that never takes a lock.
// Creating or looking up a metric takes the registry's lock (a shared lock for a
// lookup that finds the metric).
//
// Errors (clear exceptions, nothing registered, each refusal counted):
// - std::invalid_argument: invalid metric name or label key, a repeated label key,
//   a label key reserved for the kind ("le", "quantile" on histograms), a label
//   value or help text that is not valid UTF-8, a name, key, value or help longer
//   than the configured limits, more labels than max_labels, or a name already
//   registered with another kind (counted in rejected_invalid());
// - std::length_error: a name that already has max_label_sets live label sets (the
//   cardinality limit, counted in rejected_label_sets()), or a registry that already
//   has max_series live series (counted in rejected_series()). With
//   registry_config::label_set_limit_action = on_limit::overflow, such a request
//   instead returns the family's overflow series (below), still counted as refused;
//   only a new *name* beyond max_series still throws (it has no overflow series).
// Once anything was refused, the registry's snapshots carry the counter
// metron_registry_refusals_total{reason="invalid"|"label_sets"|"series"}; once a
// value was rejected (NaN, inf, negative, out of memory), metron_rejected_values_total
// (the sum over this registry's gauges and histograms); once an exemplar was dropped
// (histogram.hpp), metron_exemplars_dropped_total. Every series carries its creation
// wall time (series_info::created_ns, OpenMetrics' _created).
//
// Values read from elsewhere, at each snapshot (prometheus-cpp's Collectable idea):
// add_collector(f) registers f to run at the start of every snapshot(), before any
// metric is read, so f can set gauges and settable counters from their source (one
// read of /proc for several metrics). gauge_callback / counter_callback are the
// one-metric form: a metric of a declared kind whose value a function returns.
// Collectors run one at a time, in the order added, under a mutex of their own: two
// concurrent snapshots never run one collector concurrently (each snapshot runs
// every collector). An exception from a collector is caught and counted
// (collector_errors(); once nonzero, snapshots carry the counter
// metron_collector_errors_total) and never fails the snapshot. remove_collector(id)
// waits for a run in progress; once it returns, the collector neither runs nor will.
// A collector may create and record metrics of this registry, but not call its
// snapshot(), add_collector() or remove_collector() (std::logic_error: counted as
// that collector's error).
//
// Declared kinds: settable_counter(name) is a counter whose total is set, fractional
// if need be (CPU seconds); its family is declared monotonic (family_info), which is
// what makes exporters expose it as a counter. A gauge is a gauge whatever its name.
//
// Series lifecycle: remove(name, labels) and idle expiry retire a series. A retired
// series leaves the snapshots (so the exposition and the remote wire; a family with
// no live series leaves too) and stops counting against max_label_sets and
// max_series; its metric object is kept, so every reference stays valid.
// - Coming back: asking for the identity again returns the same object, re-registered
//   (a registration: the limits apply, throw or overflow as for a new label set). A
//   handle recorded into after retirement brings its series back at the next
//   snapshot, even beyond the limits (nothing recorded is lost; size() may then
//   exceed max_series until series retire). Totals continue in both cases, so a
//   scraper sees no reset: Prometheus' rate()/increase()/resets() are unaffected,
//   and metron::aggregation and the cluster merge keep a vanished series' last total
//   until it returns (metron/vanished.hpp), so their rates and totals do not jump.
// - "Recorded into" and "idle" compare raw values between snapshots: a counter's
//   total, an up/down counter's value, a gauge's bits and rejected count, a
//   histogram's count and rejected count. A gauge set again to the value it had (or an
//   up/down counter back to it) is indistinguishable from no change: it stays retired,
//   or expires. A record racing a remove() is either included in the value read at
//   removal (it stays retired, its total kept) or seen at the next snapshot (back).
// - Idle expiry (registry_config::idle_expiry, zero = never): at a snapshot, a live
//   series whose values did not change for idle_expiry (measured with
//   registry_config::clock) is retired; counted in retired_idle(). Expiry happens only
//   inside snapshot(), i.e. at the monitor's tick.
// - Once anything was retired, snapshots carry the counter
//   metron_registry_retired_total{reason="removed"|"idle"}.
// - Overflow series: the family's series {otel_overflow="true"} (one per family, same
//   kind), made on first need even beyond the limits and never counted against
//   max_label_sets. Asking for that label set explicitly returns it.
// - Memory: a retired series keeps all it had (metric object and its per-thread cells
//   or shards, map node, interned identity, flat entry): measured by bench/metron_memory
//   at ~350 bytes per retired counter recorded by one thread and ~1.4 KB per retired
//   histogram (one record, one thread). Memory of churned identities is therefore not
//   reclaimed while the registry lives: freeing a metric that a thread may be
//   recording into needs the hot path to announce itself (hazard pointers, epochs),
//   a cost we refuse on add()/record(). Bound churn with the limits, not with expiry.
// - Cost: a snapshot with expiry on, or with anything retired, takes the exclusive
//   lock and reads every retired series too (to see it recorded into): a retired
//   counter costs about what a live one does (docs/series-lifecycle.md has figures).
//
// Lifetime: anchor() gives a shared handle that outlives the registry; a reader on
// another thread (the monitor) reads through anchor->with(f), which runs f only while
// the registry is alive, and ~registry() waits for a with() in progress
// (metron/registry_anchor.hpp). So the registry may be destroyed before the actor
// system that reads it.
//
// Interning: a series' identity (name, labels, kind) and a family's (name, kind,
// help) are created once, with the series, and shared by every snapshot; the
// registry keeps its series in flat vectors sorted as snapshots are, so a snapshot
// is one pass that copies numbers and shared pointers.
//
// Mode: set_lock_free(false) switches every metric of this registry to the locked
// (mutex) collectors at once, set_lock_free(true) back. Both stores of every metric
// are always summed, so nothing recorded in either mode is lost at a switch.
//
// Concurrency: every member is thread-safe. snapshot() runs the collectors (under
// their own mutex), then holds a shared lock while it reads, or the exclusive lock
// when it may retire or revive series (idle_expiry set, or something retired);
// metric creation and remove() wait for that read, recording never does (it touches
// only the metric, never the registry's bookkeeping).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "metron/counter.hpp"
#include "metron/detail/mode.hpp"
#include "metron/gauge.hpp"
#include "metron/histogram.hpp"
#include "metron/labels.hpp"
#include "metron/registry_anchor.hpp"
#include "metron/series.hpp"
#include "metron/settable_counter.hpp"
#include "metron/snapshot.hpp"

namespace metron {

/// What a request for a new series does when a limit is reached (registry_config).
enum class on_limit {
  throw_error, ///< std::length_error (the default)
  overflow,    ///< the family's {otel_overflow="true"} series (see the file comment)
};

struct registry_config {
  /// Most label sets (series) one metric name may have.
  std::size_t max_label_sets = 1000;
  /// Most series in the whole registry.
  std::size_t max_series = 100000;
  /// Longest metric name and label key, in bytes.
  std::size_t max_name_bytes = 255;
  /// Longest label value, in bytes.
  std::size_t max_label_value_bytes = 4096;
  /// Longest help text, in bytes.
  std::size_t max_help_bytes = 4096;
  /// Most labels on one series.
  std::size_t max_labels = 32;
  /// Start in lock-free mode (true) or with the locked collectors (false).
  bool lock_free = true;
  /// A series whose recorded values did not change for this long is retired at a
  /// snapshot (see "Series lifecycle" in the file comment); zero: never.
  std::chrono::nanoseconds idle_expiry{0};
  /// What a new label set beyond max_label_sets (or a new series beyond max_series)
  /// gets: an exception, or the family's overflow series.
  on_limit label_set_limit_action = on_limit::throw_error;
  /// The registry's monotonic clock (snapshot::mono_ns, idle expiry); empty:
  /// std::chrono::steady_clock::now. Called under the registry's lock: must not call
  /// into the registry. Tests inject a manual clock here.
  std::function<std::chrono::steady_clock::time_point()> clock{};
};

/// Identifies a collector of one registry (add_collector); never reused by it.
using collector_id = std::uint64_t;

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
  /// A counter whose total is set from a monotonic source (its family is declared
  /// monotonic, see the file comment). A name already used by a plain gauge is a
  /// kind clash, and the other way round.
  metron::settable_counter& settable_counter(std::string_view name, metron::labels ls = {},
                                             std::string_view help = {});

  // -- lifecycle (see "Series lifecycle" in the file comment) ------------------------

  /// Retires the series (name, labels): it leaves later snapshots and stops counting
  /// against the limits; its metric object stays valid. Returns false if no such
  /// series is live (never registered, already retired, or an invalid label set).
  bool remove(std::string_view name, const metron::labels& ls = {});

  /// Series retired so far: by remove() and by idle expiry.
  std::uint64_t retired_removed() const noexcept {
    return retirements_[removed].load(std::memory_order_relaxed); // relaxed: a pure count
  }
  std::uint64_t retired_idle() const noexcept {
    return retirements_[idle].load(std::memory_order_relaxed); // relaxed: a pure count
  }

  /// Series retired now (kept, and watched at each snapshot for a comeback).
  std::size_t retired() const;

  // -- values read at each snapshot (see the file comment) ---------------------------

  /// Runs collect() at the start of every snapshot(). Throws std::invalid_argument
  /// if collect is empty. The id removes it.
  collector_id add_collector(std::function<void()> collect);

  /// Removes a collector; waits if it is running. Returns false if id is not (or no
  /// longer) one of this registry's collectors.
  bool remove_collector(collector_id id);

  /// A gauge (name, labels) set to read() at each snapshot: gauge(name, ls, help)
  /// plus a collector. A NaN or infinite result is rejected as gauge::set rejects
  /// it; an exception is a collector error. The id removes the callback; the gauge
  /// stays, with its last value.
  collector_id gauge_callback(std::string_view name, metron::labels ls, std::string_view help,
                              std::function<double()> read);

  /// A settable counter (name, labels) set to read() at each snapshot, as
  /// gauge_callback; read() returns the source's running total (CPU seconds).
  collector_id counter_callback(std::string_view name, metron::labels ls, std::string_view help,
                                std::function<double()> read);

  /// Collector runs that threw.
  std::uint64_t collector_errors() const noexcept {
    return collector_errors_.load(std::memory_order_relaxed); // relaxed: a pure count
  }

  // -- lifetime ------------------------------------------------------------------

  /// The registry's anchor (metron/registry_anchor.hpp): the same object on every
  /// call; it outlives the registry and runs with(f) only while the registry lives.
  std::shared_ptr<registry_anchor> anchor() noexcept { return anchor_; }

  // -- reading -----------------------------------------------------------------

  /// Runs the collectors, then reads every metric into a self-contained snapshot
  /// (wall_ns and mono_ns set). Throws std::logic_error if called from a collector
  /// of this registry.
  metron::snapshot snapshot() const;

  /// Number of live series (retired ones are not counted; see retired()).
  std::size_t size() const;

  /// Bytes owned by all metrics now, live and retired (cells, shards, locked stores,
  /// not the maps).
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

  /// Label sets refused because of the per-name cardinality limit.
  std::uint64_t rejected_label_sets() const noexcept {
    return refusals_[label_sets].load(std::memory_order_relaxed); // relaxed: a pure count
  }
  /// Series refused because the registry had max_series series.
  std::uint64_t rejected_series() const noexcept {
    return refusals_[series_limit].load(std::memory_order_relaxed); // relaxed: a pure count
  }
  /// Requests refused as invalid (names, labels, lengths, UTF-8, kind clashes).
  std::uint64_t rejected_invalid() const noexcept {
    return refusals_[invalid].load(std::memory_order_relaxed); // relaxed: a pure count
  }

private:
  struct family;
  struct lifecycle; // a series' liveness and last-seen values, guarded by mutex_
  template <class M>
  struct node; // a metric and its lifecycle, allocated once, never freed while we live
  template <class M>
  struct entry {
    series_ref id;
    M* metric;
    lifecycle* life;
  };
  struct flat_family {
    family_ref ref;
    family* fam;
  };
  enum refusal { invalid, label_sets, series_limit, refusal_kinds };
  enum retire_reason { removed, idle, retire_reasons };
  struct pass; // what one snapshot() does besides reading (registry.cpp)
  struct collector_entry {
    collector_id id;
    std::function<void()> collect;
  };

  template <class M>
  M& get_or_create(metric_kind kind, std::string_view name, metron::labels ls, std::string_view help);
  template <class M>
  M& add_series(family* f, std::string_view name, metron::labels ls, metric_kind kind, std::string_view help,
                bool overflow);
  template <class M>
  M& at_limit(family& f, refusal why, const std::length_error& e, std::string_view help);
  template <class E, class S>
  void read_into(const std::vector<E>& fl, std::vector<S>& out, pass& p) const;
  template <class M>
  auto& flat();
  std::int64_t now_ns() const;
  void retire(lifecycle& l, retire_reason why) const;
  void revive(lifecycle& l, std::int64_t now) const;
  [[noreturn]] void refuse(refusal why, const std::exception& e);
  void validate(metric_kind kind, std::string_view name, const metron::labels& ls, std::string_view help);
  /// Adds the self counters; `rejected` and `exemplars_dropped` are those of retired
  /// series, which the snapshot does not carry.
  void add_self_metrics(metron::snapshot& s, std::uint64_t rejected, std::uint64_t exemplars_dropped) const;
  void run_collectors() const;
  void refuse_if_collecting(const char* what) const;

  detail::mode_flag lock_free_;
  std::atomic<std::uint64_t> refusals_[refusal_kinds] = {};
  mutable std::atomic<std::uint64_t> retirements_[retire_reasons] = {};
  mutable std::shared_mutex mutex_;
  registry_config cfg_;
  // Live and retired series; mutable because snapshot() retires and revives (only
  // under the exclusive lock of mutex_).
  mutable std::size_t series_ = 0;
  mutable std::size_t retired_now_ = 0;
  std::map<std::string, std::unique_ptr<family>, std::less<>> families_;
  // Sorted as snapshots are (by name, then labels): what snapshot() walks. Retired
  // series stay in place (lifecycle::live false).
  std::vector<flat_family> flat_families_;
  std::vector<entry<metron::counter>> flat_counters_;
  std::vector<entry<metron::updown_counter>> flat_updowns_;
  std::vector<entry<metron::gauge>> flat_gauges_;
  std::vector<entry<metron::histogram>> flat_histograms_;
  // Identities of the self metrics (see the file comment), made on first need.
  series_ref refusal_ids_[refusal_kinds];
  series_ref rejected_values_id_;
  family_ref refusals_family_, rejected_values_family_;
  series_ref retired_ids_[retire_reasons];
  family_ref retired_family_;
  series_ref collector_errors_id_;
  family_ref collector_errors_family_;
  series_ref exemplars_dropped_id_;
  family_ref exemplars_dropped_family_;

  // Collectors: the list and each run of it are guarded by collectors_mutex_.
  mutable std::mutex collectors_mutex_;
  std::vector<collector_entry> collectors_;
  collector_id next_collector_ = 1;
  mutable std::atomic<std::uint64_t> collector_errors_{0};
  // The thread running the collectors now (none when idle): what detects a collector
  // calling back into snapshot/add/remove, which would deadlock on collectors_mutex_.
  mutable std::atomic<std::thread::id> collecting_on_{};

  // Retired at the start of ~registry(), before any other member is destroyed.
  std::shared_ptr<registry_anchor> anchor_;
};

} // namespace metron
