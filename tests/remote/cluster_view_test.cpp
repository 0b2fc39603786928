// The merge rules of the cluster view (cluster_view.hpp), without actors or sockets.
#include <gtest/gtest.h>

#include <metron/remote.hpp>

#include "workload.hpp"

namespace {

using metron::remote::cluster_node;

// The view with per-node copies (node="..."), which these tests check beside the totals.
metron::snapshot merged_with_copies(const std::vector<cluster_node>& nodes, std::vector<std::string>* skipped = nullptr) {
  return metron::remote::merge_cluster(nodes, skipped, {.per_node_series = true});
}

metron::snapshot_ptr workload(std::uint64_t seed, std::size_t n) {
  metron::registry reg;
  metron_test::record_workload(reg, seed, n);
  return std::make_shared<const metron::snapshot>(reg.snapshot());
}

metron::labels node(const char* name, metron::labels ls = {}) {
  ls.emplace_back("node", name);
  return metron::normalized(std::move(ls));
}

TEST(cluster_view, totals_add_and_each_node_keeps_a_node_labelled_copy) {
  std::vector<cluster_node> nodes{{"n1", true, workload(1, 100), {}}, {"n2", true, workload(2, 300), {}}};
  auto v = merged_with_copies(nodes);
  EXPECT_EQ(v.find_counter("work_items_total", {{"kind", "a"}})->value(), 400u);
  EXPECT_EQ(v.find_counter("work_items_total", {{"kind", "b"}})->value(), 3u);
  EXPECT_EQ(v.find_counter("work_items_total", node("n1", {{"kind", "a"}}))->value(), 100u);
  EXPECT_EQ(v.find_counter("work_items_total", node("n2", {{"kind", "a"}}))->value(), 300u);
  EXPECT_EQ(v.find_gauge("work_queue_depth")->value(), 3.0);
  EXPECT_EQ(v.find_gauge("work_queue_depth", node("n2"))->value(), 2.0);
  EXPECT_EQ(v.find_updown_counter("work_inflight")->value(), 4);
  // A node's own `node` label becomes exported_node, in totals and copies alike.
  EXPECT_EQ(v.find_counter("work_items_total", {{"kind", "c"}, {"node", "inner"}}), nullptr);
  EXPECT_EQ(v.find_counter("work_items_total", {{"exported_node", "inner"}, {"kind", "c"}})->value(), 2u);
  EXPECT_EQ(v.find_counter("work_items_total", node("n1", {{"exported_node", "inner"}, {"kind", "c"}}))->value(),
            1u);
  // Merged histogram == one histogram of the union of the samples.
  metron::registry all;
  auto& h = all.histogram("work_latency_seconds");
  for (auto x : metron_test::node_samples(1, 100))
    h.record(x);
  for (auto x : metron_test::node_samples(2, 300))
    h.record(x);
  auto all_snap = all.snapshot();
  auto expect = all_snap.find_histogram("work_latency_seconds");
  auto got = v.find_histogram("work_latency_seconds");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->buckets(), expect->buckets());
  EXPECT_EQ(got->count(), 400u);
  EXPECT_EQ(got->min(), expect->min());
  EXPECT_EQ(got->max(), expect->max());
  EXPECT_DOUBLE_EQ(got->sum(), expect->sum());
  EXPECT_EQ(got->quantile(0.99), expect->quantile(0.99));
  // Samples stay sorted, so lookups work and merge invariants hold.
  EXPECT_TRUE(std::is_sorted(v.counters.begin(), v.counters.end(), [](auto& a, auto& b) {
    return a.series < b.series;
  }));
}

TEST(cluster_view, a_down_node_keeps_counters_and_histograms_but_not_levels) {
  std::vector<cluster_node> nodes{{"n1", true, workload(1, 100), {}}, {"n2", false, workload(2, 300), {}}};
  auto v = merged_with_copies(nodes);
  EXPECT_EQ(v.find_counter("work_items_total", {{"kind", "a"}})->value(), 400u);
  EXPECT_EQ(v.find_histogram("work_latency_seconds")->count(), 400u);
  EXPECT_EQ(v.find_counter("work_items_total", node("n2", {{"kind", "a"}}))->value(), 300u);
  EXPECT_EQ(v.find_gauge("work_queue_depth")->value(), 1.0);
  EXPECT_EQ(v.find_gauge("work_queue_depth", node("n2")), nullptr);
  EXPECT_EQ(v.find_updown_counter("work_inflight")->value(), 2);
  EXPECT_EQ(v.find_updown_counter("work_inflight", node("n2")), nullptr);
}

// A node's registry retires series (remove, idle expiry) and brings them back with
// their totals continuing: the merged totals keep the last value while a counter or
// histogram is away (never a drop a scraper would read as a reset) and take the
// returning total without adding it twice; levels leave with the series.
TEST(cluster_view, a_series_a_node_retires_keeps_its_total_in_the_merge_until_it_returns) {
  metron::registry reg;
  auto& c = reg.counter("jobs_total", {{"queue", "a"}});
  auto& h = reg.histogram("job_seconds");
  auto& g = reg.gauge("depth");
  reg.counter("jobs_total", {{"queue", "b"}}).add(1);
  c.add(40);
  h.record(0.1);
  g.set(3);
  auto snap = [&] { return std::make_shared<const metron::snapshot>(reg.snapshot()); };
  cluster_node n{"n1", true, snap(), {}};
  auto next = [&](metron::snapshot_ptr s) {
    metron::remote::track_vanished(n.vanished, *n.latest, *s);
    n.latest = std::move(s);
    return metron::remote::merge_cluster({n});
  };
  ASSERT_TRUE(reg.remove("jobs_total", {{"queue", "a"}}));
  ASSERT_TRUE(reg.remove("job_seconds"));
  ASSERT_TRUE(reg.remove("depth"));
  for (int tick = 0; tick < 3; ++tick) { // away for a while
    auto v = next(snap());
    ASSERT_NE(v.find_counter("jobs_total", {{"queue", "a"}}), nullptr) << tick;
    EXPECT_EQ(v.find_counter("jobs_total", {{"queue", "a"}})->value(), 40u);
    ASSERT_NE(v.find_histogram("job_seconds"), nullptr);
    EXPECT_EQ(v.find_histogram("job_seconds")->count(), 1u);
    EXPECT_EQ(v.find_gauge("depth"), nullptr);
    EXPECT_EQ(v.find_counter("jobs_total", {{"queue", "b"}})->value(), 1u);
  }
  c.add(2); // back, total continuing
  h.record(0.2);
  auto v = next(snap());
  EXPECT_EQ(v.find_counter("jobs_total", {{"queue", "a"}})->value(), 42u);
  EXPECT_EQ(v.find_histogram("job_seconds")->count(), 2u);
  EXPECT_TRUE(n.vanished.counters.empty());
  EXPECT_TRUE(n.vanished.histograms.empty());
  // A name reused for another kind drops what was kept under it.
  ASSERT_TRUE(reg.remove("jobs_total", {{"queue", "a"}}));
  v = next(snap());
  EXPECT_EQ(v.find_counter("jobs_total", {{"queue", "a"}})->value(), 42u);
  metron::snapshot other = *n.latest;
  other.counters.clear();
  other.families.erase(std::remove_if(other.families.begin(), other.families.end(),
                                      [](auto& f) { return f->name == "jobs_total"; }),
                       other.families.end());
  auto fam = metron::family_ref::make("jobs_total", metron::metric_kind::gauge, "");
  other.families.insert(std::lower_bound(other.families.begin(), other.families.end(), fam,
                                         [](auto& a, auto& b) { return a->name < b->name; }),
                        fam);
  other.gauges.insert(other.gauges.begin(),
                      metron::gauge_sample{{metron::series_ref::make("jobs_total", {}, metron::metric_kind::gauge)}, 1.0, 0});
  std::vector<std::string> skipped;
  metron::remote::track_vanished(n.vanished, *n.latest, other);
  n.latest = std::make_shared<const metron::snapshot>(other);
  v = metron::remote::merge_cluster({n}, &skipped);
  EXPECT_TRUE(skipped.empty());
  EXPECT_EQ(n.vanished.find_counter("jobs_total", {{"queue", "a"}}), nullptr);
  EXPECT_EQ(n.vanished.find_counter("jobs_total", {{"queue", "b"}}), nullptr);
  ASSERT_NE(v.find_gauge("jobs_total"), nullptr);
  EXPECT_EQ(v.find_counter("jobs_total", {{"queue", "b"}}), nullptr);
}

TEST(cluster_view, a_restarted_node_adds_its_new_totals_to_the_retired_ones) {
  cluster_node n{"n1", true, workload(1, 100), {}};
  metron::remote::retire(n.retired, *n.latest);
  n.latest = workload(1, 30); // the new process, counting from zero again
  auto v = merged_with_copies({n});
  EXPECT_EQ(v.find_counter("work_items_total", {{"kind", "a"}})->value(), 130u);
  EXPECT_EQ(v.find_counter("work_items_total", node("n1", {{"kind", "a"}}))->value(), 130u);
  EXPECT_EQ(v.find_histogram("work_latency_seconds")->count(), 130u);
  EXPECT_EQ(v.find_gauge("work_queue_depth")->value(), 1.0); // levels: the new process only
  n.latest = nullptr; // not heard from yet: retired data alone
  v = merged_with_copies({n});
  EXPECT_EQ(v.find_counter("work_items_total", {{"kind", "a"}})->value(), 100u);
  EXPECT_EQ(v.find_gauge("work_queue_depth"), nullptr);
}

TEST(cluster_view, a_node_with_a_clashing_kind_is_left_out_and_reported) {
  metron::registry other;
  other.gauge("work_items_total").set(5); // a gauge where n1 has a counter
  other.counter("other_total").add(9);
  std::vector<cluster_node> nodes{{"n1", true, workload(1, 100), {}},
                                  {"n2", true, std::make_shared<const metron::snapshot>(other.snapshot()), {}}};
  std::vector<std::string> skipped;
  auto v = merged_with_copies(nodes, &skipped);
  EXPECT_EQ(skipped, std::vector<std::string>{"n2"});
  EXPECT_EQ(v.find_family("work_items_total")->kind, metron::metric_kind::counter);
  EXPECT_EQ(v.find_counter("work_items_total", {{"kind", "a"}})->value(), 100u);
  EXPECT_EQ(v.find_counter("other_total"), nullptr);
}

TEST(cluster_view, foreign_cluster_metrics_and_the_node_clock_are_dropped) {
  metron::registry reg;
  reg.counter("a_total").add(3);
  reg.gauge("metron_cluster_node_up", {{"node", "x"}}).set(1);
  reg.histogram("h").record(1.0);
  auto s = reg.snapshot();
  s.mono_ns = 12345; // the node's clock: meaningless to the collector
  auto v = merged_with_copies({{"n1", true, std::make_shared<const metron::snapshot>(s), {}}});
  EXPECT_EQ(v.find_family("metron_cluster_node_up"), nullptr);
  EXPECT_TRUE(v.gauges.empty());
  EXPECT_EQ(v.find_counter("a_total")->value(), 3u);
  EXPECT_EQ(v.find_histogram("h")->count(), 1u);
  EXPECT_EQ(v.mono_ns, 0);
}

// The reference merge_cluster is checked against: the nodes merged one by one with
// snapshot::merge, each node's totals and then its per-node copies.
metron::snapshot merged_one_by_one(const std::vector<cluster_node>& nodes, bool copies,
                                   std::vector<std::string>* skipped) {
  metron::snapshot acc;
  for (auto& n : nodes) {
    try {
      auto part = metron::remote::node_contribution(n);
      acc.merge(part);
      if (copies)
        acc.merge(metron::remote::with_node_label(std::move(part), n.name));
    } catch (const std::invalid_argument&) {
      if (skipped)
        skipped->push_back(n.name);
    }
  }
  acc.mono_ns = 0;
  return acc;
}

// A node of the mixed cluster below: the shared workload, plus series only some
// nodes have, so the nodes' series sets differ.
metron::snapshot_ptr varied(std::uint64_t seed) {
  metron::registry reg;
  metron_test::record_workload(reg, seed, 50 * seed);
  for (std::uint64_t i = 0; i < 40; ++i)
    if ((i + seed) % 3 != 0) {
      reg.counter("part_" + std::to_string(i) + "_total", {{"shard", std::to_string(i % 4)}}).add(i * seed);
      reg.gauge("level_" + std::to_string(i)).set(static_cast<double>(i) / 3.0 + static_cast<double>(seed));
      reg.histogram("wait_seconds", {{"shard", std::to_string(i % 5)}}).record(1e-3 * static_cast<double>(i + seed));
    }
  reg.counter("own_" + std::to_string(seed) + "_total").add(seed);
  return std::make_shared<const metron::snapshot>(reg.snapshot());
}

TEST(cluster_view, the_one_pass_merge_equals_merging_the_nodes_one_by_one) {
  metron::registry foreign;
  foreign.counter("metron_cluster_snapshots_received_total", {{"node", "x"}}).add(4);
  foreign.counter("work_items_total", {{"kind", "a"}}).add(9);
  metron::registry clash;
  clash.gauge("wait_seconds").set(1); // a histogram on the others
  std::vector<cluster_node> nodes;
  const char* names[] = {"n1", "n2", "n3", "n4", "n5"};
  for (std::uint64_t seed = 1; seed <= 5; ++seed)
    nodes.emplace_back(names[seed - 1], seed != 3, varied(seed)); // n3 is down
  metron::remote::retire(nodes[1].retired, *varied(7)); // n2 restarted once
  nodes.emplace_back("n6", true, std::make_shared<const metron::snapshot>(foreign.snapshot()));
  nodes.emplace_back("n7", true, std::make_shared<const metron::snapshot>(clash.snapshot()));
  nodes.emplace_back("n8", true); // not heard from yet
  // A broken node: a bucket outside the layout in its first histogram (the others
  // have that one too, and more after it).
  auto broken = std::make_shared<metron::snapshot>(*varied(2));
  broken->histograms.front().data = metron::histogram_snapshot{{{3, 2}, {9'000'000, 1}}, 1.0, 0.5, 0.5, 0};
  nodes.emplace_back("n9", true, broken);
  for (bool copies : {false, true}) {
    std::vector<std::string> skipped, expected_skipped;
    auto v = metron::remote::merge_cluster(nodes, &skipped, {.per_node_series = copies});
    EXPECT_EQ(v, merged_one_by_one(nodes, copies, &expected_skipped)) << "copies " << copies;
    EXPECT_EQ(skipped, expected_skipped);
    EXPECT_EQ(skipped, std::vector<std::string>{"n7"});
    // Again, with the copies' identities cached from the first merge.
    EXPECT_EQ(metron::remote::merge_cluster(nodes, nullptr, {.per_node_series = copies}), v);
  }
}

TEST(cluster_view, per_node_copies_keep_their_identities_while_the_series_stay_the_same) {
  std::vector<cluster_node> nodes{{"n1", true, workload(1, 100)}, {"n2", true, workload(2, 300)}};
  auto first = metron::remote::merge_cluster(nodes, nullptr, {.per_node_series = true});
  nodes[0].latest = workload(1, 150); // new values, new identity objects, same series
  auto second = metron::remote::merge_cluster(nodes, nullptr, {.per_node_series = true});
  auto* a = first.find_counter("work_items_total", node("n1", {{"kind", "a"}}));
  auto* b = second.find_counter("work_items_total", node("n1", {{"kind", "a"}}));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->value(), 150u);
  EXPECT_EQ(a->series.get(), b->series.get()) << "the copy's identity was made again";
  // Without copies, only the totals.
  auto totals = metron::remote::merge_cluster(nodes);
  EXPECT_EQ(totals.series(), nodes[0].latest->series());
  EXPECT_EQ(totals.find_counter("work_items_total", node("n1", {{"kind", "a"}})), nullptr);
}

} // namespace
