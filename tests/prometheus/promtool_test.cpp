// `promtool check metrics` (Prometheus's own parser and linter) accepts the real
// output for a registry with every metric kind, awkward label values, empty and
// NaN-quantile histograms, and quantiles exported as a summary.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <unistd.h>

#include "metron/metron.hpp"
#include "metron/prometheus/text_format.hpp"
#include "../support/hostile_snapshot.hpp"

using namespace metron;
namespace prom = metron::prometheus;

namespace {

std::string promtool_path() {
  for (const char* p : {"/usr/bin/promtool", "/usr/local/bin/promtool"})
    if (::access(p, X_OK) == 0)
      return p;
  return {};
}

// Runs promtool check metrics on text; returns (exit status, combined output).
std::pair<int, std::string> promtool_check(const std::string& text) {
  char path[] = "/tmp/metron_promtool_XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0)
    return {-1, "mkstemp failed"};
  ::close(fd);
  std::ofstream(path) << text;
  std::string cmd = promtool_path() + " check metrics < " + path + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[512];
  while (p && std::fgets(buf, sizeof buf, p))
    out += buf;
  int status = p ? ::pclose(p) : -1;
  ::unlink(path);
  return {status, out};
}

} // namespace

class promtool : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(promtool_path().empty())
      << "promtool not found: install the Debian package 'prometheus' (scripts/install-deps.sh does)";
  }
};

TEST_F(promtool, accepts_every_metric_kind_with_awkward_labels) {
  registry reg;
  labels awkward{{"path", "C:\\temp\\\"quoted\"\nnew line"}, {"unicode", "größe ✓"}, {"empty", ""}};
  reg.counter("http_requests", {{"method", "GET"}}, "Requests served.").add(7);
  reg.counter("http_requests", {{"method", "POST"}}).add(1);
  reg.counter("bytes_sent_total", awkward, "Bytes with \\ and\nnewline in help.").add(1234567);
  reg.updown_counter("connections_open", {}, "Open connections.").add(-3);
  reg.gauge("queue_depth", awkward, "Queued items.").set(4.5);
  reg.settable_counter("process_cpu_seconds_total", {}, "CPU seconds.").set(0.75);
  reg.settable_counter("disk_read_seconds", awkward, "Declared a counter: exposed with _total.").set(2.5);
  reg.gauge("no_help_ratio").set(1e-300);
  auto& h = reg.histogram("request_latency_seconds", {{"route", "/api/v1"}}, "Latency.");
  for (int i = 1; i <= 1000; ++i)
    h.record(i * 1e-4);
  h.record(std::numeric_limits<double>::quiet_NaN()); // rejected, not exported
  reg.histogram("request_latency_seconds", awkward).record(5000); // above the ladder
  reg.histogram("empty_seconds", {}, "Never recorded.");
  auto s = std::make_shared<const snapshot>(reg.snapshot());
  std::vector<histogram_figures> figs(s->histograms.size());
  for (std::size_t i = 0; i < figs.size(); ++i)
    for (double q : {0.5, 0.9, 0.99, 0.999})
      figs[i].quantiles.push_back({q, s->histograms[i].data.quantile(q)}); // NaN for the empty one

  auto text = prom::render_text(report{s, 1, 0.0, {}, std::move(figs)});
  ASSERT_NE(text.find("empty_seconds_quantiles{quantile=\"0.5\"} NaN"), std::string::npos) << text;
  auto [status, out] = promtool_check(text);
  EXPECT_EQ(status, 0) << "promtool check metrics failed:\n" << out << "\non:\n" << text;
}

TEST_F(promtool, accepts_an_empty_registry_and_a_custom_ladder) {
  registry reg;
  EXPECT_EQ(promtool_check(prom::render_text(reg.snapshot())).first, 0);
  reg.histogram("job_duration_seconds").record(3);
  prom::text_options opts;
  opts.buckets = prom::exponential_buckets(-3, 6);
  auto [status, out] = promtool_check(prom::render_text(reg.snapshot(), opts));
  EXPECT_EQ(status, 0) << out;
}

TEST_F(promtool, would_catch_a_broken_exposition) {
  // Guards the guard: promtool really rejects what it should.
  auto [status, out] = promtool_check("# TYPE x counter\nx{a=\"unterminated} 1\n");
  EXPECT_NE(status, 0) << out;
}

TEST_F(promtool, accepts_invalid_utf8_names_and_keys_from_a_hostile_peer) {
  // Before the repair, any one of these label values made the whole scrape fail.
  for (auto& h : metron::test::hostile_strings) {
    registry reg;
    reg.gauge("one_value", {{"k", "x"}}, "help").set(1);
    auto s = reg.snapshot();
    metron::test::set_series(s.gauges[0], "one_value", {{"k", h}}, metric_kind::gauge);
    metron::test::set_family(s.families[0], "one_value", metric_kind::gauge, h);
    auto [status, out] = promtool_check(prom::render_text(s));
    EXPECT_EQ(status, 0) << out;
  }
  auto text = prom::render_text(metron::test::hostile_snapshot());
  auto [status, out] = promtool_check(text);
  EXPECT_EQ(status, 0) << "promtool check metrics failed:\n" << out << "\non:\n" << text;
}
