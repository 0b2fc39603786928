// metron/console.hpp — the console module: a live, refreshing terminal table of a
// monitor's snapshots (what metron-demo shows).
//
//   auto view = metron::console::spawn_view(sys, mon, {});   // redraws std::cout per tick
//
// Pieces: format.hpp (numbers, durations, sparklines, display width), history.hpp
// (per-series interval figures and recent values), table.hpp (the pure renderer:
// snapshot + history -> text), view.hpp (the subscriber actor that writes frames).
// Concurrency: see each header.
#pragma once

#include "metron/console/format.hpp"
#include "metron/console/history.hpp"
#include "metron/console/table.hpp"
#include "metron/console/view.hpp"
