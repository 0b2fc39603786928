// The wire format: everything in a snapshot survives CAF 0.17's binary serializer
// (pairs, enums, nested structs), and add_message_types registers what a monitor
// sends so whole messages can be (de)serialized by type name, as BASP does.
#include <gtest/gtest.h>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <metron/remote.hpp>

namespace {

metron::snapshot sample_snapshot() {
  metron::registry reg;
  reg.counter("requests_total", {{"method", "GET"}, {"code", "200"}}, "Requests").add(42);
  reg.counter("requests_total", {{"method", "PUT"}, {"code", "500"}}).add(7);
  reg.updown_counter("inflight").add(-3);
  reg.gauge("temperature_celsius", {}, "Heat").set(21.5);
  auto& h = reg.histogram("latency_seconds", {{"path", "/a\"b\n"}});
  for (int i = 1; i <= 1000; ++i)
    h.record(0.0001 * i);
  h.record(-1.0); // rejected
  metron::monitor_config cfg;
  metron::aggregation agg{cfg};
  auto raw = reg.snapshot();
  raw.mono_ns = 1'000'000'000;
  agg.tick(raw);
  raw = reg.snapshot();
  raw.mono_ns = 2'000'000'000;
  return *agg.tick(raw); // with rates, quantiles and windows
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
  ASSERT_FALSE(s.histograms[0].quantiles.empty());
  ASSERT_FALSE(s.histograms[0].windows.empty());
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
