#include <metron/registry.hpp>

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>
#include <string>

namespace {

std::vector<double> draws(std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng{seed};
  std::lognormal_distribution<double> d{std::log(0.003), 1.2};
  std::vector<double> v(n);
  for (auto& x : v)
    x = std::ldexp(std::round(std::ldexp(d(rng), 24)), -24); // exact sums
  return v;
}

TEST(histogram_snapshot, merging_two_histograms_equals_recording_the_union) {
  auto a_values = draws(1, 50'000), b_values = draws(2, 70'000);
  metron::histogram a, b, both;
  for (double v : a_values) a.record(v), both.record(v);
  for (double v : b_values) b.record(v), both.record(v);
  auto merged = a.snapshot();
  merged.merge(b.snapshot());
  EXPECT_EQ(merged, both.snapshot());
  for (double q : {0.5, 0.9, 0.99, 0.999})
    EXPECT_EQ(merged.quantile(q), both.snapshot().quantile(q));
}

TEST(histogram_snapshot, later_minus_earlier_equals_what_was_recorded_in_between) {
  auto first = draws(3, 30'000), second = draws(4, 40'000);
  metron::histogram h, interval_only;
  for (double v : first) h.record(v);
  auto earlier = h.snapshot();
  for (double v : second) h.record(v), interval_only.record(v);
  h.record(-1.0); // one rejection in the interval
  auto d = h.snapshot().minus(earlier);
  auto expect = interval_only.snapshot();
  EXPECT_EQ(d.count(), expect.count());
  EXPECT_EQ(d.buckets(), expect.buckets());
  EXPECT_EQ(d.sum(), expect.sum());
  EXPECT_EQ(d.rejected(), 1u);
  for (double q : {0.5, 0.99})
    EXPECT_LE(std::abs(d.quantile(q) - expect.quantile(q)) / expect.quantile(q),
              2 * metron::bucket_layout::relative_error);
  // interval min/max are bucket bounds around the true ones
  EXPECT_LE(d.min(), expect.min());
  EXPECT_GE(d.max(), expect.max());
}

TEST(snapshot, merge_adds_counters_and_histograms_and_keeps_series_of_both) {
  metron::registry r1, r2;
  r1.counter("req_total", {{"node", "a"}}).add(5);
  r1.counter("shared_total").add(2);
  r2.counter("shared_total").add(3);
  r2.updown_counter("inflight").add(-4);
  r1.gauge("depth").set(1.5);
  r2.gauge("depth").set(2.0);
  r1.histogram("lat_seconds").record(0.5);
  r2.histogram("lat_seconds").record(2.0);
  auto s = r1.snapshot();
  s.merge(r2.snapshot());
  EXPECT_EQ(s.find_counter("req_total", {{"node", "a"}})->value(), 5u);
  EXPECT_EQ(s.find_counter("shared_total")->value(), 5u);
  EXPECT_EQ(s.find_updown_counter("inflight")->value(), -4);
  EXPECT_EQ(s.find_gauge("depth")->value(), 3.5);
  auto* h = s.find_histogram("lat_seconds");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->count(), 2u);
  EXPECT_EQ(h->min(), 0.5);
  EXPECT_EQ(h->max(), 2.0);
  EXPECT_EQ(s.families.size(), 5u);
}

TEST(snapshot, merge_refuses_a_kind_clash_and_leaves_the_snapshot_unchanged) {
  metron::registry r1, r2;
  r1.counter("x").add(1);
  r2.gauge("x").set(1);
  auto s = r1.snapshot();
  auto copy = s;
  EXPECT_THROW(s.merge(r2.snapshot()), std::invalid_argument);
  EXPECT_EQ(s, copy);
}

TEST(snapshot, minus_gives_exact_counter_increases_and_new_series) {
  metron::registry reg;
  auto& c = reg.counter("c_total");
  c.add(10);
  auto earlier = reg.snapshot();
  c.add(32);
  reg.counter("new_total").add(4);
  reg.gauge("g").set(9);
  auto d = reg.snapshot().minus(earlier);
  EXPECT_EQ(d.find_counter("c_total")->value(), 32u);
  EXPECT_EQ(d.find_counter("new_total")->value(), 4u);
  EXPECT_EQ(d.find_gauge("g")->value(), 9.0);
}

TEST(snapshot, minus_subtracts_settable_counters_and_keeps_plain_gauges) {
  metron::registry reg;
  auto& cpu = reg.settable_counter("cpu_seconds_total");
  auto& g = reg.gauge("level");
  cpu.set(1.5);
  g.set(7);
  auto earlier = reg.snapshot();
  cpu.set(4.25);
  g.set(9);
  reg.settable_counter("late_seconds_total").set(2.5); // new since earlier: all of it is the increase
  auto d = reg.snapshot().minus(earlier);
  EXPECT_EQ(d.find_gauge("cpu_seconds_total")->value(), 2.75); // 4.25 - 1.5, exact in binary
  EXPECT_EQ(d.find_gauge("late_seconds_total")->value(), 2.5);
  EXPECT_EQ(d.find_gauge("level")->value(), 9.0);
  cpu.set(0.5); // the source restarted: a reset, as for counters
  EXPECT_EQ(reg.snapshot().minus(earlier).find_gauge("cpu_seconds_total")->value(), 0.5);
}

TEST(snapshot, merge_adds_settable_counters_and_refuses_one_declared_differently) {
  metron::registry r1, r2, r3;
  r1.settable_counter("cpu_seconds_total").set(1.25);
  r2.settable_counter("cpu_seconds_total").set(2.5);
  r3.gauge("cpu_seconds_total").set(3);
  auto s = r1.snapshot();
  s.merge(r2.snapshot());
  EXPECT_EQ(s.find_gauge("cpu_seconds_total")->value(), 3.75);
  EXPECT_TRUE(s.find_family("cpu_seconds_total")->monotonic);
  auto copy = s;
  try {
    s.merge(r3.snapshot());
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("settable counter"), std::string::npos) << e.what();
  }
  EXPECT_EQ(s, copy);
}

TEST(snapshot, is_self_contained_after_the_registry_is_gone) {
  metron::snapshot s;
  {
    metron::registry reg;
    reg.histogram("h_seconds", {{"route", "/a"}}).record(0.25);
    s = reg.snapshot();
  }
  EXPECT_EQ(s.find_histogram("h_seconds", {{"route", "/a"}})->count(), 1u);
  EXPECT_EQ(s.find_histogram("h_seconds", {{"route", "/a"}})->max(), 0.25);
}

} // namespace
