// metron/detail/thread_slot.hpp — which cell of a metric a recording thread writes.
//
// LongAdder-style striping (Doug Lea's java.util.concurrent.atomic.LongAdder,
// folly's SingletonRelaxedCounter), with single-writer cells: every metric keeps
// one cell per *shard*, and each thread records into the cell picked by its *slot*.
// A slot is claimed on a thread's first record (lowest free bit of a global bitmap,
// by CAS) and given back when the thread exits, so live threads hold distinct
// slots.
//
// Exclusive slots: a slot below shard_count() maps to a cell nobody else writes
// while the thread lives, so the thread updates it with a plain relaxed load and
// store (no lock-prefixed instruction; readers still load it atomically). A slot is
// handed to a new thread only through the bitmap: the old owner's release in
// release_slot pairs with the new owner's acquire claim, so the new owner continues
// from the old owner's last value.
//
// Shared slots: threads beyond shard_count() live at once, threads past max_slots,
// and records made during thread exit (after the slot was given back) get a slot
// >= shard_count(); they write a separate set of overflow cells with atomic
// read-modify-writes. Still exact, only slower.
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

/// Slots that can be owned at once; threads beyond this get shared slots.
inline constexpr std::size_t max_slots = 256;

/// Shards per metric in this process: a power of two, twice the hardware threads,
/// at least 4, at most max_shards. Fixed on first call.
std::size_t shard_count() noexcept;

/// shard_count() - 1, for masking a slot.
std::size_t shard_mask() noexcept;

/// Claims a slot for the calling thread (first record on that thread only).
std::uint32_t claim_thread_slot_slow() noexcept;

/// The calling thread's slot: exclusive if < shard_count(), else shared (mask it
/// to pick an overflow cell). Constant-initialised thread_local, so the fast path
/// is one TLS load and a compare.
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
