// metron/remote/message_types.hpp — registering what a monitor sends and receives
// with a CAF 0.17 actor_system_config, so it can cross process boundaries.
//
// configure(cfg) is the one call a program makes before constructing its
// actor_system: it loads CAF's I/O module (caf::io::middleman) and calls
// add_message_types(cfg). Call it once per configuration: CAF 0.17 cannot tell that a
// module is already loaded, and loading the middleman twice starts two of them. A
// program that loads the middleman itself calls add_message_types(cfg) only.
//
// Registered (names are what goes on the wire and into typed-actor signatures; both
// ends must register the same names):
//   metron::snapshot_ptr   std::shared_ptr<const snapshot> (message_types.hpp in actors:
//                          a null pointer travels as an empty snapshot)
//   metron::snapshot       the value type
//   metron::report_ptr     std::shared_ptr<const report>, what subscribers and get_atom
//                          receive (a null pointer travels as an empty report; a
//                          report's figures are resized to its snapshot on arrival)
//   metron::report         the value type
//   metron::monitor_actor  handle of a monitor, so handles can be passed around
//   metron::subscriber_actor  handle of a subscriber (what subscribe_atom carries)
//   metron::remote::node_status, std::vector<...>   the collector's node table
//   metron::remote::collector_actor                 handle of a cluster collector
//   metron::remote::wire_frame                      a delta-wire frame (node -> collector)
// plus the error category "metron" (monitor_errc), rendered by name. CAF registers
// std::vector<T> for each T too. Atoms, std::string and caf::timespan are
// CAF built-ins. Every field of snapshot is serializable by CAF 0.17's inspectors:
// std::pair (labels, histogram buckets) and enums (metric_kind, as its uint8
// underlying type) are handled by caf::data_processor itself, nothing is added.
//
// Concurrency: call before the actor_system is constructed, from one thread.
#pragma once

#include <caf/actor_system_config.hpp>

namespace metron::remote {

/// Registers metron's message types and error category (see the file comment).
caf::actor_system_config& add_message_types(caf::actor_system_config& cfg);

/// cfg.load<caf::io::middleman>() plus add_message_types(cfg); once per config.
caf::actor_system_config& configure(caf::actor_system_config& cfg);

} // namespace metron::remote
