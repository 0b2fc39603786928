#include "metron/console/format.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace metron::console {
namespace {

// x in (0, 999.5) with three significant digits.
std::string three_digits(double x) {
  char buf[32];
  if (x < 9.995)
    std::snprintf(buf, sizeof buf, "%.2f", x);
  else if (x < 99.95)
    std::snprintf(buf, sizeof buf, "%.1f", x);
  else
    std::snprintf(buf, sizeof buf, "%.0f", x);
  return buf;
}

// v > 0 in units[0], moving to units[1], ... (each 1000 times the previous) while
// it would print as 1000 or more; the last unit takes any size.
std::string scaled(double v, const char* const* units, std::size_t n) {
  std::size_t i = 0;
  while (i + 1 < n && v >= 999.5)
    v /= 1000.0, ++i;
  if (v >= 999.5) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf + std::string{units[i]};
  }
  return three_digits(v) + units[i];
}

// "-" followed by s (built by appending: g++ 12 warns falsely on "-" + s, PR 105329).
std::string negated(const std::string& s) {
  std::string out{"-"};
  out += s;
  return out;
}

bool continuation(char c) noexcept {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Byte offset just past the first `cols` code points of s.
std::size_t prefix_bytes(std::string_view s, std::size_t cols) noexcept {
  std::size_t i = 0;
  for (std::size_t n = 0; i < s.size(); ++n) {
    if (n == cols)
      break;
    ++i;
    while (i < s.size() && continuation(s[i]))
      ++i;
  }
  return i;
}

} // namespace

std::string format_duration(double seconds) {
  if (std::isnan(seconds))
    return "-";
  if (seconds < 0)
    return negated(format_duration(-seconds));
  if (seconds == 0)
    return "0";
  if (seconds < 1e-9) // below a nanosecond: still show something honest
    return "<1ns";
  static const char* const units[] = {"ns", "µs", "ms", "s"};
  if (seconds >= 1.0) // no kiloseconds: stay in seconds
    return scaled(seconds, units + 3, 1);
  return scaled(seconds * 1e9, units, 4);
}

std::string format_si(double v) {
  if (std::isnan(v))
    return "-";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  if (v < 0)
    return negated(format_si(-v));
  if (v == 0)
    return "0";
  char buf[48];
  if (v < 1.0) {
    if (v < 0.005)
      return "<0.01";
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
  }
  if (v < 999.5 && v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  static const char* const units[] = {"", "k", "M", "G", "T", "P"};
  return scaled(v, units, 6);
}

std::string sparkline(const std::vector<double>& values) {
  static const char* const blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  double hi = 0;
  for (double v : values)
    if (std::isfinite(v))
      hi = std::max(hi, v);
  std::string out;
  for (double v : values) {
    if (std::isnan(v)) {
      out += ' ';
      continue;
    }
    int level = 0; // index into blocks
    if (hi > 0 && v > 0)
      level = std::clamp(static_cast<int>(std::ceil(8.0 * std::min(v, hi) / hi - 1e-9)) - 1, 0, 7);
    out += blocks[level];
  }
  return out;
}

std::size_t display_width(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s)
    if (!continuation(c))
      ++n;
  return n;
}

std::string fit(std::string_view s, std::size_t width) {
  std::size_t w = display_width(s);
  if (w <= width)
    return std::string{s};
  if (width == 0)
    return {};
  if (width == 1)
    return "…";
  std::size_t keep = width - 1;       // columns besides the ellipsis
  std::size_t head = keep / 3;        // the end usually tells series apart: keep more of it
  std::size_t tail = keep - head;
  std::string out{s.substr(0, prefix_bytes(s, head))};
  out += "…";
  out += s.substr(prefix_bytes(s, w - tail));
  return out;
}

std::string clip(std::string_view s, std::size_t width) {
  return std::string{s.substr(0, prefix_bytes(s, width))};
}

std::string pad_right(std::string_view s, std::size_t width) {
  std::string out{s};
  for (std::size_t w = display_width(s); w < width; ++w)
    out += ' ';
  return out;
}

std::string pad_left(std::string_view s, std::size_t width) {
  std::string out;
  for (std::size_t w = display_width(s); w < width; ++w)
    out += ' ';
  out += s;
  return out;
}

} // namespace metron::console
