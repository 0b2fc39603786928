#include <metron/gauge.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

TEST(gauge, set_replaces_and_add_adjusts) {
  metron::gauge g;
  EXPECT_EQ(g.value(), 0.0);
  g.set(3.5);
  g.add(-1.0);
  EXPECT_EQ(g.value(), 2.5);
}

TEST(gauge, concurrent_adds_are_never_lost) {
  metron::gauge g;
  const int threads = 4;
  const std::uint64_t n = metron::test::scaled(500'000);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (std::uint64_t i = 0; i < n; ++i)
        g.add(0.5); // exactly representable: the sum is exact in double
    });
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(g.value(), 0.5 * threads * static_cast<double>(n));
}

TEST(gauge, nan_and_infinities_are_rejected_and_counted) {
  metron::gauge g;
  g.set(7.0);
  g.set(std::numeric_limits<double>::quiet_NaN());
  g.set(std::numeric_limits<double>::infinity());
  g.add(-std::numeric_limits<double>::infinity());
  g.add(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(g.value(), 7.0);
  EXPECT_EQ(g.rejected(), 4u);
}

TEST(gauge, an_add_that_would_overflow_to_infinity_is_rejected_and_counted) {
  metron::gauge g;
  g.set(1.7976931348623157e308);
  g.add(1.7976931348623157e308);
  EXPECT_EQ(g.value(), 1.7976931348623157e308);
  g.set(-1.7976931348623157e308);
  g.add(-1.7976931348623157e308);
  EXPECT_EQ(g.value(), -1.7976931348623157e308);
  EXPECT_EQ(g.rejected(), 2u);
  g.add(1.0); // ordinary adds still work (absorbed at this magnitude, but accepted)
  EXPECT_EQ(g.rejected(), 2u);
}

} // namespace
