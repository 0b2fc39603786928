// The OpenMetrics 1.0 exposition: exact output for a small snapshot (families, units,
// _total/_created, exemplars on the bucket that counts their value, # EOF), and the
// content negotiation on the Accept header, including random and mutated headers.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "metron/metron.hpp"
#include "metron/prometheus/text_format.hpp"

using namespace metron;
namespace prom = metron::prometheus;

namespace {

constexpr std::int64_t created = 1'700'000'000'250'000'000; // 1700000000.25 s

// A snapshot as a registry makes it, with known creation times and exemplar times.
snapshot small_snapshot() {
  snapshot s;
  s.families = {family_ref::make("cpu_seconds", metric_kind::gauge, "CPU time.", true),
                family_ref::make("http_requests_total", metric_kind::counter, "Requests \"served\"."),
                family_ref::make("in_flight", metric_kind::updown_counter),
                family_ref::make("latency_seconds", metric_kind::histogram, "Latency.")};
  s.gauges.push_back({{series_ref::make("cpu_seconds", {}, metric_kind::gauge, created)}, 1.5, 0});
  s.counters.push_back(
    {{series_ref::make("http_requests_total", {{"method", "GET"}}, metric_kind::counter, created)}, 3});
  s.updowns.push_back({{series_ref::make("in_flight", {}, metric_kind::updown_counter, created)}, -2});
  histogram h;
  h.record(0.2, exemplar{"aaa"});
  h.record(0.3);
  h.record(3.0, exemplar{"ccc"}.add("user", "x\"y"));
  h.record(0.24, exemplar{"bbb"}); // same binade as 0.2, later: replaces aaa
  auto hs = h.snapshot();
  auto ex = hs.exemplars();
  EXPECT_EQ(ex.size(), 2u);
  ex[0].wall_ns = 1'700'000'001'000'000'000;
  ex[1].wall_ns = 1'700'000'002'000'000'001;
  hs.set_exemplars(ex, 0);
  s.histograms.push_back({{series_ref::make("latency_seconds", {{"path", "/a"}}, metric_kind::histogram, created)}, hs});
  return s;
}

} // namespace

TEST(openmetrics, renders_a_small_snapshot_exactly) {
  prom::text_options opts;
  opts.buckets = {0.25, 1, 4};
  EXPECT_EQ(prom::render_openmetrics(small_snapshot(), opts),
            "# HELP cpu_seconds CPU time.\n"
            "# TYPE cpu_seconds counter\n"
            "# UNIT cpu_seconds seconds\n"
            "cpu_seconds_total 1.5\n"
            "cpu_seconds_created 1700000000.25\n"
            "# HELP http_requests Requests \\\"served\\\".\n"
            "# TYPE http_requests counter\n"
            "http_requests_total{method=\"GET\"} 3\n"
            "http_requests_created{method=\"GET\"} 1700000000.25\n"
            "# HELP in_flight metron updown_counter in_flight\n"
            "# TYPE in_flight gauge\n"
            "in_flight -2\n"
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "# UNIT latency_seconds seconds\n"
            "latency_seconds_bucket{path=\"/a\",le=\"0.25\"} 2 # {trace_id=\"bbb\"} 0.24 1700000001\n"
            "latency_seconds_bucket{path=\"/a\",le=\"1\"} 3\n"
            "latency_seconds_bucket{path=\"/a\",le=\"4\"} 4 # {trace_id=\"ccc\",user=\"x\\\"y\"} 3 1700000002.000000001\n"
            "latency_seconds_bucket{path=\"/a\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{path=\"/a\"} 3.74\n"
            "latency_seconds_count{path=\"/a\"} 4\n"
            "latency_seconds_created{path=\"/a\"} 1700000000.25\n"
            "# EOF\n");
}

TEST(openmetrics, the_text_format_is_unchanged_by_exemplars_and_creation_times) {
  prom::text_options opts;
  opts.buckets = {0.25, 1, 4};
  auto text = prom::render_text(small_snapshot(), opts);
  EXPECT_EQ(text.find('#' + std::string{" {"}), std::string::npos);
  EXPECT_EQ(text.find("_created"), std::string::npos);
  EXPECT_EQ(text.find("# EOF"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{path=\"/a\",le=\"0.25\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE http_requests_total counter\n"), std::string::npos);
}

TEST(openmetrics, an_exemplar_above_every_bound_goes_on_the_inf_bucket_and_unknown_creation_is_left_out) {
  snapshot s;
  s.families = {family_ref::make("h", metric_kind::histogram, "H.")};
  histogram h;
  h.record(100.0, exemplar{"big"});
  s.histograms.push_back({{series_ref::make("h", {}, metric_kind::histogram)}, h.snapshot()});
  prom::text_options opts;
  opts.buckets = {1};
  auto om = prom::render_openmetrics(s, opts);
  EXPECT_NE(om.find("h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1 # {trace_id=\"big\"} 100 "), std::string::npos) << om;
  EXPECT_EQ(om.find("_created"), std::string::npos) << om;
  EXPECT_TRUE(om.ends_with("h_count 1\n# EOF\n")) << om;
}

TEST(openmetrics, an_empty_snapshot_is_just_eof) {
  EXPECT_EQ(prom::render_openmetrics(snapshot{}), "# EOF\n");
}

TEST(openmetrics, a_name_clash_is_left_out_without_a_comment) {
  snapshot s;
  s.families = {family_ref::make("x", metric_kind::counter), family_ref::make("x_total", metric_kind::gauge)};
  s.counters.push_back({{series_ref::make("x", {}, metric_kind::counter)}, 1});
  s.gauges.push_back({{series_ref::make("x_total", {}, metric_kind::gauge)}, 2, 0});
  auto om = prom::render_openmetrics(s);
  EXPECT_EQ(om, "# HELP x metron counter x\n# TYPE x counter\nx_total 1\n# EOF\n");
}

// -- content negotiation ----------------------------------------------------------------

TEST(openmetrics, accept_headers_choose_the_format) {
  // What Prometheus 2.42 sends.
  EXPECT_TRUE(prom::wants_openmetrics("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                                      "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
  EXPECT_TRUE(prom::wants_openmetrics("application/openmetrics-text; version=1.0.0"));
  EXPECT_TRUE(prom::wants_openmetrics("Application/OpenMetrics-Text"));
  EXPECT_TRUE(prom::wants_openmetrics(" text/plain;q=0.5 , application/openmetrics-text ;q=0.9"));
  EXPECT_FALSE(prom::wants_openmetrics(""));
  EXPECT_FALSE(prom::wants_openmetrics("*/*"));
  EXPECT_FALSE(prom::wants_openmetrics("text/plain"));
  EXPECT_FALSE(prom::wants_openmetrics("application/openmetrics-text;version=0.0.1"));
  EXPECT_FALSE(prom::wants_openmetrics("application/openmetrics-text;q=0"));
  EXPECT_FALSE(prom::wants_openmetrics("application/openmetrics-text;q=0.5,text/plain"));
  EXPECT_FALSE(prom::wants_openmetrics("application/openmetrics-text;q=2"));
  EXPECT_FALSE(prom::wants_openmetrics("application/openmetrics-text;q=0.x"));
  EXPECT_FALSE(prom::wants_openmetrics("application/openmetrics-textx"));
  EXPECT_TRUE(prom::wants_openmetrics("application/openmetrics-text;q=1.000;foo;=;version=1.0.0"));
}

TEST(openmetrics, random_and_mutated_accept_headers_always_get_an_answer) {
  const std::string base = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                           "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  std::mt19937_64 rng{12};
  std::uniform_int_distribution<int> byte{0, 255};
  const char alphabet[] = ",;= q.01/*\t\"";
  std::uniform_int_distribution<std::size_t> pick{0, sizeof alphabet - 2};
  std::size_t om = 0;
  for (int i = 0; i < 100'000; ++i) {
    std::string h = base;
    int edits = 1 + i % 8;
    for (int e = 0; e < edits; ++e) {
      std::size_t at = rng() % (h.size() + 1);
      switch (rng() % 4) {
        case 0: if (at < h.size()) h[at] = static_cast<char>(byte(rng)); break;
        case 1: h.insert(at, 1, alphabet[pick(rng)]); break;
        case 2: if (at < h.size()) h.erase(at, 1 + rng() % 8); break;
        default: h.insert(at, h.substr(rng() % h.size(), rng() % 16)); break;
      }
    }
    bool a = prom::wants_openmetrics(h);
    EXPECT_EQ(a, prom::wants_openmetrics(h)); // a function of the bytes only
    om += a;
    std::string noise(rng() % 300, '\0');
    for (auto& c : noise)
      c = static_cast<char>(byte(rng));
    bool b = prom::wants_openmetrics(noise);
    EXPECT_FALSE(b && noise.find("penmetrics") == std::string::npos && noise.find("PENMETRICS") == std::string::npos
                 && noise.find_first_of("OoPpEeNnMmTtRrIiCcSs") == std::string::npos)
      << "only a header naming application/openmetrics-text selects it";
  }
  // The mutations keep many headers intact: both answers occur.
  EXPECT_GT(om, 1000u);
  EXPECT_LT(om, 100'000u);
}
