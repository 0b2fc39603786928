// Numbers, durations, sparklines and UTF-8 aware widths for the console table.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "metron/console/format.hpp"

using namespace metron::console;

TEST(format, durations_get_three_significant_digits_and_a_unit) {
  EXPECT_EQ(format_duration(850e-9), "850ns");
  EXPECT_EQ(format_duration(12.34e-6), "12.3µs");
  EXPECT_EQ(format_duration(4.561e-3), "4.56ms");
  EXPECT_EQ(format_duration(0.25), "250ms");
  EXPECT_EQ(format_duration(1.234), "1.23s");
  EXPECT_EQ(format_duration(4321.0), "4321s");
  EXPECT_EQ(format_duration(0.0), "0");
}

TEST(format, a_duration_that_rounds_to_1000_moves_to_the_next_unit) {
  EXPECT_EQ(format_duration(999.7e-6), "1.00ms");
  EXPECT_EQ(format_duration(0.9996), "1.00s");
  EXPECT_EQ(format_duration(999.4e-9), "999ns");
}

TEST(format, missing_values_are_a_dash) {
  EXPECT_EQ(format_duration(std::numeric_limits<double>::quiet_NaN()), "-");
  EXPECT_EQ(format_si(std::numeric_limits<double>::quiet_NaN()), "-");
}

TEST(format, numbers_get_an_si_suffix) {
  EXPECT_EQ(format_si(0.42), "0.42");
  EXPECT_EQ(format_si(812), "812");
  EXPECT_EQ(format_si(12.5), "12.5");
  EXPECT_EQ(format_si(12'500), "12.5k");
  EXPECT_EQ(format_si(3'400'000), "3.40M");
  EXPECT_EQ(format_si(999'700), "1.00M");
  EXPECT_EQ(format_si(7.2e9), "7.20G");
  EXPECT_EQ(format_si(-1500), "-1.50k");
  EXPECT_EQ(format_si(0), "0");
}

TEST(format, sparkline_scales_from_zero_to_the_largest_value) {
  EXPECT_EQ(sparkline({1, 2, 3, 4, 5, 6, 7, 8}), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(sparkline({10, 80}), "▁█");
  EXPECT_EQ(sparkline({0, 0, 0}), "▁▁▁");
  EXPECT_EQ(sparkline({}), "");
}

TEST(format, sparkline_shows_a_missing_value_as_a_space) {
  EXPECT_EQ(sparkline({8, std::numeric_limits<double>::quiet_NaN(), 4}), "█ ▄");
}

TEST(format, width_counts_code_points_not_bytes) {
  EXPECT_EQ(display_width("abc"), 3u);
  EXPECT_EQ(display_width("12.3µs"), 6u);
  EXPECT_EQ(display_width("▁▂▃"), 3u);
  EXPECT_EQ(pad_left("µs", 4), "  µs");
  EXPECT_EQ(pad_right("µs", 4), "µs  ");
}

TEST(format, fit_cuts_in_the_middle_and_keeps_the_end) {
  EXPECT_EQ(fit("short", 10), "short");
  std::string cut = fit("demo_request_duration_seconds{route=\"GET /api/search\"}", 30);
  EXPECT_EQ(display_width(cut), 30u);
  EXPECT_EQ(cut.substr(0, 9), "demo_requ");
  EXPECT_NE(cut.find("…"), std::string::npos);
  EXPECT_TRUE(cut.ends_with("/api/search\"}")) << cut;
  EXPECT_EQ(fit("abcdef", 1), "…");
  EXPECT_EQ(fit("abcdef", 0), "");
}

TEST(format, clip_never_splits_a_multibyte_character) {
  EXPECT_EQ(clip("a▁▂▃", 2), "a▁");
  EXPECT_EQ(clip("abc", 10), "abc");
}
