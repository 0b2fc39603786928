// Internal (not installed): the actors behind monitor_actor and their shared context.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/atom.hpp>
#include <caf/typed_actor.hpp>

#include "metron/actors/atoms.hpp"
#include "metron/actors/config.hpp"
#include "metron/actors/message_types.hpp"
#include "metron/actors/monitor.hpp"
#include "metron/actors/source.hpp"
#include "metron/aggregation.hpp"
#include "metron/registry.hpp"

#include "testing.hpp"

namespace metron::detail {

// Protocol between the monitor (supervisor), aggregator and fan-out.
using tick_atom = caf::atom_constant<caf::atom("tick")>;       // aggregator timer
using publish_atom = caf::atom_constant<caf::atom("publish")>; // aggregator -> fan-out
using fanout_atom = caf::atom_constant<caf::atom("fanout")>;   // monitor -> aggregator: new fan-out

/// Shared by the monitor and every incarnation of its children. The aggregation and
/// the source are used by one aggregator at a time: a new one is spawned only after
/// the old one's down message arrived, which orders the accesses.
struct monitor_context {
  monitor_context(source_ptr src, monitor_config c);

  source_ptr source;
  monitor_config cfg;
  aggregation agg;
  /// The monitor's own metrics (cfg.metrics, or a registry of its own), added to
  /// every report; never the monitored registry, which may be gone first.
  std::shared_ptr<registry> self;
  metron::counter& ticks;
  metron::histogram& tick_duration;
  metron::gauge& subscribers;
  metron::counter& dropped;
  metron::counter& restarts;
  metron::counter& refused;
  /// Set by the aggregator when the source is gone for good (take() returned
  /// nullopt); the monitor then stops instead of restarting it.
  std::atomic<bool> source_gone{false};
};

using context_ptr = std::shared_ptr<monitor_context>;

using fanout_actor = caf::typed_actor<
  caf::reacts_to<publish_atom, report_ptr>,
  caf::reacts_to<subscribe_atom, subscriber_actor, std::string>,
  caf::reacts_to<unsubscribe_atom, subscriber_actor>,
  caf::reacts_to<injected_fault>>;

using aggregator_actor = caf::typed_actor<
  caf::replies_to<get_atom>::with<report_ptr>,
  caf::reacts_to<tick_atom, std::uint64_t>,
  caf::reacts_to<interval_atom, caf::timespan>,
  caf::reacts_to<fanout_atom, fanout_actor>,
  caf::reacts_to<injected_fault>>;

fanout_actor spawn_fanout(caf::local_actor* parent, context_ptr ctx);

aggregator_actor spawn_aggregator(caf::local_actor* parent, context_ptr ctx, fanout_actor fan,
                                  caf::timespan interval);

} // namespace metron::detail
