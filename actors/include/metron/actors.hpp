// metron/actors.hpp — the CAF layer of metron: what a user calls, plus the core.
//
//   metron::monitor_actor mon = metron::spawn_monitor(sys, reg, cfg);
//   self->send(mon, metron::subscribe_atom::value, subscriber);   // a subscriber_actor
//   self->request(mon, caf::infinite, metron::get_atom::value);   // -> report_ptr
//
// Pieces (one header each): monitor.hpp (monitor_actor, subscriber_actor,
// spawn_monitor, supervision), source.hpp (what a monitor reads: a registry or a
// source of your own), config.hpp (monitor_config and the metron.* options),
// atoms.hpp (protocol atoms), message_types.hpp (snapshot_ptr and report_ptr as CAF
// message types), performance_monitor.hpp (RAII all-in-one), instrument.hpp
// (metrics for user actors). The aggregation itself (metron/aggregation.hpp) is in
// the core: it needs no actors.
//
// Concurrency: see each header; actors are used through messages from any thread.
#pragma once

#include <caf/all.hpp>

#include "metron/metron.hpp"
#include "metron/actors/atoms.hpp"
#include "metron/actors/message_types.hpp"
#include "metron/actors/config.hpp"
#include "metron/actors/source.hpp"
#include "metron/actors/monitor.hpp"
#include "metron/actors/performance_monitor.hpp"
#include "metron/actors/instrument.hpp"
