// metron/detail/mode.hpp — the per-registry switch between lock-free and locked
// recording, read by every metric on every record.
#pragma once

#include <atomic>

namespace metron::detail {

/// true: record into the lock-free shards; false: into the mutex-guarded cell.
/// Read with relaxed loads on the hot path: the switch only picks which of two
/// always-summed stores a record goes to, so a record that sees a stale mode is
/// still counted (it lands in the other store) and nothing is lost.
using mode_flag = std::atomic<bool>;

/// The flag of metrics created outside a registry: always lock-free.
inline mode_flag default_lock_free{true};

} // namespace metron::detail
