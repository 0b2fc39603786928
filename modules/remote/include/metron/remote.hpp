// metron/remote.hpp — metron across processes and machines, on CAF's middleman.
//
//   caf::actor_system_config cfg;
//   metron::remote::configure(cfg);                 // middleman + metron's message types
//   caf::actor_system sys{cfg};
//   // a node:
//   auto port = metron::remote::publish(sys, mon, 0);   // 0: the OS picks, returned
//   // elsewhere:
//   auto mon = metron::remote::connect(sys, "127.0.0.1", port);   // expected<monitor_actor>
//   self->send(*mon, metron::subscribe_atom::value, subscriber);   // as locally
//   // a cluster view of many nodes, itself a monitor:
//   auto col = metron::remote::spawn_collector(sys, {.nodes = {{"10.0.0.1", 4242}, ...}});
//
// Pieces: message_types.hpp (configure, add_message_types), endpoint.hpp (endpoint,
// publish, connect), cluster_view.hpp (the merge rules, a pure function),
// collector.hpp (the cluster collector actor).
//
// Concurrency: see each header.
#pragma once

#include "metron/actors.hpp"
#include "metron/remote/message_types.hpp"
#include "metron/remote/endpoint.hpp"
#include "metron/remote/cluster_view.hpp"
#include "metron/remote/collector.hpp"
