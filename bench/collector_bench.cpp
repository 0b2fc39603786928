// bench/collector_bench.cpp — what the cluster collector's tick costs per node-series:
// merge_cluster of N nodes x M metrics (the NOTES.md mix, modules/remote/tools/
// service_mix.hpp: 30% histograms of ~350 non-empty buckets), with and without the
// per-node copies, then the aggregation of the merged result, separately. Each node's
// snapshot has identities of its own, as snapshots deserialized from the wire do.
//
//   build/rel/bench/metron_bench_collector --benchmark_filter=merge_cluster
//
// ns_per_node_series = CPU time of one call / (N x M). merge_one_by_one is the
// previous algorithm (pairwise snapshot::merge per node), the baseline.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include <benchmark/benchmark.h>

#include <metron/remote.hpp>

#include "../modules/remote/src/wire_codec.hpp"
#include "../modules/remote/tools/service_mix.hpp"

namespace {

// `s` with every identity made anew: what the collector gets from a node's link.
metron::snapshot with_fresh_identities(const metron::snapshot& s) {
  metron::snapshot out = s;
  for (auto& f : out.families)
    f = metron::family_ref::make(f->name, f->kind, f->help);
  auto renew = [](auto& samples) {
    for (auto& x : samples)
      x.series = metron::series_ref::make(x.name(), x.labels(), x.series.kind());
  };
  renew(out.counters);
  renew(out.updowns);
  renew(out.gauges);
  renew(out.histograms);
  return out;
}

// N nodes of M metrics; eight distinct registries (2,000 values per histogram),
// reused round robin with fresh identities per node.
const std::vector<metron::remote::cluster_node>& cluster_of(std::size_t n, std::size_t m) {
  static std::map<std::pair<std::size_t, std::size_t>, std::vector<metron::remote::cluster_node>> cache;
  auto& nodes = cache[{n, m}];
  if (nodes.empty()) {
    std::vector<metron::snapshot> distinct;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      metron::registry reg;
      metron_tools::service_mix mix{reg, m, seed};
      mix.round(2000);
      distinct.push_back(reg.snapshot());
    }
    for (std::size_t i = 0; i < n; ++i)
      nodes.push_back({"10.0.0." + std::to_string(i) + ":4242", true,
                       std::make_shared<const metron::snapshot>(with_fresh_identities(distinct[i % 8])), {}});
  }
  return nodes;
}

void report_per_node_series(benchmark::State& st, std::size_t n, std::size_t m) {
  st.counters["ns_per_node_series"] =
    benchmark::Counter(static_cast<double>(n * m) * 1e-9,
                       benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// Args: nodes, metrics per node, per-node copies (0/1).
void merge_cluster(benchmark::State& st) {
  auto n = static_cast<std::size_t>(st.range(0));
  auto m = static_cast<std::size_t>(st.range(1));
  auto& nodes = cluster_of(n, m);
  metron::remote::merge_options opts;
  opts.per_node_series = st.range(2) != 0;
  std::size_t series = 0;
  for (auto _ : st) {
    auto merged = metron::remote::merge_cluster(nodes, nullptr, opts);
    series = merged.series();
    benchmark::DoNotOptimize(merged);
  }
  st.counters["merged_series"] = static_cast<double>(series);
  report_per_node_series(st, n, m);
}

// The baseline in the same binary: the nodes merged one by one with snapshot::merge,
// totals then copies per node — merge_cluster's algorithm before the k-way pass.
void merge_one_by_one(benchmark::State& st) {
  auto n = static_cast<std::size_t>(st.range(0));
  auto m = static_cast<std::size_t>(st.range(1));
  auto& nodes = cluster_of(n, m);
  bool copies = st.range(2) != 0;
  for (auto _ : st) {
    metron::snapshot acc;
    for (auto& node : nodes) {
      auto part = metron::remote::node_contribution(node);
      acc.merge(part);
      if (copies)
        acc.merge(metron::remote::with_node_label(std::move(part), node.name));
    }
    benchmark::DoNotOptimize(acc);
  }
  report_per_node_series(st, n, m);
}

// One aggregation tick, as the collector's monitor runs it (default monitor_config).
class aggregate_step {
public:
  aggregate_step() : agg_{metron::monitor_config{}.aggregation()} {}
  void operator()(metron::snapshot raw) {
    raw.mono_ns = (now_ += 1'000'000'000);
    benchmark::DoNotOptimize(agg_.tick(std::move(raw)));
  }

private:
  metron::aggregation agg_;
  std::int64_t now_ = 0;
};

// The aggregation of the merged view (rates, 4 quantiles, 2 windows), per tick.
void aggregate_merged(benchmark::State& st) {
  auto n = static_cast<std::size_t>(st.range(0));
  auto m = static_cast<std::size_t>(st.range(1));
  metron::remote::merge_options opts;
  opts.per_node_series = st.range(2) != 0;
  auto merged = metron::remote::merge_cluster(cluster_of(n, m), nullptr, opts);
  aggregate_step step;
  step(merged); // a first tick: later ones have rates and window history
  for (auto _ : st) {
    st.PauseTiming();
    auto raw = merged;
    st.ResumeTiming();
    step(std::move(raw));
  }
  st.counters["merged_series"] = static_cast<double>(merged.series());
  report_per_node_series(st, n, m);
}

// snapshot::merge of two snapshots of M metrics with the same series (the core step).
void snapshot_merge(benchmark::State& st) {
  auto m = static_cast<std::size_t>(st.range(0));
  auto& nodes = cluster_of(2, m);
  for (auto _ : st) {
    st.PauseTiming();
    metron::snapshot acc = *nodes[0].latest;
    st.ResumeTiming();
    acc.merge(*nodes[1].latest);
    benchmark::DoNotOptimize(acc);
  }
  report_per_node_series(st, 1, m);
}

// The decoder's side of one node link at steady state: delta frames of a node of M
// metrics whose every series changed since the last frame (the capacity run's shape:
// ten rounds of scripts/cluster-capacity.sh's node work, one latency per histogram
// each, per 1 s frame), applied in order; each apply yields the snapshot the
// collector merges.
struct frame_sequence {
  metron::remote::wire::bytes full;
  std::vector<metron::remote::wire::bytes> deltas;
};

const frame_sequence& frames_of(std::size_t m) {
  static std::map<std::size_t, frame_sequence> cache;
  auto& fs = cache[m];
  if (fs.full.empty()) {
    metron::registry reg;
    metron_tools::service_mix mix{reg, m, 1};
    mix.round(2000);
    metron::remote::wire::encoder enc;
    metron::remote::wire::decoder dec;
    fs.full = enc.encode(std::make_shared<const metron::snapshot>(reg.snapshot()));
    dec.apply(fs.full);
    enc.acknowledged(dec.held());
    for (int k = 0; k < 32; ++k) {
      for (int r = 0; r < 10; ++r)
        mix.round(1);
      fs.deltas.push_back(enc.encode(std::make_shared<const metron::snapshot>(reg.snapshot())));
      dec.apply(fs.deltas.back());
      enc.acknowledged(dec.held());
    }
  }
  return fs;
}

void decode_delta(benchmark::State& st) {
  auto m = static_cast<std::size_t>(st.range(0));
  auto& fs = frames_of(m);
  metron::remote::wire::decoder dec;
  std::size_t next = fs.deltas.size();
  std::size_t bytes = 0;
  for (auto _ : st) {
    if (next == fs.deltas.size()) {
      st.PauseTiming();
      dec.reset();
      dec.apply(fs.full);
      next = 0;
      st.ResumeTiming();
    }
    bytes += fs.deltas[next].size();
    auto s = dec.apply(fs.deltas[next++]);
    if (!s)
      st.SkipWithError("a delta frame was refused");
    benchmark::DoNotOptimize(s);
  }
  st.counters["frame_bytes"] = static_cast<double>(bytes) / static_cast<double>(st.iterations());
  report_per_node_series(st, 1, m);
}

void cluster_shapes(benchmark::internal::Benchmark* b) {
  for (auto [n, m] : {std::pair{3, 10000}, std::pair{10, 1000}, std::pair{100, 1000}})
    for (int copies : {0, 1})
      b->Args({n, m, copies});
  b->ArgNames({"nodes", "metrics", "copies"})->Unit(benchmark::kMillisecond);
}

} // namespace

BENCHMARK(merge_cluster)->Apply(cluster_shapes);
BENCHMARK(merge_one_by_one)->Apply(cluster_shapes);
BENCHMARK(aggregate_merged)->Apply(cluster_shapes);
BENCHMARK(decode_delta)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(snapshot_merge)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond);
