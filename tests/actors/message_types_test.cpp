// snapshot_ptr as a CAF message type: shared locally, serializable with CAF's own
// binary serializer (what the remote module will rely on).
#include "fixture.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

namespace {

TEST(message_types, report_ptr_is_an_inspectable_caf_message_type) {
  static_assert(caf::detail::is_serializable<metron::report_ptr>::value);
  static_assert(caf::detail::is_serializable<metron::snapshot_ptr>::value);
  auto p = std::make_shared<const metron::report>();
  auto msg = caf::make_message(p);
  ASSERT_TRUE(msg.match_elements<metron::report_ptr>());
  EXPECT_EQ(msg.get_as<metron::report_ptr>(0).get(), p.get()); // shared, not copied
}

TEST(message_types, an_aggregated_snapshot_round_trips_through_the_binary_serializer) {
  metron::registry reg;
  reg.counter("c_total", {{"k", "v"}}).add(5);
  reg.gauge("g").set(-2.5);
  reg.updown_counter("u").add(-3);
  for (int i = 1; i <= 100; ++i)
    reg.histogram("h_seconds").record(i * 0.01);
  metron::aggregation agg;
  auto raw = reg.snapshot();
  raw.mono_ns = 1'000'000'000;
  agg.tick(raw);
  reg.counter("c_total", {{"k", "v"}}).add(1);
  auto raw2 = reg.snapshot();
  raw2.mono_ns = 2'000'000'000;
  metron::report_ptr original = agg.tick(raw2);

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  ASSERT_FALSE(sink(original));
  metron::report_ptr copy;
  caf::binary_deserializer source{sys, buf};
  ASSERT_FALSE(source(copy));
  ASSERT_NE(copy, nullptr);
  EXPECT_NE(copy.get(), original.get());
  EXPECT_EQ(*copy, *original);
  EXPECT_EQ(copy->find_counter_figures("c_total", {{"k", "v"}})->windows.size(), 2u);
}

TEST(message_types, a_null_snapshot_ptr_deserializes_as_an_empty_snapshot) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  metron::report_ptr null;
  ASSERT_FALSE(sink(null));
  metron::report_ptr copy;
  caf::binary_deserializer source{sys, buf};
  ASSERT_FALSE(source(copy));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(*copy, metron::report{});
}

} // namespace
