// metron/actors/atoms.hpp — the atoms of the monitor's message protocol.
//
// Public atoms (the monitor_actor interface, see monitor.hpp):
//   get_atom          -> snapshot_ptr           latest snapshot
//   subscribe_atom    caf::actor [std::string]  subscribe (optional name prefix)
//   unsubscribe_atom  caf::actor                unsubscribe
//   interval_atom     caf::timespan             change the tick interval
//
// Concurrency: constants only.
#pragma once

#include <caf/atom.hpp>

namespace metron {

using get_atom = caf::atom_constant<caf::atom("get")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;
using interval_atom = caf::atom_constant<caf::atom("interval")>;

namespace detail {

// Internal protocol between the monitor (supervisor), aggregator and fan-out.
using tick_atom = caf::atom_constant<caf::atom("tick")>;       // aggregator timer
using publish_atom = caf::atom_constant<caf::atom("publish")>; // aggregator -> fan-out
using fanout_atom = caf::atom_constant<caf::atom("fanout")>;   // monitor -> aggregator: new fan-out
using fail_atom = caf::atom_constant<caf::atom("mfail")>;      // test-only failure injection

} // namespace detail
} // namespace metron
