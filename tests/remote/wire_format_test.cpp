// The wire format: everything in a snapshot survives CAF 0.17's binary serializer
// (pairs, enums, nested structs), and add_message_types registers what a monitor
// sends so whole messages can be (de)serialized by type name, as BASP does.
#include <gtest/gtest.h>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <metron/remote.hpp>

namespace {

metron::report sample_report() {
  metron::registry reg;
  reg.counter("requests_total", {{"method", "GET"}, {"code", "200"}}, "Requests").add(42);
  reg.counter("requests_total", {{"method", "PUT"}, {"code", "500"}}).add(7);
  reg.updown_counter("inflight").add(-3);
  reg.gauge("temperature_celsius", {}, "Heat").set(21.5);
  auto& h = reg.histogram("latency_seconds", {{"path", "/a\"b\n"}});
  for (int i = 1; i <= 1000; ++i)
    h.record(0.0001 * i);
  h.record(-1.0); // rejected
  metron::aggregation agg;
  auto raw = reg.snapshot();
  raw.mono_ns = 1'000'000'000;
  agg.tick(raw);
  raw = reg.snapshot();
  raw.mono_ns = 2'000'000'000;
  return *agg.tick(raw); // with rates, quantiles and windows
}

metron::snapshot sample_snapshot() {
  return sample_report().raw();
}

struct wire : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  wire() {
    metron::remote::add_message_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  template <class T>
  std::vector<char> save(T& x) {
    std::vector<char> buf;
    caf::binary_serializer sink{*sys, buf};
    if (auto err = sink(x))
      ADD_FAILURE() << sys->render(err);
    return buf;
  }
  template <class T>
  T load(const std::vector<char>& buf) {
    T x;
    caf::binary_deserializer source{*sys, buf};
    if (auto err = source(x))
      ADD_FAILURE() << sys->render(err);
    return x;
  }
};

TEST_F(wire, a_snapshot_of_every_kind_survives_the_binary_format) {
  auto s = sample_snapshot();
  ASSERT_EQ(s.histograms.size(), 1u);
  ASSERT_EQ(s.histograms[0].data.rejected(), 1u);
  auto buf = save(s);
  auto back = load<metron::snapshot>(buf);
  EXPECT_EQ(back, s);
  EXPECT_EQ(back.find_family("inflight")->kind, metron::metric_kind::updown_counter);
  EXPECT_EQ(back.find_counter("requests_total", {{"method", "PUT"}, {"code", "500"}})->value(), 7u);
  EXPECT_EQ(back.find_histogram("latency_seconds", {{"path", "/a\"b\n"}})->quantile(0.5),
            s.find_histogram("latency_seconds", {{"path", "/a\"b\n"}})->quantile(0.5));
}

TEST_F(wire, a_snapshot_ptr_message_survives_by_its_registered_type_name) {
  auto s = std::make_shared<const metron::snapshot>(sample_snapshot());
  auto msg = caf::make_message(metron::get_atom::value, metron::snapshot_ptr{s});
  auto buf = save(msg);
  auto back = load<caf::message>(buf);
  ASSERT_TRUE((back.match_elements<metron::get_atom, metron::snapshot_ptr>()));
  auto& got = back.get_as<metron::snapshot_ptr>(1);
  ASSERT_NE(got, nullptr);
  EXPECT_NE(got.get(), s.get()); // a new object, as on another machine
  EXPECT_EQ(*got, *s);
}

TEST_F(wire, a_null_snapshot_ptr_travels_as_an_empty_snapshot) {
  metron::snapshot_ptr none;
  auto msg = caf::make_message(none);
  auto back = load<caf::message>(save(msg));
  auto& got = back.get_as<metron::snapshot_ptr>(0);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, metron::snapshot{});
}

TEST_F(wire, a_report_ptr_message_survives_with_its_figures) {
  auto r = std::make_shared<const metron::report>(sample_report());
  ASSERT_FALSE(r->histogram_stats().at(0).quantiles.empty());
  ASSERT_FALSE(r->histogram_stats().at(0).windows.empty());
  ASSERT_EQ(r->sequence(), 2u);
  auto msg = caf::make_message(metron::get_atom::value, metron::report_ptr{r});
  auto back = load<caf::message>(save(msg));
  ASSERT_TRUE((back.match_elements<metron::get_atom, metron::report_ptr>()));
  auto& got = back.get_as<metron::report_ptr>(1);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, *r);
  auto* hf = got->find_histogram_figures("latency_seconds", {{"path", "/a\"b\n"}});
  ASSERT_NE(hf, nullptr);
  EXPECT_EQ(hf->quantiles, r->histogram_stats()[0].quantiles);
}

// A peer may send figures that do not match its snapshot (fewer or more entries):
// the report that arrives still has one figure per sample, so figures(sample) and
// find_*_figures can never read out of bounds.
TEST_F(wire, a_report_whose_figures_do_not_match_its_snapshot_is_made_consistent_on_arrival) {
  struct forged {
    metron::snapshot raw;
    std::uint64_t sequence = 7;
    double interval = 0.1;
    std::vector<metron::counter_figures> counters; // none, for every counter
    std::vector<metron::histogram_figures> histograms{3}; // three, for 1 histogram
  } f;
  f.raw = sample_snapshot();
  ASSERT_GE(f.raw.counters.size(), 2u);
  std::vector<char> buf;
  {
    caf::binary_serializer sink{*sys, buf};
    ASSERT_FALSE(sink(f.raw, f.sequence, f.interval, f.counters, f.histograms));
  }
  auto got = load<metron::report>(buf);
  EXPECT_EQ(got.sequence(), 7u);
  EXPECT_EQ(got.counter_stats().size(), f.raw.counters.size());
  EXPECT_EQ(got.histogram_stats().size(), 1u);
  EXPECT_EQ(got.find_counter_figures("requests_total", {{"method", "PUT"}, {"code", "500"}})->rate, 0.0);
}

TEST_F(wire, a_null_report_ptr_travels_as_an_empty_report) {
  metron::report_ptr none;
  auto msg = caf::make_message(none);
  auto back = load<caf::message>(save(msg));
  auto& got = back.get_as<metron::report_ptr>(0);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->series(), 0u);
  EXPECT_EQ(got->sequence(), 0u);
}

TEST_F(wire, the_node_table_survives_the_binary_format) {
  std::vector<metron::remote::node_status> xs(2);
  xs[0].node = "127.0.0.1:1";
  xs[0].up = true;
  xs[0].snapshots = 5;
  xs[1].node = "[::1]:2";
  xs[1].last_error = "stale";
  auto msg = caf::make_message(xs);
  auto back = load<caf::message>(save(msg));
  EXPECT_EQ(back.get_as<std::vector<metron::remote::node_status>>(0), xs);
}

TEST(endpoint, parses_host_port_and_rejects_malformed_text) {
  using metron::remote::parse_endpoint;
  auto a = parse_endpoint("127.0.0.1:4242");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 4242);
  EXPECT_EQ(metron::remote::to_string(*a), "127.0.0.1:4242");
  auto b = parse_endpoint("[::1]:80");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(metron::remote::to_string(*b), "[::1]:80");
  for (const char* bad : {"", "host", "host:", ":80", "h:0", "h:65536", "h:8x", "::1:80", "[]:1"})
    EXPECT_FALSE(parse_endpoint(bad)) << bad;
}

} // namespace
