// metron/actors.hpp — the CAF layer of metron: includes the core and CAF.
//
//   metron::monitor_actor mon = metron::spawn_monitor(sys, reg, cfg);
//   self->send(mon, metron::subscribe_atom::value, subscriber);
//   self->request(mon, caf::infinite, metron::get_atom::value);   // -> snapshot_ptr
//
// Pieces (one header each): atoms.hpp (protocol atoms), message_types.hpp
// (snapshot_ptr as a CAF message type), config.hpp (monitor_config and the
// metron.* options), aggregation.hpp (one tick without actors), filter.hpp (prefix
// filter), subscribers.hpp (credit and filters of a fan-out), monitor.hpp
// (monitor_actor, spawn_monitor, supervision),
// performance_monitor.hpp (RAII all-in-one), instrument.hpp (metrics for user actors).
//
// Concurrency: see each header; actors are used through messages from any thread.
#pragma once

#include <caf/all.hpp>

#include "metron/metron.hpp"
#include "metron/actors/atoms.hpp"
#include "metron/actors/message_types.hpp"
#include "metron/actors/config.hpp"
#include "metron/actors/aggregation.hpp"
#include "metron/actors/filter.hpp"
#include "metron/actors/subscribers.hpp"
#include "metron/actors/monitor.hpp"
#include "metron/actors/performance_monitor.hpp"
#include "metron/actors/instrument.hpp"
