// metron/actors/source.hpp — where a monitor's raw snapshots come from.
//
// A monitor is one pipeline: source -> aggregation -> fan-out. Every tick its
// aggregator calls the source's take() for a raw snapshot, adds the monitor's own
// metrics (metron_ticks_total, ...), lets metron::aggregation derive the report and
// hands the report to the fan-out. The sources metron ships:
//   - a registry (spawn_monitor(sys, reg) / registry_source): reg.snapshot();
//   - a cluster view fed by node links (metron::remote::spawn_collector): the
//     exact merge of the nodes' latest snapshots.
// A source of your own (another process's data, a file being replayed, a test)
// only implements take().
//
// Concurrency: take() is called on the monitor's aggregator, one call at a time;
// a source fed by other threads or actors synchronizes that itself.
#pragma once

#include <memory>
#include <optional>

#include "metron/registry.hpp"
#include "metron/snapshot.hpp"

namespace metron {

class snapshot_source {
public:
  virtual ~snapshot_source() = default;

  /// The raw snapshot of this tick, or std::nullopt when the source is gone for
  /// good (e.g. its registry was destroyed): the monitor then stops, normally.
  /// An exception fails the aggregator (the supervisor restarts it).
  virtual std::optional<snapshot> take() = 0;
};

using source_ptr = std::shared_ptr<snapshot_source>;

/// A source reading `reg`, which it does not own: reading is safe in any
/// declaration order, because a registry destroyed while the monitor runs makes
/// take() return std::nullopt (the registry's destructor waits for a take() in
/// progress; see registry::anchor).
source_ptr registry_source(registry& reg);

/// A source that shares the ownership of `reg` (it lives as long as the monitor).
source_ptr registry_source(std::shared_ptr<registry> reg);

} // namespace metron
