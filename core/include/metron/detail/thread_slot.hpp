// metron/detail/thread_slot.hpp — which slab a recording thread writes.
//
// A slot is claimed on a thread's first record (lowest free bit of a global
// bitmap, by CAS) and given back when the thread exits, so live threads hold
// distinct slots. Slot s < max_slots owns exclusive slab s (slab.hpp): the thread is
// that slab's only writer while it lives. A slot is handed to a new thread only
// through the bitmap: the old owner's release in release_slot pairs with the new
// owner's acquire claim, so the new owner continues from the old owner's values.
//
// Shared slots: threads beyond max_slots live at once, and records made during
// thread exit (after the slot was given back), get a slot >= max_slots and write a
// shared slab with atomic read-modify-writes. Still exact, only slower.
//
// Concurrency: the first call on a thread is lock-free (a CAS loop over the bitmap)
// and registers a thread-exit hook, which may allocate once.
#pragma once

#include <cstddef>
#include <cstdint>

namespace metron::detail {

/// Size of a cache line; types that must not share one are aligned to it.
inline constexpr std::size_t cache_line = 64;

/// Slots that can be owned at once (one exclusive slab each); threads beyond this
/// get shared slots.
inline constexpr std::size_t max_slots = 256;

/// Claims a slot for the calling thread (its first record only) and returns it:
/// < max_slots if exclusive, >= max_slots if shared.
std::uint32_t claim_thread_slot() noexcept;

/// Number of slots currently owned by live threads (for tests and diagnostics).
std::size_t owned_thread_slots() noexcept;

} // namespace metron::detail
