// The actor-free aggregation step: rates, quantiles, exact windows, bounded history.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>

#include "metron/aggregation.hpp"
#include "metron/registry.hpp"

namespace {

constexpr std::int64_t ms = 1'000'000;

metron::aggregation_config config_with_windows(std::vector<std::chrono::seconds> ws) {
  metron::aggregation_config cfg;
  cfg.windows = std::move(ws);
  return cfg;
}

metron::snapshot at(const metron::registry& reg, std::int64_t mono_ns) {
  auto s = reg.snapshot();
  s.mono_ns = mono_ns;
  return s;
}

TEST(aggregation, sequence_and_interval_follow_the_ticks) {
  metron::registry reg;
  metron::aggregation agg;
  EXPECT_EQ(agg.latest(), nullptr);
  auto a = agg.tick(at(reg, 1000 * ms));
  auto b = agg.tick(at(reg, 1250 * ms));
  EXPECT_EQ(a->sequence(), 1u);
  EXPECT_EQ(a->interval_seconds(), 0.0);
  EXPECT_EQ(b->sequence(), 2u);
  EXPECT_DOUBLE_EQ(b->interval_seconds(), 0.25);
  EXPECT_EQ(agg.latest(), b);
}

TEST(aggregation, rates_are_the_increase_since_the_previous_tick_per_second) {
  metron::registry reg;
  auto& c = reg.counter("c_total");
  auto& h = reg.histogram("h_seconds");
  metron::aggregation agg;
  agg.tick(at(reg, 0));
  c.add(30);
  h.record(1.0);
  h.record(2.0);
  auto s = agg.tick(at(reg, 500 * ms));
  EXPECT_DOUBLE_EQ(s->find_counter_figures("c_total")->rate, 60.0);
  EXPECT_DOUBLE_EQ(s->find_histogram_figures("h_seconds")->rate, 4.0);
  // A series created after the previous tick counts from zero.
  reg.counter("late_total").add(5);
  auto t = agg.tick(at(reg, 1000 * ms));
  EXPECT_DOUBLE_EQ(t->find_counter_figures("late_total")->rate, 10.0);
  EXPECT_DOUBLE_EQ(t->find_counter_figures("c_total")->rate, 0.0);
}

TEST(aggregation, configured_quantiles_are_computed_for_every_histogram) {
  metron::registry reg;
  auto& h = reg.histogram("h_seconds");
  reg.histogram("empty_seconds");
  for (int i = 1; i <= 1000; ++i)
    h.record(i);
  metron::aggregation_config cfg;
  cfg.quantiles = {0.25, 0.75};
  metron::aggregation agg{cfg};
  auto s = agg.tick(at(reg, 0));
  auto* hs = s->find_histogram_sample("h_seconds");
  auto& qs = s->figures(*hs).quantiles;
  ASSERT_EQ(qs.size(), 2u);
  EXPECT_EQ(qs[0].q, 0.25);
  EXPECT_EQ(qs[0].value, hs->data.quantile(0.25));
  EXPECT_NEAR(qs[1].value, 750, 750 * metron::bucket_layout::relative_error);
  auto* empty = s->find_histogram_figures("empty_seconds");
  ASSERT_EQ(empty->quantiles.size(), 2u);
  EXPECT_EQ(empty->quantiles[0].value, 0.0); // not NaN: snapshots compare equal
}

// Windows of 1 s and 2 s, ticks every 100 ms; in tick k the counter grows by k and
// the histogram gets the value k. A window is then exactly the ticks inside it.
TEST(aggregation, windows_are_exact_differences_to_the_snapshot_at_the_window_start) {
  metron::registry reg;
  auto& c = reg.counter("c_total");
  auto& h = reg.histogram("h_seconds");
  metron::aggregation agg{config_with_windows({std::chrono::seconds{1}, std::chrono::seconds{2}})};
  agg.tick(at(reg, 0));
  metron::report_ptr s;
  for (int k = 1; k <= 50; ++k) {
    c.add(k);
    h.record(k);
    s = agg.tick(at(reg, k * 100 * ms));
  }
  // At tick 50: the 1 s window holds ticks 41..50, the 2 s window ticks 31..50.
  auto* cs = s->find_counter_figures("c_total");
  ASSERT_EQ(cs->windows.size(), 2u);
  EXPECT_EQ(cs->windows[0].length_ns, 1000 * ms);
  EXPECT_DOUBLE_EQ(cs->windows[0].seconds, 1.0);
  EXPECT_EQ(cs->windows[0].increase, 41 + 42 + 43 + 44 + 45 + 46 + 47 + 48 + 49 + 50);
  EXPECT_DOUBLE_EQ(cs->windows[0].rate, cs->windows[0].increase);
  double sum31to50 = 0;
  for (int k = 31; k <= 50; ++k)
    sum31to50 += k;
  EXPECT_EQ(cs->windows[1].increase, sum31to50);
  EXPECT_DOUBLE_EQ(cs->windows[1].rate, sum31to50 / 2.0);

  // The window's histogram equals a histogram of exactly the values inside it.
  metron::registry ref;
  auto& only = ref.histogram("only");
  for (int k = 41; k <= 50; ++k)
    only.record(k);
  auto expected = only.snapshot();
  auto* hs = s->find_histogram_figures("h_seconds");
  auto& w = hs->windows[0];
  EXPECT_EQ(w.increase, 10.0);
  EXPECT_DOUBLE_EQ(w.rate, 10.0);
  ASSERT_EQ(w.quantiles.size(), 4u);
  for (auto& q : w.quantiles) {
    auto exact_bucket = expected.quantile(q.q);
    // Same buckets; the window's interval has no exact min/max, so compare at bucket precision.
    EXPECT_NEAR(q.value, exact_bucket, exact_bucket * 2 * metron::bucket_layout::relative_error) << q.q;
  }
  EXPECT_GE(w.max, 50.0);
  EXPECT_LE(w.max, 50.0 * (1 + 2 * metron::bucket_layout::relative_error));
  EXPECT_EQ(hs->windows[1].increase, 20.0);
}

TEST(aggregation, a_window_younger_than_its_length_covers_the_time_since_the_first_tick) {
  metron::registry reg;
  auto& c = reg.counter("c_total");
  metron::aggregation agg{config_with_windows({std::chrono::seconds{60}})};
  auto first = agg.tick(at(reg, 0));
  EXPECT_EQ(first->find_counter_figures("c_total")->windows[0].seconds, 0.0);
  EXPECT_EQ(first->find_counter_figures("c_total")->windows[0].rate, 0.0);
  c.add(100);
  auto s = agg.tick(at(reg, 5000 * ms));
  auto& w = s->find_counter_figures("c_total")->windows[0];
  EXPECT_DOUBLE_EQ(w.seconds, 5.0);
  EXPECT_EQ(w.increase, 100.0);
  EXPECT_DOUBLE_EQ(w.rate, 20.0);
}

TEST(aggregation, history_stays_bounded_however_many_ticks_pass) {
  metron::registry reg;
  auto& c = reg.counter("c_total");
  metron::aggregation agg; // windows 60 s and 300 s
  metron::report_ptr s;
  for (int k = 0; k < 20'000; ++k) { // 100 ms ticks: 2000 s, far beyond 300 s
    c.add();
    s = agg.tick(at(reg, k * 100 * ms));
  }
  EXPECT_LE(agg.history_entries(), 2 * metron::aggregation::max_entries_per_window);
  EXPECT_GE(agg.history_entries(), 2u);
  // The windows still cover at least their length, at most 1/32 more.
  auto& w = s->find_counter_figures("c_total")->windows;
  EXPECT_GE(w[0].seconds, 60.0);
  EXPECT_LE(w[0].seconds, 60.0 * (1 + 1.0 / 32) + 0.1);
  EXPECT_GE(w[1].seconds, 300.0);
  EXPECT_LE(w[1].seconds, 300.0 * (1 + 1.0 / 32) + 0.1);
  // Exact: one increment per 100 ms tick.
  EXPECT_DOUBLE_EQ(w[0].increase, w[0].seconds * 10);
  EXPECT_DOUBLE_EQ(w[1].rate, 10.0);
}

TEST(aggregation, invalid_quantiles_and_windows_are_rejected) {
  metron::aggregation_config bad_q;
  bad_q.quantiles = {1.5};
  EXPECT_THROW(metron::aggregation{bad_q}, std::invalid_argument);
  metron::aggregation_config bad_w;
  bad_w.windows = {std::chrono::seconds{0}};
  EXPECT_THROW(metron::aggregation{bad_w}, std::invalid_argument);
}

TEST(aggregation, published_reports_and_their_snapshots_are_shared_not_copied) {
  metron::registry reg;
  metron::aggregation agg; // two windows
  auto s = agg.tick(at(reg, 0));
  EXPECT_EQ(agg.latest().get(), s.get());
  EXPECT_EQ(s.use_count(), 2);                      // s, latest
  EXPECT_EQ(s->raw_ptr().use_count(), 3);           // the report, and each window's history
}

} // namespace

namespace {

TEST(aggregation, windows_keep_the_k_slowest_exemplars_recorded_inside_them) {
  metron::registry reg;
  auto& h = reg.histogram("rpc_seconds");
  auto cfg = config_with_windows({std::chrono::seconds{60}});
  cfg.slowest = 2;
  metron::aggregation agg{cfg};
  auto first = at(reg, 0);
  first.wall_ns = 1000;
  agg.tick(std::move(first));
  h.record(9.0, metron::exemplar{"before-window"});
  h.record(0.1, metron::exemplar{"fast"});
  h.record(5.0, metron::exemplar{"slowest"});
  h.record(2.0, metron::exemplar{"second"});
  h.record(0.01, metron::exemplar{"fastest"});
  auto s = at(reg, 61'000 * ms);
  s.wall_ns = 2000;
  auto& data = s.histograms.at(0).data;
  auto ex = data.exemplars();
  ASSERT_EQ(ex.size(), 5u);
  for (auto& e : ex)
    e.wall_ns = e.labels.trace_id() == "before-window" ? 999 : 1500; // the window starts at wall 1000
  data.set_exemplars(ex, 0);
  auto r = agg.tick(std::move(s));
  auto& w = r->find_histogram_figures("rpc_seconds")->windows.at(0);
  ASSERT_EQ(w.slowest.size(), 2u);
  EXPECT_EQ(w.slowest[0].labels.trace_id(), "slowest");
  EXPECT_EQ(w.slowest[0].value, 5.0);
  EXPECT_EQ(w.slowest[1].labels.trace_id(), "second");
}

TEST(aggregation, slowest_zero_keeps_no_exemplars) {
  metron::registry reg;
  auto& h = reg.histogram("rpc_seconds");
  auto cfg = config_with_windows({std::chrono::seconds{1}});
  cfg.slowest = 0;
  metron::aggregation agg{cfg};
  agg.tick(at(reg, 0));
  h.record(1.0, metron::exemplar{"x"});
  auto r = agg.tick(at(reg, 2000 * ms));
  EXPECT_TRUE(r->find_histogram_figures("rpc_seconds")->windows.at(0).slowest.empty());
  EXPECT_EQ(r->find_histogram("rpc_seconds")->exemplars().size(), 1u); // still in the raw snapshot
}

} // namespace
