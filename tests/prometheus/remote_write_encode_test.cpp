// The remote-write encoder: requests decode (snappy, then the protobuf generated from
// the spec's .proto) to exactly the series of the /metrics exposition, with __name__,
// sorted labels, external labels and the report's time in ms; splitting; bad options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include <snappy.h>

#include "metron/metron.hpp"
#include "metron/prometheus/text_format.hpp"
#include "metron/remote_write/encoder.hpp"
#include "metron/remote_write/writer.hpp"
#include "proto/remote_write.pb.h"

using namespace metron;
namespace rw = metron::remote_write;

namespace {

report_ptr report_of(const registry& reg, std::int64_t wall_ns) {
  auto s = std::make_shared<snapshot>(reg.snapshot());
  s->wall_ns = wall_ns;
  return std::make_shared<const report>(std::move(s), 1, 0.0, std::vector<counter_figures>{},
                                        std::vector<histogram_figures>{});
}

::prometheus::WriteRequest decode(const rw::encoded_batch& b) {
  std::string raw;
  EXPECT_TRUE(snappy::Uncompress(b.body.data(), b.body.size(), &raw));
  EXPECT_EQ(raw.size(), b.raw_bytes);
  ::prometheus::WriteRequest req;
  EXPECT_TRUE(req.ParseFromString(raw));
  return req;
}

// Series key: every label "k=v" joined by ',' in the order sent.
std::string key_of(const ::prometheus::TimeSeries& ts) {
  std::string k;
  for (auto& l : ts.labels())
    k += l.name() + "=" + l.value() + ",";
  return k;
}

std::size_t sample_lines(const std::string& text) {
  std::size_t n = 0, pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (text[pos] != '#')
      ++n;
    pos = eol + 1;
  }
  return n;
}

} // namespace

TEST(remote_write_encoder, requests_carry_the_exposition_series_with_name_sorted_labels_and_ms_time) {
  registry reg;
  reg.counter("jobs_done", {{"queue", "mail"}}).add(42);
  reg.gauge("temperature_celsius").set(21.5);
  reg.counter("owned", {{"job", "own"}}).add(1);
  auto& h = reg.histogram("latency_seconds");
  for (double v : {0.001, 0.001, 0.001, 0.01, 0.01, 0.01, 0.01, 0.01, 0.1, 0.1})
    h.record(v);
  const std::int64_t wall_ns = 1'700'000'000'123'456'789;
  auto r = report_of(reg, wall_ns);

  rw::config cfg;
  cfg.external_labels = {{"job", "batch"}, {"instance", "node-7"}};
  rw::encoder enc{cfg};
  auto batches = enc.encode(*r);
  ASSERT_EQ(batches.size(), 1u);
  auto req = decode(batches[0]);
  EXPECT_EQ(static_cast<std::size_t>(req.timeseries_size()), batches[0].samples);
  // One series per sample line of the text exposition, counted independently.
  EXPECT_EQ(batches[0].samples, sample_lines(metron::prometheus::render_text(*r, cfg.exposition)));

  std::map<std::string, double> values;
  for (auto& ts : req.timeseries()) {
    ASSERT_EQ(ts.samples_size(), 1);
    EXPECT_EQ(ts.samples(0).timestamp(), 1'700'000'000'123);
    for (int i = 1; i < ts.labels_size(); ++i)
      EXPECT_LT(ts.labels(i - 1).name(), ts.labels(i).name()) << key_of(ts);
    values[key_of(ts)] = ts.samples(0).value();
  }
  EXPECT_EQ(values.at("__name__=jobs_done_total,instance=node-7,job=batch,queue=mail,"), 42);
  EXPECT_EQ(values.at("__name__=temperature_celsius,instance=node-7,job=batch,"), 21.5);
  // The series' own label wins over an external one.
  EXPECT_EQ(values.at("__name__=owned_total,instance=node-7,job=own,"), 1);
  EXPECT_EQ(values.at("__name__=latency_seconds_count,instance=node-7,job=batch,"), 10);
  EXPECT_EQ(values.at("__name__=latency_seconds_bucket,instance=node-7,job=batch,le=+Inf,"), 10);
  // 2^-4 and 2^-6 are bounds of the default ladder: values strictly below them.
  EXPECT_EQ(values.at("__name__=latency_seconds_bucket,instance=node-7,job=batch,le=0.0625,"), 8);
  EXPECT_EQ(values.at("__name__=latency_seconds_bucket,instance=node-7,job=batch,le=0.00390625,"), 3);
  EXPECT_NEAR(values.at("__name__=latency_seconds_sum,instance=node-7,job=batch,"), 0.253, 1e-12);
}

TEST(remote_write_encoder, a_series_equal_to_another_once_external_labels_are_added_is_left_out) {
  registry reg;
  reg.counter("dup_total", {{"job", "batch"}}).add(1); // carries the external label itself
  reg.counter("dup_total").add(2);                     // would become the same series
  reg.counter("dup_total", {{"job", "other"}}).add(3);
  reg.counter("empty_total", {{"job", ""}}).add(4);    // an empty value is no label
  rw::config cfg;
  cfg.external_labels = {{"job", "batch"}};
  auto batches = rw::encoder{cfg}.encode(*report_of(reg, 1));
  ASSERT_EQ(batches.size(), 1u);
  auto req = decode(batches[0]);
  std::map<std::string, double> values;
  for (auto& ts : req.timeseries())
    values[key_of(ts)] = ts.samples(0).value();
  EXPECT_EQ(values, (std::map<std::string, double>{{"__name__=dup_total,job=batch,", 1},
                                                   {"__name__=dup_total,job=other,", 3},
                                                   {"__name__=empty_total,job=batch,", 4}}));
  EXPECT_EQ(batches[0].samples, 3u);
}

TEST(remote_write_encoder, a_large_report_is_split_into_requests_of_at_most_max_samples) {
  registry reg;
  for (int i = 0; i < 10; ++i)
    reg.counter("split_total", {{"i", std::to_string(i)}}).add(static_cast<std::uint64_t>(i));
  rw::config cfg;
  cfg.max_samples_per_request = 3;
  auto batches = rw::encoder{cfg}.encode(*report_of(reg, 5'000'000));
  ASSERT_EQ(batches.size(), 4u);
  std::set<std::string> seen;
  for (auto& b : batches) {
    EXPECT_LE(b.samples, 3u);
    EXPECT_EQ(b.timestamp_ms, 5);
    auto req = decode(b);
    for (auto& ts : req.timeseries())
      seen.insert(key_of(ts));
  }
  EXPECT_EQ(seen.size(), 10u);
}

TEST(remote_write_encoder, an_empty_report_gives_no_request) {
  registry reg;
  EXPECT_TRUE(rw::encoder{rw::config{}}.encode(*report_of(reg, 1)).empty());
}

TEST(remote_write_encoder, label_values_survive_the_text_round_trip_byte_for_byte) {
  registry reg;
  const std::string tricky = "a\"b\\c\nd,e=f}g{h ü";
  reg.counter("tricky_total", {{"v", tricky}}).add(3);
  auto req = decode(rw::encoder{rw::config{}}.encode(*report_of(reg, 1))[0]);
  ASSERT_EQ(req.timeseries_size(), 1);
  ASSERT_EQ(req.timeseries(0).labels_size(), 2);
  EXPECT_EQ(req.timeseries(0).labels(1).value(), tricky);
}

TEST(remote_write_encoder, read_exposition_reads_special_values_and_skips_what_it_does_not_understand) {
  auto s = rw::read_exposition("# HELP x y\nx NaN\ny{a=\"1\"} +Inf\nz -Inf\nbroken{a=\"1\" 3\nw 1e-300\nnovalue\n");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_TRUE(std::isnan(s[0].value));
  EXPECT_EQ(s[1].value, INFINITY);
  EXPECT_EQ(s[1].labels, (labels{{"a", "1"}}));
  EXPECT_EQ(s[2].value, -INFINITY);
  EXPECT_EQ(s[3].value, 1e-300);
}

TEST(remote_write_encoder, read_exposition_never_crashes_on_mutated_text) {
  registry reg;
  reg.counter("a_total", {{"k", "v\"x"}}).add(5);
  reg.histogram("h_seconds").record(0.5);
  const std::string text = metron::prometheus::render_text(*report_of(reg, 1));
  std::mt19937_64 rng{12};
  std::size_t read = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string m = text.substr(0, rng() % (text.size() + 1));
    for (int j = rng() % 8; j > 0 && !m.empty(); --j)
      m[rng() % m.size()] = static_cast<char>(rng());
    read += rw::read_exposition(m).size();
  }
  EXPECT_GT(read, 0u); // some mutated lines still parse; none crashed
}

TEST(remote_write_encoder, bad_options_are_refused_with_a_clear_error) {
  rw::config bad_key;
  bad_key.external_labels = {{"bad-key", "x"}};
  EXPECT_THROW(rw::encoder{bad_key}, std::invalid_argument);
  rw::config reserved;
  reserved.external_labels = {{"__name__", "x"}};
  EXPECT_THROW(rw::encoder{reserved}, std::invalid_argument);
  rw::config repeated;
  repeated.external_labels = {{"job", "a"}, {"job", "b"}};
  EXPECT_THROW(rw::encoder{repeated}, std::invalid_argument);
  rw::config zero;
  zero.max_samples_per_request = 0;
  EXPECT_THROW(rw::encoder{zero}, std::invalid_argument);
  rw::config ladder;
  ladder.exposition.buckets = {1.0, 0.5};
  EXPECT_THROW(rw::encoder{ladder}, std::invalid_argument);
}

namespace {

struct rw_options : caf::actor_system_config {
  rw_options() { rw::add_options(*this); }
};

TEST(remote_write_config, metron_remote_write_options_are_read) {
  rw_options cfg;
  std::vector<std::string> args{"--metron.remote-write.url=http://127.0.0.1:9090/api/v1/write",
                                "--metron.remote-write.push-interval=2s", "--metron.remote-write.queue-capacity=8",
                                "--metron.remote-write.max-backoff=1s",
                                "--metron.remote-write.external-labels=[\"job=batch\", \"instance=n7\"]"};
  ASSERT_FALSE(cfg.parse(args));
  auto c = rw::config_from(cfg);
  EXPECT_EQ(c.url, "http://127.0.0.1:9090/api/v1/write");
  EXPECT_EQ(c.push_interval, std::chrono::seconds{2});
  EXPECT_EQ(c.queue_capacity, 8u);
  EXPECT_EQ(c.max_backoff, std::chrono::seconds{1});
  EXPECT_EQ(c.min_backoff, rw::config{}.min_backoff); // absent: the default
  EXPECT_EQ(c.external_labels, (labels{{"instance", "n7"}, {"job", "batch"}}));
  EXPECT_NO_THROW(rw::encoder{c}); // a config the module accepts
}

TEST(remote_write_config, a_label_that_is_not_key_value_is_refused) {
  rw_options cfg;
  std::vector<std::string> args{"--metron.remote-write.external-labels=[\"job\"]"};
  ASSERT_FALSE(cfg.parse(args));
  EXPECT_THROW(rw::config_from(cfg), std::invalid_argument);
}

} // namespace
