// metron/actors/filter.hpp — the part of a snapshot whose metric names start with
// a prefix (what a subscriber with a name-prefix filter receives).
//
// The result is a separate, smaller snapshot: the matching families and series with
// all their derived fields, and the same wall_ns, mono_ns, sequence and
// interval_seconds. The fan-out builds it once per tick and prefix and shares it
// among all subscribers with that prefix.
//
// Concurrency: a pure function of an immutable snapshot.
#pragma once

#include <string_view>

#include "metron/snapshot.hpp"

namespace metron {

/// Series and families of `s` whose name starts with `prefix` ("" keeps everything).
snapshot filter_by_prefix(const snapshot& s, std::string_view prefix);

} // namespace metron
