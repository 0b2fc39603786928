// metron/detail/thread_slot.hpp — which shard a recording thread writes to.
//
// LongAdder-style striping (Doug Lea's java.util.concurrent.atomic.LongAdder,
// folly's SingletonRelaxedCounter): every metric keeps one cell per *shard*, and
// each thread records into the shard picked by its *slot*. A slot is claimed on a
// thread's first record (lowest free bit of a global bitmap, by CAS) and given back
// when the thread exits, so live threads hold distinct slots and, while there are
// no more live recording threads than shards, never write the same cache line.
// More threads than shards share shards: still exact (cells are atomic), only
// slower.
//
// Concurrency: this_thread_slot() is wait-free after the first call on a thread;
// the first call is lock-free (a CAS loop over the bitmap) and registers a
// thread-exit hook, which may allocate once.
#pragma once

#include <cstddef>
#include <cstdint>

namespace metron::detail {

/// Size of one cell; shard cells are aligned to it so two shards never share a line.
inline constexpr std::size_t cache_line = 64;

/// Most shards a metric ever has (memory bound: cells per metric <= max_shards).
inline constexpr std::size_t max_shards = 32;

/// Slots that can be owned at once; threads beyond this share slots (by id hash).
inline constexpr std::size_t max_slots = 256;

/// Shards per metric in this process: a power of two, twice the hardware threads,
/// at least 4, at most max_shards. Fixed on first call.
std::size_t shard_count() noexcept;

/// shard_count() - 1, for masking a slot.
std::size_t shard_mask() noexcept;

/// Claims a slot for the calling thread (first record on that thread only).
std::uint32_t claim_thread_slot_slow() noexcept;

/// The calling thread's slot, not yet masked to a shard. Constant-initialised
/// thread_local, so the fast path is one TLS load and a compare.
inline thread_local std::uint32_t tls_slot = UINT32_MAX;

inline std::uint32_t this_thread_slot() noexcept {
  std::uint32_t s = tls_slot;
  if (s == UINT32_MAX) [[unlikely]]
    s = claim_thread_slot_slow();
  return s;
}

/// Number of slots currently owned by live threads (for tests and diagnostics).
std::size_t owned_thread_slots() noexcept;

} // namespace metron::detail
