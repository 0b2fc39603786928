// The text exposition renderer: exact output for a small registry, escaping, value
// formatting, the le ladder's counts against a direct count, summaries, collisions.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "metron/metron.hpp"
#include "metron/json/utf8.hpp"
#include "metron/prometheus/text_format.hpp"
#include "../support/hostile_snapshot.hpp"

using namespace metron;
namespace prom = metron::prometheus;

TEST(text_format, renders_a_small_registry_exactly) {
  registry reg;
  reg.counter("http_requests", {{"method", "GET"}}, "Requests served.").add(3);
  reg.counter("jobs_total").add(2);
  reg.updown_counter("in_flight").add(-2);
  reg.gauge("temperature_celsius", {}, "Line1\nback\\slash").set(-1.5);
  auto& h = reg.histogram("latency_seconds", {{"path", "/a"}}, "Latency.");
  h.record(0.2);
  h.record(0.3);
  h.record(3.0);
  prom::text_options opts;
  opts.buckets = {0.25, 1, 4};
  EXPECT_EQ(prom::render_text(reg.snapshot(), opts),
            "# HELP http_requests_total Requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"GET\"} 3\n"
            "# HELP in_flight metron updown_counter in_flight\n"
            "# TYPE in_flight gauge\n"
            "in_flight -2\n"
            "# HELP jobs_total metron counter jobs_total\n"
            "# TYPE jobs_total counter\n"
            "jobs_total 2\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{path=\"/a\",le=\"0.25\"} 1\n"
            "latency_seconds_bucket{path=\"/a\",le=\"1\"} 2\n"
            "latency_seconds_bucket{path=\"/a\",le=\"4\"} 3\n"
            "latency_seconds_bucket{path=\"/a\",le=\"+Inf\"} 3\n"
            "latency_seconds_sum{path=\"/a\"} 3.5\n"
            "latency_seconds_count{path=\"/a\"} 3\n"
            "# HELP temperature_celsius Line1\\nback\\\\slash\n"
            "# TYPE temperature_celsius gauge\n"
            "temperature_celsius -1.5\n");
}

TEST(text_format, escapes_label_values_and_help) {
  EXPECT_EQ(prom::escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(prom::escape_label_value("plain é"), "plain é");
  EXPECT_EQ(prom::escape_help("say \"hi\"\\\n"), "say \"hi\"\\\\\\n");
  registry reg;
  reg.gauge("g", {{"path", "C:\\dir \"x\"\nnext"}}).set(1);
  EXPECT_NE(prom::render_text(reg.snapshot()).find("g{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n"),
            std::string::npos);
}

TEST(text_format, formats_special_values_per_the_format) {
  EXPECT_EQ(prom::format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(prom::format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(prom::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(prom::format_value(0.1), "0.1");
  EXPECT_EQ(prom::format_value(0), "0");
  EXPECT_EQ(prom::format_value(1e-7), "1e-07");
  EXPECT_EQ(std::stod(prom::format_value(1.0 / 3)), 1.0 / 3); // round-trips
}

TEST(text_format, default_ladder_bounds_are_layout_bucket_bounds) {
  auto b = prom::default_buckets();
  ASSERT_EQ(b.size(), 16u);
  EXPECT_EQ(b.front(), std::ldexp(1.0, -20));
  EXPECT_EQ(b.back(), 1024.0);
  for (double x : b)
    EXPECT_EQ(bucket_layout::lower(bucket_layout::index(x)), x) << x;
  EXPECT_THROW(prom::exponential_buckets(3, 1), std::invalid_argument);
}

// Parses "name{...,le="B"} N" lines of one histogram series into (B, N).
static std::vector<std::pair<std::string, std::uint64_t>> le_counts(const std::string& text,
                                                                     const std::string& series) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  std::size_t pos = 0;
  while ((pos = text.find(series, pos)) != std::string::npos) {
    auto le = text.find("le=\"", pos) + 4;
    auto end = text.find('"', le);
    auto nl = text.find('\n', end);
    out.emplace_back(text.substr(le, end - le), std::stoull(text.substr(end + 3, nl - end - 3)));
    pos = nl;
  }
  return out;
}

TEST(text_format, ladder_counts_equal_a_direct_count_of_values_below_each_bound) {
  registry reg;
  auto& h = reg.histogram("work_seconds");
  std::mt19937_64 rng{42};
  std::lognormal_distribution<double> dist{std::log(0.01), 2.5};
  std::vector<double> values;
  for (int i = 0; i < 20000; ++i) {
    double v = dist(rng);
    values.push_back(v);
    h.record(v);
  }
  values.push_back(0.0);
  h.record(0.0); // the underflow bucket counts at every bound
  auto ladder = prom::default_buckets();
  auto counts = le_counts(prom::render_text(reg.snapshot()), "work_seconds_bucket{");
  ASSERT_EQ(counts.size(), ladder.size() + 1);
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    std::uint64_t direct = 0;
    for (double v : values)
      direct += v < ladder[i];
    EXPECT_EQ(counts[i].first, prom::format_value(ladder[i]));
    EXPECT_EQ(counts[i].second, direct) << "le=" << ladder[i];
  }
  EXPECT_EQ(counts.back().first, "+Inf");
  EXPECT_EQ(counts.back().second, values.size());
}

TEST(text_format, a_bound_between_layout_bounds_counts_below_the_layout_bound_under_it) {
  registry reg;
  auto& h = reg.histogram("x_seconds");
  h.record(1.004); // bucket [1, 1.015625)
  h.record(0.5);
  prom::text_options opts;
  opts.buckets = {1.01, 1.015625};
  auto counts = le_counts(prom::render_text(reg.snapshot(), opts), "x_seconds_bucket{");
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[0].second, 1u); // 1.004 <= 1.01 but its bucket reaches past 1.01
  EXPECT_EQ(counts[1].second, 2u); // exact at the layout bound
}

TEST(text_format, quantiles_become_a_summary_family_that_does_not_clash) {
  registry reg;
  reg.histogram("rpc_seconds", {{"op", "get"}}).record(0.5);
  reg.histogram("rpc_seconds", {{"op", "put"}}); // empty: NaN quantiles
  auto s = std::make_shared<const snapshot>(reg.snapshot());
  ASSERT_EQ(s->histograms.size(), 2u);
  std::vector<histogram_figures> figs(2);
  figs[0].quantiles = {{0.5, 0.5}, {0.99, 0.5}};
  figs[1].quantiles = {{0.5, std::numeric_limits<double>::quiet_NaN()}};
  report r{s, 1, 0.0, {}, std::move(figs)};
  prom::text_options opts;
  opts.buckets = {1};
  auto text = prom::render_text(r, opts);
  auto summary = text.substr(text.find("# HELP rpc_seconds_quantiles"));
  EXPECT_EQ(summary,
            "# HELP rpc_seconds_quantiles metron histogram rpc_seconds (quantiles)\n"
            "# TYPE rpc_seconds_quantiles summary\n"
            "rpc_seconds_quantiles{op=\"get\",quantile=\"0.5\"} 0.5\n"
            "rpc_seconds_quantiles{op=\"get\",quantile=\"0.99\"} 0.5\n"
            "rpc_seconds_quantiles_sum{op=\"get\"} 0.5\n"
            "rpc_seconds_quantiles_count{op=\"get\"} 1\n"
            "rpc_seconds_quantiles{op=\"put\",quantile=\"0.5\"} NaN\n"
            "rpc_seconds_quantiles_sum{op=\"put\"} 0\n"
            "rpc_seconds_quantiles_count{op=\"put\"} 0\n");
  opts.export_quantiles = false;
  EXPECT_EQ(prom::render_text(r, opts).find("quantile"), std::string::npos);
  // A bare snapshot has no figures: no summary either.
  EXPECT_EQ(prom::render_text(*s, prom::text_options{.buckets = {1}}).find("quantile"), std::string::npos);
}

TEST(text_format, the_declared_kind_decides_counter_or_gauge_never_the_name) {
  registry reg;
  reg.settable_counter("process_cpu_seconds_total").set(1.25);
  reg.settable_counter("bytes_read", {{"dev", "sda"}}).set(4096); // a counter gets its _total
  reg.gauge("pending_total").set(3);                               // a gauge, whatever its name
  auto text = prom::render_text(reg.snapshot());
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"
                      "process_cpu_seconds_total 1.25\n"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("# TYPE bytes_read_total counter\n"
                      "bytes_read_total{dev=\"sda\"} 4096\n"),
            std::string::npos)
    << text;
  EXPECT_NE(text.find("# TYPE pending_total gauge\n"
                      "pending_total 3\n"),
            std::string::npos)
    << text;
}

TEST(text_format, a_settable_counter_whose_name_is_taken_is_skipped) {
  registry reg;
  reg.counter("x").add(1);               // exposed as x_total
  reg.settable_counter("x_total").set(2); // would repeat it
  auto text = prom::render_text(reg.snapshot());
  EXPECT_NE(text.find("x_total 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("x_total 2"), std::string::npos) << text;
  EXPECT_NE(text.find("# metron: skipped x_total"), std::string::npos) << text;
}

TEST(text_format, a_family_whose_series_names_are_taken_is_skipped_not_duplicated) {
  registry reg;
  reg.counter("x").add(1);       // exposed as x_total
  reg.gauge("x_total").set(2);   // would repeat x_total
  auto text = prom::render_text(reg.snapshot());
  EXPECT_NE(text.find("x_total 1\n"), std::string::npos);
  EXPECT_EQ(text.find("x_total 2"), std::string::npos);
  EXPECT_NE(text.find("# metron: skipped x_total"), std::string::npos);
}

TEST(text_format, rejects_a_ladder_that_is_not_ascending) {
  registry reg;
  reg.histogram("h").record(1);
  prom::text_options opts;
  opts.buckets = {2, 1};
  EXPECT_THROW(prom::render_text(reg.snapshot(), opts), std::invalid_argument);
  opts.buckets = {1, std::numeric_limits<double>::infinity()};
  EXPECT_THROW(prom::render_text(reg.snapshot(), opts), std::invalid_argument);
}

namespace {

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1))
    ++n;
  return n;
}

} // namespace

TEST(text_format, invalid_utf8_in_label_values_and_help_is_repaired_injectively) {
  std::set<std::string> values, helps;
  for (auto& h : test::hostile_strings) {
    auto v = prom::escape_label_value(h);
    auto help = prom::escape_help(h);
    EXPECT_TRUE(utf8::valid(v));
    EXPECT_TRUE(utf8::valid(help));
    EXPECT_EQ(utf8::unrepair(v), h); // none of them holds \ " or a newline
    EXPECT_TRUE(values.insert(v).second) << "two label values render as " << v;
    EXPECT_TRUE(helps.insert(help).second);
  }
  EXPECT_EQ(prom::escape_label_value("\xff\"\\"), "\xEF\xBF\xBD" "ff\\\"\\\\");
}

TEST(text_format, names_and_keys_a_registry_would_refuse_are_skipped_never_emitted) {
  auto text = prom::render_text(test::hostile_snapshot());
  EXPECT_TRUE(utf8::valid(text));
  EXPECT_EQ(text.find("injected"), std::string::npos) << text;   // the invalid family name
  EXPECT_NE(text.find("# metron: skipped a family whose name is not a valid metric name\n"), std::string::npos);
  EXPECT_EQ(text.find("bad key"), std::string::npos) << text;    // an invalid label key
  EXPECT_EQ(text.find("hostile_key{"), std::string::npos) << text; // and a repeated one
  EXPECT_EQ(text.find("hostile_hist_bucket{"), std::string::npos) << text; // "le" as a label
  EXPECT_EQ(count_of(text, "\nhostile_value{k=\""), test::hostile_strings.size()) << text;
  EXPECT_NE(text.find("# HELP hostile_help "), std::string::npos);
}
