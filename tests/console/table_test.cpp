// render_table: the live view's frame, asserted as text.
#include <gtest/gtest.h>

#include <string>

#include "metron/console/format.hpp"
#include "metron/console/table.hpp"
#include "support.hpp"

using namespace metron::console;
using console_test::at;
using console_test::line_with;
using console_test::lines;
using console_test::words;

namespace {

struct service {
  metron::registry reg;
  metron::histogram& get = reg.histogram("http_duration_seconds", {{"route", "GET /items"}});
  metron::histogram& post = reg.histogram("http_duration_seconds", {{"route", "POST /orders"}});
  metron::counter& requests = reg.counter("http_requests_total");
  metron::gauge& depth = reg.gauge("queue_depth");
  history hist{8};
};

} // namespace

TEST(table, a_histogram_row_shows_rate_and_the_quantiles_of_the_last_interval) {
  service svc;
  svc.get.record(0.001);
  svc.hist.update(at(svc.reg, 1, 1));
  // Interval 2 (2 s): 200 values, 1..200 ms.
  for (int i = 1; i <= 200; ++i)
    svc.get.record(i * 0.001);
  auto s = at(svc.reg, 3, 2);
  svc.hist.update(s);
  std::string frame = render_table(s, svc.hist, {.width = 120});

  auto row = words(line_with(frame, "route=\"GET /items\""));
  ASSERT_EQ(row.size(), 8u) << frame; // route="GET, /items", rate, p50, p90, p99, max, trend
  EXPECT_EQ(row[2], "100");  // 200 values in 2 s
  EXPECT_NEAR(std::stod(row[3]), 100, 1.0) << row[3]; // p50 ~ 100 ms
  EXPECT_TRUE(row[3].ends_with("ms"));
  EXPECT_NEAR(std::stod(row[4]), 180, 2.0) << row[4];
  EXPECT_NEAR(std::stod(row[5]), 198, 2.0) << row[5];
  EXPECT_EQ(row[6], "200ms"); // max is exact
  EXPECT_EQ(row[7], "▁█");    // p99 trend: ~1 ms, then ~198 ms    // p99 trend: ~1 ms, then ~198 ms
}

TEST(table, quantile_columns_are_those_of_the_history) {
  service svc;
  for (int i = 1; i <= 1000; ++i)
    svc.post.record(i * 1e-6);
  auto s = at(svc.reg, 1, 1);
  svc.hist.update(s);
  std::string frame = render_table(s, svc.hist, {.width = 120});
  auto* st = svc.hist.find("http_duration_seconds", {{"route", "POST /orders"}});
  ASSERT_NE(st, nullptr);
  auto row = words(line_with(frame, "POST /orders"));
  ASSERT_EQ(row.size(), 8u) << frame; // route=.. is two words here
  EXPECT_EQ(row[3], format_duration(st->last.p50));
  EXPECT_EQ(row[4], format_duration(st->last.p90));
  EXPECT_EQ(row[5], format_duration(st->last.p99));
  EXPECT_EQ(row[6], "1.00ms");
  EXPECT_TRUE(row[3].ends_with("µs")) << row[3];
}

TEST(table, families_with_labels_get_a_name_line_and_one_row_per_series) {
  service svc;
  svc.get.record(0.002);
  svc.post.record(0.004);
  svc.requests.add(7);
  svc.depth.set(3);
  auto s = at(svc.reg, 1, 5);
  svc.hist.update(s);
  auto ls = lines(render_table(s, svc.hist, {.title = "svc", .width = 120}));
  ASSERT_GE(ls.size(), 10u);
  EXPECT_EQ(ls[0], "svc — tick 5 · 4 series");
  EXPECT_EQ(words(ls[2])[0], "HISTOGRAMS");
  EXPECT_EQ(ls[3], "http_duration_seconds");
  EXPECT_EQ(ls[4].rfind("  route=\"GET /items\"", 0), 0u) << ls[4];
  EXPECT_EQ(ls[5].rfind("  route=\"POST /orders\"", 0), 0u) << ls[5];
  EXPECT_EQ(ls[6], "");
  EXPECT_EQ(words(ls[7])[0], "COUNTERS");
  EXPECT_EQ(words(ls[8]), (std::vector<std::string>{"http_requests_total", "0", "7", "▁"}));
  EXPECT_EQ(words(ls[10])[0], "GAUGES");
  EXPECT_EQ(words(ls[11]), (std::vector<std::string>{"queue_depth", "3", "█"}));
}

TEST(table, counter_rows_show_rate_total_and_a_rate_trend) {
  service svc;
  for (int t = 1; t <= 4; ++t) {
    svc.requests.add(static_cast<std::uint64_t>(1000 * t));
    svc.hist.update(at(svc.reg, t, static_cast<std::uint64_t>(t)));
  }
  auto s = at(svc.reg, 4, 4);
  std::string frame = render_table(s, svc.hist, {.width = 120});
  EXPECT_EQ(words(line_with(frame, "http_requests_total")),
            (std::vector<std::string>{"http_requests_total", "4.00k", "10.0k", "▁▄▆█"}));
  EXPECT_NE(line_with(frame, "COUNTERS").find("rate, last 8"), std::string::npos);
}

TEST(table, idle_metrics_are_hidden_unless_asked_for) {
  service svc;
  svc.get.record(0.001);
  auto s = at(svc.reg, 1, 1);
  svc.hist.update(s);
  std::string frame = render_table(s, svc.hist);
  EXPECT_EQ(line_with(frame, "POST /orders"), "");
  EXPECT_EQ(line_with(frame, "http_requests_total"), "");
  EXPECT_NE(line_with(frame, "queue_depth"), ""); // gauges are always shown
  std::string all = render_table(s, svc.hist, {.hide_idle = false});
  EXPECT_NE(line_with(all, "POST /orders"), "");
  EXPECT_NE(line_with(all, "http_requests_total"), "");
}

TEST(table, hidden_prefixes_are_left_out) {
  service svc;
  svc.requests.add();
  auto s = at(svc.reg, 1, 1);
  svc.hist.update(s);
  std::string frame = render_table(s, svc.hist, {.hide_prefixes = {"http_"}});
  EXPECT_EQ(line_with(frame, "http_"), "");
  EXPECT_NE(line_with(frame, "queue_depth"), "");
}

TEST(table, long_names_are_cut_in_the_middle_and_keep_their_end) {
  metron::registry reg;
  std::string label(80, 'x');
  label += "_the_end";
  reg.histogram("a_rather_long_histogram_name_for_a_table_seconds").record(0.01);
  reg.histogram("h_seconds", {{"path", label}}).record(0.01);
  history hist;
  auto s = at(reg, 1, 1);
  hist.update(s);
  std::string frame = render_table(s, hist, {.width = 100, .name_width = 30});
  auto row = line_with(frame, "_the_end");
  ASSERT_NE(row, "") << frame;
  EXPECT_NE(row.find("…"), std::string::npos);
  EXPECT_EQ(row.find("…xx"), 9u) << row; // "  path=\"x", the ellipsis, the end
  auto name_row = line_with(frame, "a_rather");
  EXPECT_NE(name_row.find("…"), std::string::npos) << name_row;
  EXPECT_NE(name_row.find("table_seconds "), std::string::npos) << name_row;
  EXPECT_EQ(display_width(name_row.substr(0, name_row.find(" "))), 30u) << name_row;
}

TEST(table, no_line_is_wider_than_the_width) {
  service svc;
  svc.get.record(0.002);
  svc.post.record(0.004);
  svc.requests.add(12345);
  svc.depth.set(1e9);
  auto s = at(svc.reg, 1, 1);
  svc.hist.update(s);
  for (std::size_t w = 20; w <= 200; w += 7)
    for (auto& l : lines(render_table(s, svc.hist, {.notes = {std::string(300, 'n')}, .width = w})))
      EXPECT_LE(display_width(l), w) << "width " << w << ": " << l;
}

TEST(table, a_narrow_terminal_drops_the_trend_column_first) {
  service svc;
  svc.get.record(0.002);
  auto s = at(svc.reg, 1, 1);
  svc.hist.update(s);
  std::string wide = render_table(s, svc.hist, {.width = 120});
  std::string narrow = render_table(s, svc.hist, {.width = 55});
  EXPECT_NE(line_with(wide, "GET /items").find("█"), std::string::npos) << wide;
  auto row = line_with(narrow, "/items");
  EXPECT_EQ(row.find("█"), std::string::npos) << narrow;
  EXPECT_NE(row.find("2.00ms"), std::string::npos) << narrow;
  EXPECT_NE(row.find("…"), std::string::npos) << narrow; // the name column shrank too
  std::string tight = render_table(s, svc.hist, {.width = 71});
  EXPECT_TRUE(line_with(tight, "HISTOGRAMS").ends_with("  p99")) << tight; // no room for ", last 8"
  EXPECT_TRUE(line_with(wide, "HISTOGRAMS").ends_with("  p99, last 8")) << wide;
}

TEST(table, rows_beyond_max_lines_become_one_line_that_says_so) {
  metron::registry reg;
  for (int i = 0; i < 30; ++i)
    reg.counter(std::string{"c"}.append(std::to_string(i)).append("_total")).add(); // not "c" + ...: g++ 12 PR 105329
  history hist;
  auto s = at(reg, 1, 1);
  hist.update(s);
  auto ls = lines(render_table(s, hist, {.max_lines = 10}));
  ASSERT_EQ(ls.size(), 10u);
  EXPECT_EQ(ls.back(), "… 24 more rows (a taller terminal shows them)");
}

TEST(table, notes_follow_the_title) {
  metron::registry reg;
  reg.gauge("g").set(1);
  history hist;
  auto s = at(reg, 1, 1);
  hist.update(s);
  auto ls = lines(render_table(s, hist, {.notes = {"first note", "second note"}}));
  ASSERT_GE(ls.size(), 4u);
  EXPECT_EQ(ls[1], "first note");
  EXPECT_EQ(ls[2], "second note");
  EXPECT_EQ(ls[3], "");
}
