// metron/actors/atoms.hpp — the atoms of the monitor's message protocol.
//
// The monitor_actor interface (see monitor.hpp):
//   get_atom          -> report_ptr                   latest report
//   subscribe_atom    subscriber_actor [std::string]  subscribe (optional name prefix)
//   unsubscribe_atom  subscriber_actor                unsubscribe
//   interval_atom     caf::timespan                   change the tick interval
//
// Concurrency: constants only.
#pragma once

#include <caf/atom.hpp>

namespace metron {

using get_atom = caf::atom_constant<caf::atom("get")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;
using interval_atom = caf::atom_constant<caf::atom("interval")>;

} // namespace metron
