#include <metron/bucket_layout.hpp>
#include <metron/histogram.hpp>

#include <bit>
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
  EXPECT_EQ(bucket_layout::index(std::nextafter(std::ldexp(1.0, -40), 0.0)), bucket_layout::underflow);
  EXPECT_EQ(bucket_layout::index(std::ldexp(1.0, -40)), 1u);
  EXPECT_EQ(bucket_layout::index(std::nextafter(std::ldexp(1.0, 40), 0.0)), bucket_layout::overflow - 1);
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
  // record() tests the bits: every value from +inf's bits up (NaNs of either sign,
  // -inf, every negative, the smallest denormal with its sign bit set) is refused.
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
                     std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::denorm_min(), -1e-9, -3.0})
    h.record(bad);
  auto after = h.snapshot();
  EXPECT_EQ(after.rejected(), 7u);
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

// More threads alive at once than exclusive slots: some record through shared
// slabs (atomic read-modify-writes on wide blocks); the result must still equal one
// thread recording the same values.
TEST(histogram, shared_slabs_equal_the_single_threaded_reference) {
  const int threads = static_cast<int>(metron::detail::max_slots + 8);
  const std::size_t per_thread = metron::test::scaled(4'000);
  metron::histogram shared, reference;
  std::atomic<int> started{0};
  std::vector<std::thread> ts;
  auto value = [](int t, std::size_t i) { return std::ldexp(static_cast<double>((i * 7919 + static_cast<std::size_t>(t) * 104729) % 100'000 + 1), -16); };
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      (void)metron::detail::this_thread_slab();
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
  EXPECT_NE(metron::detail::shared_slabs_used(), 0u); // the shared path was taken
}

TEST(histogram, an_idle_histogram_is_small_and_a_thread_pays_only_for_the_binades_it_used) {
  using shard = metron::histogram::shard;
  metron::histogram h;
  EXPECT_EQ(h.active_shards(), 0u);
  EXPECT_EQ(h.bytes(), sizeof(metron::histogram));
  EXPECT_LE(sizeof(metron::histogram), 128u);
  h.record(1.0);
  EXPECT_EQ(h.active_shards(), 1u);
  EXPECT_EQ(h.bytes(), sizeof(metron::histogram) + sizeof(metron::detail::cell) + sizeof(shard)
                         + sizeof(shard::narrow_block));
  // A log-normal latency (median 5 ms, sigma 1) spans ~9 binades: < 4 KiB per thread.
  std::mt19937_64 rng{7};
  std::lognormal_distribution<double> d{std::log(0.005), 1.0};
  for (int i = 0; i < 200; ++i)
    h.record(d(rng));
  EXPECT_LE(h.bytes() - sizeof(metron::histogram), 4096u);
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&] { h.record(2.0); });
  for (auto& t : ts)
    t.join();
  EXPECT_LE(h.active_shards(), 9u); // this thread's shard, and one per other slab used
  EXPECT_EQ(h.snapshot().count(), 209u);
}

} // namespace

namespace metron::detail {
// The test hook histogram_shard declares a friend: presets one bucket's narrow count.
struct histogram_shard_test_access {
  static void set_narrow_count(histogram_shard& s, double v, std::uint32_t n) {
    auto i = bucket_layout::index(v);
    auto p = s.blocks_[i >> bucket_layout::block_bits].load();
    ASSERT_NE(p, 0u);
    ASSERT_EQ(p & histogram_shard::wide_tag, 0u);
    reinterpret_cast<histogram_shard::narrow_block*>(p)->counts[i & 63].store(n);
  }
};
} // namespace metron::detail

namespace {

TEST(histogram_shard, a_narrow_count_widens_exactly_past_2_to_the_32) {
  metron::detail::histogram_shard s;
  auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
  ASSERT_TRUE(s.record<true>(0.5, bits(0.5)));
  ASSERT_TRUE(s.record<true>(0.75, bits(0.75))); // same block, another bucket
  metron::detail::histogram_shard_test_access::set_narrow_count(s, 0.5, UINT32_MAX - 1);
  std::uint64_t before_bytes = s.bytes();
  for (int i = 0; i < 3; ++i) // UINT32_MAX, then 2^32 (widens), then 2^32 + 1
    ASSERT_TRUE(s.record<true>(0.5, bits(0.5)));
  EXPECT_GT(s.bytes(), before_bytes); // the wide block exists (and keeps the narrow one)
  std::uint64_t c05 = 0, c075 = 0;
  s.for_each_block([&](std::uint32_t first, std::uint64_t, auto count_of) {
    for (std::size_t k = 0; k < 64; ++k) {
      if (first + k == metron::bucket_layout::index(0.5))
        c05 = count_of(k);
      if (first + k == metron::bucket_layout::index(0.75))
        c075 = count_of(k);
    }
  });
  EXPECT_EQ(c05, std::uint64_t{UINT32_MAX} + 2);
  EXPECT_EQ(c075, 1u); // the other counts of the block were carried over
}

} // namespace
