#include <metron/bucket_layout.hpp>
#include <metron/histogram.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using metron::bucket_layout;

TEST(bucket_layout, every_tracked_value_lies_in_its_bucket_and_near_its_midpoint) {
  std::mt19937_64 rng{42};
  std::uniform_real_distribution<double> exp{-40.0, 40.0};
  for (int i = 0; i < 200'000; ++i) {
    double v = std::pow(2.0, exp(rng));
    auto b = bucket_layout::index(v);
    ASSERT_GT(b, bucket_layout::underflow);
    ASSERT_LT(b, bucket_layout::overflow);
    ASSERT_LE(bucket_layout::lower(b), v);
    ASSERT_LT(v, bucket_layout::upper(b));
    ASSERT_LE(std::abs(bucket_layout::midpoint(b) - v) / v, bucket_layout::relative_error);
  }
}

TEST(bucket_layout, bounds_are_contiguous_and_extremes_fall_in_the_edge_buckets) {
  for (std::uint32_t i = 1; i + 1 < bucket_layout::size; ++i)
    ASSERT_EQ(bucket_layout::upper(i), bucket_layout::lower(i + 1));
  EXPECT_EQ(bucket_layout::index(0.0), bucket_layout::underflow);
  EXPECT_EQ(bucket_layout::index(-0.0), bucket_layout::underflow);
  EXPECT_EQ(bucket_layout::index(std::numeric_limits<double>::denorm_min()), bucket_layout::underflow);
  EXPECT_EQ(bucket_layout::index(std::ldexp(1.0, -40)), 1u);
  EXPECT_EQ(bucket_layout::index(std::ldexp(1.0, 40)), bucket_layout::overflow);
  EXPECT_EQ(bucket_layout::index(std::numeric_limits<double>::max()), bucket_layout::overflow);
  EXPECT_LT(bucket_layout::index(1e-9), bucket_layout::index(1e9));
  EXPECT_LT(bucket_layout::index(1e9), bucket_layout::overflow);
  EXPECT_GT(bucket_layout::index(1e-9), bucket_layout::underflow);
}

TEST(histogram, count_sum_min_max_are_exact) {
  metron::histogram h;
  for (double v : {0.004, 0.001, 0.25, 0.0, 12.5})
    h.record(v);
  auto s = h.snapshot();
  EXPECT_EQ(s.count(), 5u);
  EXPECT_DOUBLE_EQ(s.sum(), 0.004 + 0.001 + 0.25 + 0.0 + 12.5);
  EXPECT_EQ(s.min(), 0.0);
  EXPECT_EQ(s.max(), 12.5);
  EXPECT_DOUBLE_EQ(s.mean(), s.sum() / 5);
  EXPECT_EQ(s.rejected(), 0u);
}

TEST(histogram, values_in_every_block_including_the_edge_buckets_reach_the_snapshot) {
  metron::histogram h;
  std::vector<double> values{0.0, std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max()};
  for (int e = -45; e <= 45; ++e)
    values.push_back(std::ldexp(1.37, e));
  for (double v : values)
    h.record(v);
  auto s = h.snapshot();
  EXPECT_EQ(s.count(), values.size());
  std::uint64_t in_buckets = 0;
  for (auto& [index, n] : s.buckets())
    in_buckets += n;
  EXPECT_EQ(in_buckets, values.size());
  EXPECT_EQ(s.buckets().front().first, bucket_layout::underflow);
  EXPECT_EQ(s.buckets().back().first, bucket_layout::overflow);
  EXPECT_EQ(s.max(), std::numeric_limits<double>::max());
}

TEST(histogram, nan_infinities_and_negatives_are_rejected_and_change_nothing_else) {
  metron::histogram h;
  h.record(1.0);
  h.record(2.0);
  auto before = h.snapshot();
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity(), -1e-9, -3.0})
    h.record(bad);
  auto after = h.snapshot();
  EXPECT_EQ(after.rejected(), 5u);
  EXPECT_EQ(after.count(), before.count());
  EXPECT_EQ(after.sum(), before.sum());
  EXPECT_EQ(after.min(), before.min());
  EXPECT_EQ(after.max(), before.max());
  EXPECT_EQ(after.buckets(), before.buckets());
}

TEST(histogram, negative_zero_records_as_zero) {
  metron::histogram h;
  h.record(-0.0);
  auto s = h.snapshot();
  EXPECT_EQ(s.count(), 1u);
  EXPECT_EQ(s.rejected(), 0u);
  EXPECT_FALSE(std::signbit(s.min()));
  EXPECT_FALSE(std::signbit(s.max()));
}

// Several threads record; the result must equal one thread recording the same
// values (HdrHistogram_c's atomic concurrency test).
TEST(histogram, concurrent_recording_equals_single_threaded_reference) {
  const int threads = 4;
  const std::size_t per_thread = metron::test::scaled(1'000'000);
  std::vector<std::vector<double>> values(threads);
  for (int t = 0; t < threads; ++t) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(t) * 7 + 1);
    std::lognormal_distribution<double> d{std::log(0.002), 1.0};
    values[t].resize(per_thread);
    // integer multiples of 2^-20: sums are exact in double whatever the order
    for (auto& v : values[t])
      v = std::ldexp(std::round(std::ldexp(d(rng), 20)), -20);
  }
  metron::histogram shared;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (double v : values[t])
        shared.record(v);
    });
  for (auto& t : ts)
    t.join();
  metron::histogram reference;
  for (auto& vs : values)
    for (double v : vs)
      reference.record(v);
  auto a = shared.snapshot();
  auto b = reference.snapshot();
  EXPECT_EQ(a.count(), threads * per_thread);
  EXPECT_EQ(a.count(), b.count());
  EXPECT_EQ(a.buckets(), b.buckets());
  EXPECT_EQ(a.sum(), b.sum());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  double lo = 1e300, hi = 0;
  for (auto& vs : values)
    for (double v : vs)
      lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(a.min(), lo);
  EXPECT_EQ(a.max(), hi);
}

// More threads alive at once than shards: some record through the shared overflow
// shards (atomic read-modify-writes); the result must still equal one thread
// recording the same values.
TEST(histogram, overflow_shards_equal_the_single_threaded_reference) {
  const int threads = static_cast<int>(3 * metron::detail::shard_count());
  const std::size_t per_thread = metron::test::scaled(100'000);
  metron::histogram shared, reference;
  std::atomic<int> started{0};
  std::vector<std::thread> ts;
  auto value = [](int t, std::size_t i) { return std::ldexp(static_cast<double>((i * 7919 + static_cast<std::size_t>(t) * 104729) % 100'000 + 1), -16); };
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      (void)metron::detail::this_thread_slot();
      started++;
      while (started < threads)
        std::this_thread::yield();
      for (std::size_t i = 0; i < per_thread; ++i)
        shared.record(value(t, i));
    });
  for (auto& t : ts)
    t.join();
  for (int t = 0; t < threads; ++t)
    for (std::size_t i = 0; i < per_thread; ++i)
      reference.record(value(t, i));
  auto a = shared.snapshot();
  auto b = reference.snapshot();
  EXPECT_EQ(a.count(), per_thread * static_cast<std::size_t>(threads));
  EXPECT_EQ(a.buckets(), b.buckets());
  EXPECT_EQ(a.sum(), b.sum()); // multiples of 2^-16: exact in any order
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  EXPECT_GT(shared.active_shards(), metron::detail::shard_count()); // overflow shards were used
}

TEST(histogram, memory_is_bounded_by_active_shards) {
  metron::histogram h;
  EXPECT_EQ(h.active_shards(), 0u);
  EXPECT_EQ(h.bytes(), sizeof(metron::histogram));
  EXPECT_LT(sizeof(metron::histogram), 640u);
  h.record(1.0);
  EXPECT_EQ(h.active_shards(), 1u);
  EXPECT_EQ(h.bytes(), sizeof(metron::histogram) + sizeof(metron::histogram::shard));
  EXPECT_LT(sizeof(metron::histogram::shard), 42'000u);
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&] { h.record(2.0); });
  for (auto& t : ts)
    t.join();
  EXPECT_LE(h.active_shards(), 2 * metron::detail::shard_count());
  EXPECT_EQ(h.snapshot().count(), 9u);
}

} // namespace
