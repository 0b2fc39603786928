// Quantiles against the exact order statistic (nearest rank) on sorted ground
// truth, for several distributions: the relative error must stay within
// bucket_layout::relative_error (0.78%), which is inside the promised 1%.
#include <metron/histogram.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace {

struct distribution {
  std::string name;
  std::function<double(std::mt19937_64&)> draw;
};

double nearest_rank(const std::vector<double>& sorted, double q) {
  auto n = sorted.size();
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

class quantile_accuracy : public ::testing::TestWithParam<distribution> {};

TEST_P(quantile_accuracy, every_quantile_is_within_the_stated_relative_error) {
  std::mt19937_64 rng{2024};
  const std::size_t n = 200'000;
  std::vector<double> values(n);
  metron::histogram h;
  for (auto& v : values) {
    v = GetParam().draw(rng);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  auto s = h.snapshot();
  ASSERT_EQ(s.count(), n);
  for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1.0}) {
    double exact = nearest_rank(values, q);
    double got = s.quantile(q);
    EXPECT_LE(std::abs(got - exact) / exact, metron::bucket_layout::relative_error)
      << GetParam().name << " q=" << q << " exact=" << exact << " got=" << got;
  }
  EXPECT_EQ(s.quantile(0.0), values.front());
  EXPECT_EQ(s.quantile(1.0), values.back());
}

INSTANTIATE_TEST_SUITE_P(
  distributions, quantile_accuracy,
  ::testing::Values(
    distribution{"uniform", [](std::mt19937_64& r) { return std::uniform_real_distribution<double>{1e-3, 1.0}(r); }},
    distribution{"lognormal", [](std::mt19937_64& r) { return std::lognormal_distribution<double>{std::log(2e-3), 0.8}(r); }},
    distribution{"bimodal", [](std::mt19937_64& r) {
                   return std::bernoulli_distribution{0.9}(r) ? std::normal_distribution<double>{1e-3, 1e-4}(r) + 1e-3
                                                              : std::normal_distribution<double>{0.2, 0.02}(r) + 0.1;
                 }},
    distribution{"pareto_heavy_tail", [](std::mt19937_64& r) {
                   return 1e-4 / std::pow(std::uniform_real_distribution<double>{1e-12, 1.0}(r), 1.0 / 1.2);
                 }},
    distribution{"wide_range_1e_9_to_1e9", [](std::mt19937_64& r) {
                   return std::pow(10.0, std::uniform_real_distribution<double>{-9.0, 9.0}(r));
                 }}),
  [](const auto& info) { return info.param.name; });

TEST(quantile, empty_histogram_has_nan_quantiles_and_zero_stats) {
  metron::histogram h;
  auto s = h.snapshot();
  EXPECT_TRUE(std::isnan(s.quantile(0.5)));
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.min(), 0.0);
  EXPECT_EQ(s.max(), 0.0);
  EXPECT_EQ(s.mean(), 0.0);
}

} // namespace
