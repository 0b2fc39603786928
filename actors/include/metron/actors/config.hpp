// metron/actors/config.hpp — monitor_config: tick, quantiles, windows, credit,
// restart intensity, threads, own metrics; and reading it from CAF's configuration.
//
// CAF options (declared by add_monitor_options, read by monitor_config::from), in
// caf-application.ini under [metron] or on the command line as --metron.<name>=...:
//   metron.interval        timespan          tick interval            (100ms)
//   metron.quantiles       list of reals     quantiles to compute     ([0.5, 0.9, 0.99, 0.999])
//   metron.windows         list of timespans sliding windows          ([60s, 300s])
//   metron.credit          integer           unacknowledged snapshots per subscriber (4)
//   metron.max-restarts    integer           restarts allowed ...     (5)
//   metron.restart-period  timespan          ... within this period   (10s)
//   metron.detached        bool              own threads for the monitor (false)
//   metron.slowest         integer           slowest exemplars kept per window (5)
// Values absent from the configuration keep the defaults below.
//
// The registry's limits and series lifecycle (read by registry_config_from; the
// registry is the user's, so it is built from them by the user):
//   metron.registry.max-label-sets  integer   label sets per metric name     (1000)
//   metron.registry.max-series      integer   series in the registry         (100000)
//   metron.registry.idle-expiry     timespan  retire series idle this long   (0s: never)
//   metron.registry.on-limit        string    "throw" or "overflow"          ("throw")
//
// Ranges (monitor_limits; spawn_monitor calls validate() and throws
// std::invalid_argument naming the knob, the value and the range, so no knob can
// overflow a clock computation or make memory grow without bound):
//   interval        1 ms .. 24 h
//   quantiles       at most 32, each in [0, 1]
//   windows         at most 8, each 1 s .. 7 days
//   credit          1 .. 1024
//   max_restarts    0 .. 1000 (0: give up at the first failure)
//   restart_period  1 s .. 24 h
//   slowest         0 .. 64
// A running monitor's interval_atom is checked against the same interval range.
//
// Concurrency: a plain value. Collectors run on the aggregator actor's thread,
// one at a time, right before each tick's snapshot.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/timespan.hpp>

#include "metron/aggregation.hpp"
#include "metron/registry.hpp"

namespace metron {

struct monitor_config {
  /// Time between two ticks (snapshots), at a fixed rate: tick k is due at the first
  /// tick's start + k × interval. A tick that overruns (a very large registry, a busy
  /// collector) skips the due times it missed instead of queueing ticks.
  std::chrono::milliseconds interval{100};
  /// Quantiles computed for every histogram, q in [0, 1].
  std::vector<double> quantiles{0.5, 0.9, 0.99, 0.999};
  /// Sliding windows (exact, by subtracting snapshots); history is bounded by the longest.
  std::vector<std::chrono::seconds> windows{std::chrono::seconds{60}, std::chrono::seconds{300}};
  /// Unacknowledged snapshots per subscriber; beyond it the subscriber is skipped.
  std::size_t credit = 4;
  /// Restart intensity: at most this many restarts ...
  std::size_t max_restarts = 5;
  /// ... within this period, else the monitor gives up (restart_limit_exceeded).
  std::chrono::seconds restart_period{10};
  /// Run the monitor's three actors (supervisor, aggregator, fan-out) on threads of
  /// their own instead of CAF's shared scheduler, so subscriber handlers that block
  /// the scheduler's workers cannot stop the ticks (docs/actors-limits.md says when
  /// to use it). Costs three threads per monitor.
  bool detached = false;
  /// Where the monitor keeps its own metrics (metron_ticks_total, ...), which it adds
  /// to every report; null (the default): a registry of its own. Shared, so a test
  /// or a program can read them live; must not be the registry the monitor reads
  /// (they would be counted twice; spawn_monitor refuses it).
  std::shared_ptr<registry> metrics;

  /// Slowest events (exemplars) kept per window and histogram in the report; 0: none.
  std::size_t slowest = 5;
  /// What the aggregation computes (quantiles, windows, slowest events).
  aggregation_config aggregation() const { return {quantiles, windows, slowest}; }

  /// Reads the metron.* options from CAF's configuration (see the file comment).
  static monitor_config from(const caf::actor_system_config& cfg);
};

/// The documented range of every numeric knob of monitor_config (see the file comment).
struct monitor_limits {
  static constexpr std::chrono::milliseconds min_interval{1};
  static constexpr std::chrono::milliseconds max_interval = std::chrono::hours{24};
  static constexpr std::size_t max_quantiles = 32;
  static constexpr std::size_t max_windows = 8;
  static constexpr std::chrono::seconds min_window{1};
  static constexpr std::chrono::seconds max_window = std::chrono::hours{24 * 7};
  static constexpr std::size_t min_credit = 1;
  static constexpr std::size_t max_credit = 1024;
  static constexpr std::size_t max_max_restarts = 1000;
  static constexpr std::chrono::seconds min_restart_period{1};
  static constexpr std::chrono::seconds max_restart_period = std::chrono::hours{24};
  static constexpr std::size_t max_slowest = 64;
};

/// Throws std::invalid_argument if a knob of `cfg` is outside monitor_limits; the
/// message names the knob, its value and the allowed range.
void validate(const monitor_config& cfg);

/// True if `x` is a tick interval within [min_interval, max_interval].
bool interval_in_range(caf::timespan x) noexcept;

/// Declares the metron.* options (the monitor's and metron.registry.*) so CAF accepts
/// and type-checks them (call before the configuration is parsed, e.g. in the
/// config's constructor or before parse()).
void add_monitor_options(caf::actor_system_config& cfg);

/// Declares options of `category` (e.g. "metron.remote-write") on cfg's custom option
/// set, which actor_system_config keeps protected: how modules declare their keys.
caf::config_option_adder option_adder(caf::actor_system_config& cfg, caf::string_view category);

/// Sets CAF's work-stealing scheduler to wait quietly, for a process whose actors
/// mostly sleep between ticks (a metrics node, a collector, a small service):
/// `work-stealing.moderate-poll-attempts` = 0 and `work-stealing.relaxed-sleep-duration`
/// = `relaxed_sleep` (default 100 ms). CAF 0.17's default keeps an idle worker polling
/// its queue with 50 us sleeps for 25 ms after every job, i.e. ~20,000 wake-ups per
/// second for a worker that runs something every ~25 ms (a 1 s tick, a 100 ms recording
/// timer, a node's ack), and a process shared by a hundred such workers spends most of
/// its CPU in context switches. With these settings a worker spins briefly (CAF's
/// aggressive polling, unchanged) and then sleeps on its condition variable, which the
/// next message from a timer, the network or another thread signals: no added latency
/// for those. What it gives up: an idle worker steals queued jobs from a busy one only
/// every relaxed_sleep, so a system whose actors flood one worker with messages to each
/// other (not metron's actors) may want CAF's defaults. Measured with
/// metron-cluster-capacity (modules/remote/NOTES.md): 100 nodes x 1,000 metrics at 1 s
/// took the collector 3.7 us of CPU per node-series and the nodes 0.94 cores with
/// CAF's defaults, 2.0 us and 0.56 cores with these. Call before the configuration
/// is parsed: a config file or command line that sets either key still wins.
caf::actor_system_config& quiet_scheduler(caf::actor_system_config& cfg,
                                          caf::timespan relaxed_sleep = std::chrono::milliseconds{100});

/// A registry_config from the metron.registry.* options (see the file comment);
/// absent options keep registry_config's defaults. Throws std::invalid_argument for
/// an on-limit other than "throw" or "overflow", a zero max-label-sets or max-series,
/// or a negative idle-expiry.
registry_config registry_config_from(const caf::actor_system_config& cfg);

} // namespace metron
