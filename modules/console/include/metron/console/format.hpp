// metron/console/format.hpp — short, fixed-width renderings of numbers for a
// terminal table: durations with a unit (850ns, 12.3µs, 4.56ms, 1.23s), plain
// numbers with an SI suffix (812, 12.5k, 3.40M), sparklines of recent values in
// Unicode block characters (▁▂▃▄▅▆▇█), and UTF-8 aware width, padding and
// truncation (a table column counts code points, so "µs" is two columns).
//
// Missing values (NaN) render as "-"; in a sparkline as a space.
//
// Concurrency: pure functions of their arguments; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace metron::console {

/// Seconds with three significant digits and a unit: "850ns", "12.3µs", "4.56ms", "1.23s".
std::string format_duration(double seconds);

/// A number with three significant digits and an SI suffix: "0.42", "812", "12.5k", "3.40M".
std::string format_si(double v);

/// One block character per value, scaled from 0 to the largest finite value:
/// a value v becomes level ceil(8 v / max) (1..8), 0 or less the lowest block,
/// NaN a space. All zero (or empty) gives the lowest block for each value.
std::string sparkline(const std::vector<double>& values);

/// Display columns of a UTF-8 string (code points; every one counts as one column).
std::size_t display_width(std::string_view s) noexcept;

/// s cut to at most `width` columns; a cut keeps the start and the end of s and
/// puts "…" in the middle (so a series' labels stay visible).
std::string fit(std::string_view s, std::size_t width);

/// s cut to at most `width` columns at the end (no ellipsis).
std::string clip(std::string_view s, std::size_t width);

/// s padded with spaces to `width` columns, on the right (left-aligned) or the left.
std::string pad_right(std::string_view s, std::size_t width);
std::string pad_left(std::string_view s, std::size_t width);

} // namespace metron::console
