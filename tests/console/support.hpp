// Shared helpers of the console tests: snapshots of a registry at chosen times.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "metron/metron.hpp"

namespace console_test {

/// A report of reg.snapshot() taken "at" t seconds (mono_ns), with a tick number and
/// no derived figures (rates 0).
inline metron::report at(const metron::registry& reg, double t, std::uint64_t sequence) {
  auto s = std::make_shared<metron::snapshot>(reg.snapshot());
  s->mono_ns = static_cast<std::int64_t>(t * 1e9);
  return metron::report{std::move(s), sequence, 0.0, {}, {}};
}

/// The lines of a frame.
inline std::vector<std::string> lines(const std::string& frame) {
  std::vector<std::string> out;
  std::istringstream in{frame};
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

/// The first line containing `needle`, or "" if none does.
inline std::string line_with(const std::string& frame, const std::string& needle) {
  for (auto& l : lines(frame))
    if (l.find(needle) != std::string::npos)
      return l;
  return {};
}

/// The whitespace-separated words of a line.
inline std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in{line};
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

} // namespace console_test
