// metron/actors/monitor.hpp — the monitor users spawn: one pipeline, source ->
// aggregation -> fan-out, run by a supervisor that owns the aggregator and the
// subscriber fan-out. The source is a registry (spawn_monitor(sys, reg)) or any
// snapshot_source (source.hpp; the remote module's cluster collector is this same
// monitor over a cluster view).
//
// Protocol (monitor_actor, typed):
//   get_atom                                 -> report_ptr  the latest report (delegated
//                                                           to the aggregator)
//   subscribe_atom, subscriber_actor         subscribe to every report
//   subscribe_atom, subscriber_actor, prefix subscribe to the series whose name starts
//                                            with prefix (subscribing again replaces
//                                            the filter)
//   unsubscribe_atom, subscriber_actor       stop sending to that actor
//   interval_atom, caf::timespan       change the tick interval (next tick after it);
//                                      outside [1 ms, 24 h] (monitor_limits) it is
//                                      refused (counted in
//                                      metron_refused_requests_total) and the
//                                      interval stays as it was; sent as a request
//                                      it is answered with the error
//                                      monitor_errc::interval_out_of_range
// A subscriber is a subscriber_actor: an actor with a handler
// [](metron::report_ptr r) { ... }. A dynamically typed caf::actor with that handler
// may subscribe too (the monitor takes it as a subscriber_actor; one without the
// handler answers each report with an error, which the fan-out counts as a drop). Each report arrives as
// a request; returning from the handler is the acknowledgement. A subscriber has
// `credit` unacknowledged reports at most; while they are used up it is skipped
// (each skip counts in metron_dropped_snapshots_total), so a slow subscriber never
// delays the others nor makes memory grow. A subscriber
// that terminates is removed: by its down message (monitored with high priority, so
// it overtakes queued work) or, if sooner, at the next tick (subscribers.hpp).
// Limits, churn and cfg.detached (own threads, for systems whose handlers block):
// docs/actors-limits.md. Reports are shared: one
// object per tick for all unfiltered subscribers, one per tick and prefix for the
// filtered ones.
//
// Supervision: the monitor spawns and monitors the aggregator and the fan-out. When
// one of them terminates it is respawned (the fan-out gets the subscriber list
// again; the aggregator keeps the aggregation state — sequence, rates, windows — and
// ticks at once). More than max_restarts restarts within restart_period make the
// monitor give up: it terminates with monitor_errc::restart_limit_exceeded
// (category "metron"), which its spawner sees in a down_msg / exit_msg, and takes its
// children down with it. Recording into the registry is never affected.
//
// Self-metrics, added to every report (kept in a registry the monitor owns, not in
// the monitored one): metron_ticks_total, metron_tick_duration_seconds (histogram),
// metron_subscribers (gauge), metron_dropped_snapshots_total, metron_restarts_total,
// metron_collector_errors_total, metron_refused_requests_total.
//
// Lifetime: no declaration order can crash. The monitor keeps its source (and what
// the source reads) alive; a registry passed by reference may be destroyed while the
// monitor runs (its destructor waits for a snapshot in progress), and the monitor
// then stops by itself at its next tick. The monitor also terminates when its last
// handle is gone, or on an exit message; its children follow.
//
// Concurrency: an actor; use it through messages from any thread. Time (mono_ns,
// windows, restart period) comes from the actor system's clock, so the test
// coordinator's clock makes everything deterministic.
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "metron/actors/atoms.hpp"
#include "metron/actors/config.hpp"
#include "metron/actors/message_types.hpp"
#include "metron/actors/source.hpp"
#include "metron/registry.hpp"
#include "metron/report.hpp"

namespace metron {

/// Errors of the monitor (CAF error category "metron").
enum class monitor_errc : std::uint8_t {
  /// The restart intensity (max_restarts within restart_period) was exceeded.
  restart_limit_exceeded = 1,
  /// interval_atom with an interval outside monitor_limits (the interval is unchanged).
  interval_out_of_range = 2,
};

/// "restart_limit_exceeded", "interval_out_of_range".
std::string to_string(monitor_errc x);

/// What a monitor sends its subscribers: one report per tick, as a request whose
/// (empty) response is the acknowledgement.
using subscriber_actor = caf::typed_actor<caf::reacts_to<report_ptr>>;

using monitor_actor = caf::typed_actor<
  caf::replies_to<get_atom>::with<report_ptr>,
  caf::reacts_to<subscribe_atom, subscriber_actor>,
  caf::reacts_to<subscribe_atom, subscriber_actor, std::string>, // name-prefix filter
  caf::reacts_to<unsubscribe_atom, subscriber_actor>,
  // The same for a dynamically typed actor that handles report_ptr (cast on arrival).
  caf::reacts_to<subscribe_atom, caf::actor>,
  caf::reacts_to<subscribe_atom, caf::actor, std::string>,
  caf::reacts_to<unsubscribe_atom, caf::actor>,
  caf::reacts_to<interval_atom, caf::timespan>>;

/// Spawns a monitor of `reg` in `sys` (see the file comment); `reg` may be
/// destroyed before the monitor (the monitor then stops).
/// Throws std::invalid_argument for a config outside monitor_limits (validate()).
/// With cfg.detached the monitor's actors run on threads of their own.
monitor_actor spawn_monitor(caf::actor_system& sys, registry& reg, monitor_config cfg = {});

/// Spawns a monitor that shares the ownership of `reg`.
monitor_actor spawn_monitor(caf::actor_system& sys, std::shared_ptr<registry> reg, monitor_config cfg = {});

/// Spawns a monitor of any source (source.hpp); the monitor owns it.
monitor_actor spawn_monitor(caf::actor_system& sys, source_ptr src, monitor_config cfg = {});

} // namespace metron

CAF_ERROR_CODE_ENUM(metron::monitor_errc, "metron")
