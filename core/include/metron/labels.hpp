// metron/labels.hpp — label sets and the Prometheus naming rules.
//
// A label set is a list of (key, value) pairs; the registry keeps it sorted by key,
// so {{"a","1"},{"b","2"}} and {{"b","2"},{"a","1"}} name the same series.
// Names follow the Prometheus data model:
//   metric name  [a-zA-Z_:][a-zA-Z0-9_:]*
//   label key    [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved)
//   label value  any valid UTF-8 string (exporters escape it)
//
// Concurrency: plain values and pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace metron {

using label = std::pair<std::string, std::string>;
using labels = std::vector<label>;

/// True if name is a valid Prometheus metric name.
bool valid_metric_name(std::string_view name) noexcept;

/// True if key is a valid, non-reserved Prometheus label name.
bool valid_label_key(std::string_view key) noexcept;

/// True if text is well-formed UTF-8 (no overlong forms, surrogates or code
/// points above U+10FFFF), as the Prometheus and OpenMetrics formats require.
bool valid_utf8(std::string_view text) noexcept;

/// Sorts by key; throws std::invalid_argument on an invalid or repeated key, or a
/// value that is not valid UTF-8.
labels normalized(labels ls);

namespace detail {
/// text for an error message: at most `max` bytes, non-printable bytes as \xNN.
std::string quoted(std::string_view text, std::size_t max = 64);
} // namespace detail

} // namespace metron
