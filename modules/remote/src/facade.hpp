// Internal (not installed): the facade publish() puts in front of a monitor.
//
// Remote peers talk to the facade, never to the monitor itself. It forwards get,
// subscribe and unsubscribe, and refuses (counts, ignores) what a peer must not do:
//   - interval changes, unless remote control is allowed (publish_options);
//   - a subscription beyond max_per_peer distinct subscribers of one node (the
//     subscriber's CAF node) or beyond max_total subscribers of all peers.
// Subscribers are monitored; one that terminates (e.g. its connection is lost)
// frees its place. The facade terminates with the monitor, for the same reason.
// It also serves the delta wire to collectors' links (wire_subscribe_atom,
// wire_messages.hpp): a link counts as one subscriber.
#pragma once

#include <cstddef>
#include <memory>

#include <caf/actor_system.hpp>

#include "metron/actors/monitor.hpp"
#include "metron/remote/stats.hpp"
#include "wire_messages.hpp"

namespace metron::remote::detail {

struct facade_limits {
  std::size_t max_per_peer = 16;
  std::size_t max_total = 256;
  bool allow_control = false;
  std::shared_ptr<remote_stats> stats;
};

wire_monitor_actor spawn_facade(caf::actor_system& sys, monitor_actor target, facade_limits limits);

} // namespace metron::remote::detail
