// metron::report: lookups as on a snapshot, figures parallel to the raw samples,
// prefix filtering, and the invariant that figures always match the snapshot.
#include <gtest/gtest.h>

#include <memory>

#include "metron/aggregation.hpp"
#include "metron/registry.hpp"
#include "metron/report.hpp"

namespace {

metron::snapshot at(const metron::registry& reg, std::int64_t mono_ns) {
  auto s = reg.snapshot();
  s.mono_ns = mono_ns;
  return s;
}

TEST(report, lookups_answer_as_on_the_raw_snapshot_and_figures_follow_the_samples) {
  metron::registry reg;
  reg.counter("a_total").add(1);
  reg.counter("b_total", {{"k", "v"}}).add(2);
  reg.gauge("g").set(3);
  reg.histogram("h_seconds").record(0.5);
  metron::aggregation agg;
  agg.tick(at(reg, 0));
  reg.counter("b_total", {{"k", "v"}}).add(10);
  auto r = agg.tick(at(reg, 1'000'000'000));
  EXPECT_EQ(r->find_counter("b_total", {{"k", "v"}}), r->raw().find_counter("b_total", {{"k", "v"}}));
  EXPECT_EQ(r->find_gauge("g")->value(), 3.0);
  EXPECT_EQ(r->find_histogram("h_seconds")->count(), 1u);
  ASSERT_EQ(r->counter_stats().size(), r->raw().counters.size());
  ASSERT_EQ(r->histogram_stats().size(), r->raw().histograms.size());
  auto* b = r->find_counter("b_total", {{"k", "v"}});
  EXPECT_EQ(&r->figures(*b), r->find_counter_figures("b_total", {{"k", "v"}}));
  EXPECT_DOUBLE_EQ(r->figures(*b).rate, 10.0);
  EXPECT_DOUBLE_EQ(r->find_counter_figures("a_total")->rate, 0.0);
  EXPECT_EQ(r->find_counter_figures("missing_total"), nullptr);
  EXPECT_EQ(r->find_histogram_figures("h_seconds")->quantiles.size(), 4u);
  EXPECT_EQ(r->sequence(), 2u);
  EXPECT_DOUBLE_EQ(r->interval_seconds(), 1.0);
}

TEST(report, filtered_keeps_the_matching_series_with_their_own_figures) {
  metron::registry reg;
  reg.counter("app_a_total").add(1);
  reg.counter("app_b_total").add(1);
  reg.counter("other_total").add(1);
  reg.histogram("app_h_seconds").record(1);
  reg.histogram("zz_seconds").record(2);
  metron::aggregation agg;
  agg.tick(at(reg, 0));
  reg.counter("app_b_total").add(5);
  reg.counter("other_total").add(7);
  auto r = agg.tick(at(reg, 1'000'000'000));
  auto f = r->filtered("app_");
  EXPECT_EQ(f.raw().counters.size(), 2u);
  EXPECT_EQ(f.raw().histograms.size(), 1u);
  EXPECT_EQ(f.find_counter("other_total"), nullptr);
  EXPECT_EQ(f.find_family("zz_seconds"), nullptr);
  ASSERT_NE(f.find_family("app_h_seconds"), nullptr);
  EXPECT_DOUBLE_EQ(f.find_counter_figures("app_b_total")->rate, 5.0);
  EXPECT_DOUBLE_EQ(f.find_counter_figures("app_a_total")->rate, 0.0);
  EXPECT_EQ(f.find_histogram_figures("app_h_seconds")->quantiles,
            r->find_histogram_figures("app_h_seconds")->quantiles);
  EXPECT_EQ(f.sequence(), r->sequence());
  EXPECT_EQ(r->filtered("").raw_ptr(), r->raw_ptr()); // no prefix: the same snapshot, shared
  EXPECT_EQ(r->filtered("nothing_").series(), 0u);
}

TEST(report, figures_are_made_to_match_the_snapshot_and_a_null_snapshot_is_empty) {
  metron::registry reg;
  reg.counter("a_total").add(1);
  reg.counter("b_total").add(1);
  auto raw = std::make_shared<const metron::snapshot>(reg.snapshot());
  metron::report r{raw, 3, 0.5, {}, std::vector<metron::histogram_figures>(5)};
  EXPECT_EQ(r.counter_stats().size(), 2u);
  EXPECT_EQ(r.histogram_stats().size(), 0u);
  EXPECT_EQ(r.find_counter_figures("b_total")->rate, 0.0);
  metron::report none{nullptr, 1, 0, {}, {}};
  EXPECT_EQ(none.series(), 0u);
  EXPECT_EQ(metron::report{}.raw().series(), 0u);
}

} // namespace
