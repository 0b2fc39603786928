#include <metron/scoped_timer.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace {

TEST(scoped_timer, records_one_elapsed_time_in_seconds_when_leaving_scope) {
  metron::histogram h;
  auto outer_start = std::chrono::steady_clock::now();
  {
    metron::scoped_timer t{h};
    volatile double x = 0;
    for (int i = 0; i < 100000; ++i)
      x = x + i;
    EXPECT_EQ(h.snapshot().count(), 0u); // nothing yet
  }
  double outer = std::chrono::duration<double>(std::chrono::steady_clock::now() - outer_start).count();
  auto s = h.snapshot();
  ASSERT_EQ(s.count(), 1u);
  EXPECT_GT(s.max(), 0.0);
  EXPECT_LE(s.max(), outer); // seconds, and inside the enclosing interval
}

TEST(scoped_timer, stop_records_once_and_cancel_records_nothing) {
  metron::histogram h;
  {
    metron::scoped_timer t{h};
    t.stop();
    t.stop();
  }
  {
    metron::scoped_timer t{h};
    t.cancel();
  }
  EXPECT_EQ(h.snapshot().count(), 1u);
}

} // namespace
