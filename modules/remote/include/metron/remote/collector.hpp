// metron/remote/collector.hpp — the cluster collector: subscribes to the monitors of
// many nodes, merges their latest snapshots exactly, and is itself a monitor.
//
//   metron::remote::collector_config cfg;
//   cfg.nodes = {{"127.0.0.1", 4242}, {"127.0.0.1", 4243}};
//   auto col = metron::remote::spawn_collector(sys, cfg);
//   metron::monitor_actor mon = col;      // consumed like any monitor: subscribe, get,
//                                         // Prometheus exporter, console, publish()
//
// Protocol: collector_actor is monitor_actor (get / subscribe / unsubscribe /
// interval, same semantics, credit-based fan-out with prefix filters, see
// monitor.hpp) extended with
//   nodes_atom -> std::vector<node_status>   the node table, in configuration order.
// It IS a monitor: spawn_monitor over a cluster source (source.hpp), behind a front
// actor that owns the links and answers nodes_atom; the monitor protocol is
// delegated to that monitor, so timer, aggregation, credit, filters, supervision
// and its self-metrics (metron_ticks_total, metron_subscribers, ...) are the local
// monitor's. A collector's report is a monitor's report, so a collector can be a
// node of another collector (a tree).
//
// How it works: one link actor per node (linked to the collector) connects
// asynchronously through a client guard (endpoint.hpp: a hostile or impostor node
// cannot crash or bloat the collector; bounded by connect_timeout), checks the
// interface is a monitor, monitors the remote proxy and subscribes itself. A node
// published with publish() serves the delta wire (NOTES.md "Delta wire"): one full
// frame, then per tick only the series that changed, each frame acknowledged by the
// link and decoded back into an exact snapshot; a node published over TLS sends its
// reports the plain way, acknowledged likewise (the node's credit). The snapshot is
// handed to the cluster source, which keeps only the latest per node. Every
// `monitor.interval` the monitor takes the source's snapshot: the merge of the nodes
// (cluster_view.hpp: totals without a node label, with per_node_series also per-node
// copies with node="host:port"; the down-node and restart rules) plus the
// collector's own metrics; it derives the report (rates, the configured quantiles
// from the merged buckets, windows) and sends it to its subscribers.
//
// Capacity: ~1.9-2.0 us of collector CPU per node-series (100 nodes x 1,000 metrics
// at 1 s, NOTES.md) when the collector's and the nodes' actor systems use
// metron::quiet_scheduler(cfg) (actors/config.hpp); with CAF's default work-stealing
// polling, twice that.
//
// Faults:
//   - a node whose connection breaks (process killed, network error) is down as soon
//     as CAF delivers the proxy's down message (immediately on loopback);
//   - a node that stays connected but sends no snapshot for down_timeout is down
//     ("stale"); the link re-subscribes (idempotent) each down_timeout while stale, and
//     the node is up again with its next snapshot;
//   - a disconnected or never-reached node is retried with exponential backoff:
//     reconnect_min, doubling per failed attempt, at most reconnect_max; a successful
//     connect resets it;
//   - metrics (in every merged snapshot): metron_cluster_node_up{node} (1/0),
//     metron_cluster_nodes, metron_cluster_nodes_up,
//     metron_cluster_snapshots_received_total{node}, metron_cluster_connects_total{node},
//     metron_cluster_connect_failures_total{node}, metron_cluster_node_restarts_total{node}
//     (new processes behind the endpoint), metron_cluster_last_seen_age_seconds{node},
//     metron_cluster_merge_errors_total{node}, metron_remote_refusals_total{reason}
//     (what the client guards refused, stats.hpp); and nodes_atom gives the same as
//     fields. The monitor's own series (metron_ticks_total, metron_subscribers,
//     metron_dropped_snapshots_total, ...) are added as in any monitor; a node's
//     series of those names merge into them, so they count the whole cluster.
//
// Time (down_timeout, ages, rates) is the actor system's clock. Lifetime: the
// collector terminates when its last handle is gone or on an exit message; its links
// follow. Requires configure() (message_types.hpp) on the actor system.
//
// Concurrency: an actor; use it through messages from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "metron/actors/config.hpp"
#include "metron/actors/monitor.hpp"
#include "metron/remote/endpoint.hpp"
#include "metron/remote/stats.hpp"

namespace metron::remote {

struct collector_config {
  /// The nodes' published monitors.
  std::vector<endpoint> nodes;
  /// The monitor of the merged view: tick (interval), quantiles, windows, credit,
  /// restart intensity, detached; collectors run before each merge.
  monitor_config monitor;
  /// A connected node that sends no snapshot for this long is down (stale). Keep it
  /// well above the nodes' tick interval.
  std::chrono::milliseconds down_timeout{2000};
  /// Bound on the TCP connect and on the BASP handshake of one connection attempt, each.
  std::chrono::milliseconds connect_timeout{2000};
  /// Largest payload a node may announce in one frame (its client guard refuses more).
  std::uint32_t max_frame = 64u << 20;
  /// Where the client guards count refusals (null: the collector makes its own); the
  /// counts are also the collector's metron_remote_refusals_total{reason} series.
  std::shared_ptr<remote_stats> stats;
  /// Reconnect backoff: first delay, doubled per failure up to reconnect_max.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  /// Also the per-node copies of every series (node="host:port", cluster_view.hpp):
  /// (nodes + 1) x the series of one node. Off by default (a Prometheus server that
  /// scrapes the collector rarely needs both); a console showing each node wants it.
  bool per_node_series = false;
  /// The middleman actor that connects; null: the system's (plain BASP). TLS:
  /// tls_connector(sys) (tls.hpp).
  caf::io::middleman_actor connector;
};

/// One node as the collector sees it.
struct node_status {
  std::string node;               // "host:port", the node label value
  bool up = false;                // connected and sent a snapshot within down_timeout
  bool connected = false;         // a live connection (proxy) exists
  std::string incarnation;        // CAF node id of the process behind it (last known)
  std::uint64_t snapshots = 0;    // snapshots received
  std::uint64_t connects = 0;     // successful connects
  std::uint64_t connect_failures = 0;
  std::uint64_t restarts = 0;     // times a new process answered (incarnation changed)
  std::int64_t last_seen_ns = 0;  // actor clock of the last snapshot; 0: never
  std::string last_error;         // why it last went down or failed to connect
  friend bool operator==(const node_status&, const node_status&) = default;
  template <class F> friend auto inspect(F& f, node_status& x) {
    return f(x.node, x.up, x.connected, x.incarnation, x.snapshots, x.connects,
             x.connect_failures, x.restarts, x.last_seen_ns, x.last_error);
  }
};

using nodes_atom = caf::atom_constant<caf::atom("nodes")>;

/// A monitor (see monitor.hpp) plus the node table.
using collector_actor =
  monitor_actor::extend<caf::replies_to<nodes_atom>::with<std::vector<node_status>>>;

/// Spawns a collector (see the file comment). Throws std::invalid_argument for a bad
/// config (as spawn_monitor; also a non-positive timeout, reconnect_min > reconnect_max,
/// zero credit, or an actor system without the middleman).
collector_actor spawn_collector(caf::actor_system& sys, collector_config cfg);

} // namespace metron::remote
