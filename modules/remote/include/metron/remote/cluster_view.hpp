// metron/remote/cluster_view.hpp — the content of a cluster's merged snapshot, as a
// pure function of the nodes' latest snapshots (the collector actor calls it on
// every tick; tests call it directly).
//
// The merged view has two kinds of series, which never clash (per-node copies only
// with merge_options::per_node_series):
//   - merged totals: each series of every node, with the node's own labels and no
//     `node` label, combined across nodes as snapshot::merge does (counters and up/down
//     counters add, gauges add — the cluster total —, histograms merge bucket by
//     bucket, exactly, so a quantile of the merged histogram is the quantile of the
//     union of all samples within bucket_layout::relative_error);
//   - per-node copies: the same series with the label node="<host:port>" added. A
//     series that already has a `node` label keeps its value as `exported_node`
//     (Prometheus' honor_labels convention), so the per-node copy is never mistaken
//     for a merged total. In PromQL the totals are `x{node=""}`, the nodes `x{node!=""}`.
// Nodes contribute raw snapshots only (a report's raw()): the collector derives its
// figures from the merged data (metron::aggregation), so merged quantiles come from
// merged buckets, never from averaging quantiles.
// Series named metron_cluster_* coming from a node (a node that is itself a
// collector) are dropped too: that prefix belongs to this collector's own metrics.
//
// Down nodes (the documented rule): a down node's last data is KEPT for monotonic
// series — counters and histograms stay in the merged totals and in its per-node
// copies, so cluster totals never go backwards — and DROPPED for levels — gauges and
// up/down counters, which describe a present state a dead process no longer has.
// metron_cluster_node_up{node=...} = 0 marks the node's kept data as stale.
// Restarts: when a new process (a new CAF node id) answers at a node's endpoint, the
// previous incarnation's last counters and histograms are retired into
// cluster_node::retired and keep counting; the new process's values add on top, so a
// node's series are monotonic across its restarts, like a single long-lived process.
// Vanished series (a node's registry retired them: registry::remove, idle expiry):
// a counter or histogram that a node's previous snapshot had and its next one lacks
// keeps its last value in cluster_node::vanished and in the merge, until it comes
// back (metron's registries bring a retired series back with its total continuing,
// which then replaces the kept value) or the process is replaced (then it is retired
// with the rest). So the merged totals never go down while the node's series are
// away. At most max_vanished series per node are kept (beyond that a vanished series
// leaves the totals, as before this rule); levels vanish with the node's series.
// Kind clashes: a node whose metric has another kind than the same name on an
// earlier node (counter here, gauge there) is left out of the merge entirely for that
// tick and reported in `skipped`; the others merge normally.
//
// Cost (modules/remote/NOTES.md, "Collector capacity"): merge_cluster merges every
// node in one k-way pass per kind over the nodes' sorted samples: one comparison per
// node-series while all nodes are at the same series, a heap of the nodes' runs
// (O(log nodes) comparisons per node-series) where they differ; no per-node rebuild
// of the merged vectors. Histogram buckets of one series add into one dense scratch
// array over the layout. About 0.5 us per node-series of a histogram-heavy mix. Per-node copies reuse the relabelled
// identities of the previous merge while a node's series stay the same (a cache
// in cluster_node), so a steady cluster interns no new identity per tick.
//
// Concurrency: pure functions of their arguments (merge_cluster also refreshes the
// nodes' identity caches: do not merge the same nodes from two threads at once).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "metron/snapshot.hpp"

namespace metron::remote {

/// The label that names the node a per-node series comes from.
inline constexpr const char* node_label = "node";
/// Where a node's own `node` label goes in its per-node copies.
inline constexpr const char* exported_node_label = "exported_node";
/// Prefix of the collector's own metrics (nodes' series with it are dropped).
inline constexpr const char* cluster_metric_prefix = "metron_cluster_";

/// What merge_cluster produces besides the totals.
struct merge_options {
  /// Also the per-node copies (node="host:port"): N + 1 series per series instead
  /// of 1. Useful for a console; a Prometheus server can keep the nodes' own series.
  bool per_node_series = false;
};

namespace detail {
struct node_label_cache; // relabelled identities of one node's per-node copies
} // namespace detail

/// One node as the merge sees it.
struct cluster_node {
  cluster_node() = default;
  cluster_node(std::string name, bool up, snapshot_ptr latest = nullptr, snapshot retired = {})
    : name(std::move(name)), up(up), latest(std::move(latest)), retired(std::move(retired)) {}

  std::string name;     // the node label value, "host:port"
  bool up = false;      // false: levels are dropped, monotonic data kept (see above)
  snapshot_ptr latest;  // the current incarnation's latest snapshot; null: none yet
  snapshot retired;     // counters and histograms of earlier incarnations
  snapshot vanished;    // last values of counters and histograms gone from latest
  /// merge_cluster's cache of this node's per-node copy identities (not part of the
  /// node's value; copies of a cluster_node share it).
  mutable std::shared_ptr<detail::node_label_cache> labelled;
};

/// What a node contributes to the totals: latest (levels only if up) plus retired,
/// without metron_cluster_* series. Throws
/// std::invalid_argument if retired and latest disagree on a metric's kind.
snapshot node_contribution(const cluster_node& n);

/// `s` with node="<node>" added to every series' labels (see the file comment).
snapshot with_node_label(snapshot s, const std::string& node);

/// Adds the monotonic part of `s` (counters, histograms and their families) into
/// `retired`; used when a node's process is replaced.
void retire(snapshot& retired, const snapshot& s);

/// Most series one node's cluster_node::vanished holds.
inline constexpr std::size_t max_vanished = 1u << 16;

/// Updates `vanished` when a node's snapshot `prev` is replaced by `next`: counters
/// and histograms of prev that next lacks are kept (last value), kept ones that next
/// has again are dropped, as are kept ones whose name next uses for another kind.
/// Cost: O((|vanished| + |prev|) log |next|).
void track_vanished(snapshot& vanished, const snapshot& prev, const snapshot& next);

/// The merged view (totals, and per-node copies if opts.per_node_series); mono_ns is
/// 0, wall_ns the newest of the nodes'. Names of nodes left out for a kind clash are
/// appended to `skipped` when given.
snapshot merge_cluster(const std::vector<cluster_node>& nodes,
                       std::vector<std::string>* skipped = nullptr, merge_options opts = {});

} // namespace metron::remote
