// metron/actors/monitor.hpp — the monitor users spawn: a supervisor that owns the
// aggregator and the subscriber fan-out.
//
// Protocol (monitor_actor, typed):
//   get_atom                           -> snapshot_ptr  the latest snapshot (delegated
//                                                       to the aggregator)
//   subscribe_atom, caf::actor         subscribe to every snapshot
//   subscribe_atom, caf::actor, prefix subscribe to the series whose name starts with
//                                      prefix (subscribing again replaces the filter)
//   unsubscribe_atom, caf::actor       stop sending to that actor
//   interval_atom, caf::timespan       change the tick interval (next tick after it);
//                                      outside [1 ms, 24 h] (monitor_limits) it is
//                                      refused (counted in
//                                      metron_refused_requests_total) and the
//                                      interval stays as it was; sent as a request
//                                      it is answered with the error
//                                      monitor_errc::interval_out_of_range
// A subscriber is any caf::actor with a handler [](metron::snapshot_ptr s) { ... }.
// Each snapshot arrives as a request; returning from the handler is the
// acknowledgement. A subscriber has `credit` unacknowledged snapshots at most; while
// they are used up it is skipped (each skip counts in metron_dropped_snapshots_total),
// so a slow subscriber never delays the others nor makes memory grow. A subscriber
// that terminates is removed: by its down message (monitored with high priority, so
// it overtakes queued work) or, if sooner, at the next tick (subscribers.hpp).
// Limits, churn and cfg.detached (own threads, for systems whose handlers block):
// docs/actors-limits.md. Snapshots are shared: one
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
// Self-metrics in the monitored registry: metron_ticks_total,
// metron_tick_duration_seconds (histogram), metron_subscribers (gauge),
// metron_dropped_snapshots_total, metron_restarts_total, metron_collector_errors_total,
// metron_refused_requests_total.
//
// Lifetime: the registry must outlive the monitor's actors (declare it before the
// actor_system). The monitor terminates when its last handle is gone, or on an exit
// message; its children follow.
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
#include "metron/registry.hpp"
#include "metron/snapshot.hpp"

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

using monitor_actor = caf::typed_actor<
  caf::replies_to<get_atom>::with<snapshot_ptr>,
  caf::reacts_to<subscribe_atom, caf::actor>,
  caf::reacts_to<subscribe_atom, caf::actor, std::string>, // name-prefix filter
  caf::reacts_to<unsubscribe_atom, caf::actor>,
  caf::reacts_to<interval_atom, caf::timespan>>;

/// Spawns a monitor of `reg` in `sys` (see the file comment).
/// Throws std::invalid_argument for a config outside monitor_limits (validate()).
/// With cfg.detached the monitor's actors run on threads of their own.
monitor_actor spawn_monitor(caf::actor_system& sys, registry& reg, monitor_config cfg = {});

namespace testing {

/// Which child of a monitor inject_failure makes fail.
enum class monitor_part { aggregator, fanout };

/// TEST-ONLY failure injection: makes the monitor's current aggregator or fan-out
/// throw from a message handler (it terminates with sec::runtime_error), exactly
/// like a bug would. The supervisor then restarts it or gives up. Not part of the
/// typed interface; the monitor handles it in its default handler.
void inject_failure(const monitor_actor& mon, monitor_part part);

} // namespace testing
} // namespace metron

CAF_ERROR_CODE_ENUM(metron::monitor_errc, "metron")
