// history: per-series figures over the interval between updates, bounded trends.
#include <gtest/gtest.h>

#include <cmath>

#include "metron/console/history.hpp"
#include "support.hpp"

using console_test::at;
using metron::console::history;

TEST(history, histogram_figures_cover_only_the_values_since_the_previous_update) {
  metron::registry reg;
  auto& h = reg.histogram("req_seconds");
  for (int i = 0; i < 100; ++i)
    h.record(0.001);
  history hist{8};
  hist.update(at(reg, 1.0, 1));
  for (int i = 0; i < 50; ++i)
    h.record(0.064);
  hist.update(at(reg, 3.0, 2));
  auto* s = hist.find("req_seconds");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->last.count, 50u);
  EXPECT_DOUBLE_EQ(s->last.rate, 25.0); // 50 values in 2 s
  EXPECT_NEAR(s->last.p50, 0.064, 0.064 * 0.008);
  EXPECT_NEAR(s->last.p99, 0.064, 0.064 * 0.008);
  EXPECT_DOUBLE_EQ(hist.interval_seconds(), 2.0);
  ASSERT_EQ(s->trend.size(), 2u);
  EXPECT_NEAR(s->trend.front(), 0.001, 0.001 * 0.008);
}

TEST(history, an_interval_without_values_has_no_quantiles) {
  metron::registry reg;
  reg.histogram("req_seconds").record(0.5);
  history hist;
  hist.update(at(reg, 1.0, 1));
  hist.update(at(reg, 2.0, 2));
  auto* s = hist.find("req_seconds");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->last.count, 0u);
  EXPECT_TRUE(std::isnan(s->last.p99));
  EXPECT_TRUE(std::isnan(s->trend.back()));
}

TEST(history, counter_rate_is_the_increase_over_the_interval) {
  metron::registry reg;
  auto& c = reg.counter("jobs_total", {{"queue", "a"}});
  c.add(10);
  history hist;
  hist.update(at(reg, 1.0, 1));
  c.add(300);
  hist.update(at(reg, 1.5, 2));
  auto* s = hist.find("jobs_total", {{"queue", "a"}});
  ASSERT_NE(s, nullptr);
  EXPECT_DOUBLE_EQ(s->rate, 600.0);
  EXPECT_EQ(hist.find("jobs_total"), nullptr); // another series
}

TEST(history, trends_keep_the_last_capacity_values) {
  metron::registry reg;
  auto& g = reg.gauge("depth");
  history hist{3};
  for (int i = 1; i <= 10; ++i) {
    g.set(i);
    hist.update(at(reg, i, static_cast<std::uint64_t>(i)));
  }
  auto* s = hist.find("depth");
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(s->trend.size(), 3u);
  EXPECT_EQ(s->trend[0], 8.0);
  EXPECT_EQ(s->trend[2], 10.0);
}

TEST(history, series_missing_from_a_snapshot_are_forgotten) {
  metron::registry a, b;
  a.gauge("only_in_a").set(1);
  b.gauge("only_in_b").set(1);
  history hist;
  hist.update(at(a, 1, 1));
  EXPECT_NE(hist.find("only_in_a"), nullptr);
  hist.update(at(b, 2, 2));
  EXPECT_EQ(hist.find("only_in_a"), nullptr);
  EXPECT_NE(hist.find("only_in_b"), nullptr);
  EXPECT_EQ(hist.size(), 1u);
}

TEST(history, labels_are_found_in_any_order) {
  metron::registry reg;
  reg.counter("x_total", {{"b", "2"}, {"a", "1"}}).add();
  history hist;
  hist.update(at(reg, 1, 1));
  EXPECT_NE(hist.find("x_total", {{"b", "2"}, {"a", "1"}}), nullptr);
  EXPECT_NE(hist.find("x_total", {{"a", "1"}, {"b", "2"}}), nullptr);
}
