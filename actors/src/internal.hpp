// Internal (not installed): the actors behind monitor_actor and their shared context.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/typed_actor.hpp>

#include "metron/actors/aggregation.hpp"
#include "metron/actors/atoms.hpp"
#include "metron/actors/config.hpp"
#include "metron/actors/message_types.hpp"
#include "metron/registry.hpp"

namespace metron::detail {

/// Shared by the monitor and every incarnation of its children. The aggregation is
/// used by one aggregator at a time: a new one is spawned only after the old one's
/// down message arrived, which orders the accesses.
struct monitor_context {
  monitor_context(registry& r, monitor_config c);

  registry& reg;
  monitor_config cfg;
  aggregation agg;
  // self-metrics
  metron::counter& ticks;
  metron::histogram& tick_duration;
  metron::gauge& subscribers;
  metron::counter& dropped;
  metron::counter& restarts;
  metron::counter& collector_errors;
  metron::counter& refused;
};

using context_ptr = std::shared_ptr<monitor_context>;

using fanout_actor = caf::typed_actor<
  caf::reacts_to<publish_atom, snapshot_ptr>,
  caf::reacts_to<subscribe_atom, caf::actor, std::string>,
  caf::reacts_to<unsubscribe_atom, caf::actor>,
  caf::reacts_to<fail_atom>>;

using aggregator_actor = caf::typed_actor<
  caf::replies_to<get_atom>::with<snapshot_ptr>,
  caf::reacts_to<tick_atom, std::uint64_t>,
  caf::reacts_to<interval_atom, caf::timespan>,
  caf::reacts_to<fanout_atom, fanout_actor>,
  caf::reacts_to<fail_atom>>;

fanout_actor spawn_fanout(caf::local_actor* parent, context_ptr ctx);

aggregator_actor spawn_aggregator(caf::local_actor* parent, context_ptr ctx, fanout_actor fan,
                                  caf::timespan interval);

} // namespace metron::detail
