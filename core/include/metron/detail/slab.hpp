// metron/detail/slab.hpp — per-thread storage of every metric's recording cell.
//
// The algorithm: instead of each metric owning an array of per-thread cells (which
// costs cells x threads for every metric, used or not), each recording thread owns
// one *slab*, and each metric owns one *cell id*. A thread's cell for a metric is
// slab[id]: one 8-byte word, in a 4 KiB chunk of 512 consecutive ids that is
// allocated on the thread's first record into any metric of that chunk. So memory
// grows with what threads actually record (8 bytes per metric a thread recorded
// into, plus a 16 KiB chunk table per recording thread), never with the number of
// CPUs or of shards nobody used. This is the layout of per-CPU counters in the
// Linux kernel (percpu areas indexed by an offset) and of the Rust `metrics`
// crate's thread-local storage, applied to LongAdder-style striping.
//
// Exclusive slabs: a thread holding an exclusive slot (thread_slot.hpp: the first
// max_slots live recording threads) owns the slab of that slot and is the only
// writer of its cells: a relaxed load and store, no locked instruction. A slot's
// slab outlives the thread: the next thread to claim the slot continues in it (the
// slot bitmap's release/acquire orders the hand-over), so cumulative values never
// need to be moved. Shared slabs (shared slots: more than max_slots live threads,
// or records during thread exit) are written with atomic read-modify-writes.
//
// Cell ids are handed out by a process-wide allocator (lowest free id first) and
// given back when a metric is destroyed; release_cell_id() zeroes the cell in every
// slab first, so a later metric with the same id starts from zero.
//
// A cell holds a counter's value, or (histograms) a pointer to the thread's shard.
//
// Readers: a bitmap per chunk index says which slabs have that chunk (chunk_slabs,
// set when a chunk is installed), so reading one metric visits only the slabs of
// threads that recorded into its chunk, not every slab the process ever claimed. A
// server whose 64-thread pool once recorded elsewhere snapshots a 10,000-metric
// registry in the same time as before the pool existed (bench/snapshot_bench.cpp,
// snapshot/registry_64_idle_threads; walking every slab doubled it). The bitmaps are
// 80 KiB of zeroed static memory, touched only for the chunk indices in use.
//
// Concurrency: this_thread_slab() is wait-free after a thread's first call. cell()
// may allocate a chunk (lock-free CAS install). for_each_slab(), for_each_cell() and
// find() may run concurrently with writers and see every chunk published before them.
//
// Memory ordering: a chunk pointer is published with a release store/CAS and read
// with acquire loads, so a reader sees the chunk's zeroed cells. The slab table
// entry is published the same way, and a chunk_slabs bit with a release fetch_or
// just before its chunk (read with acquire).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "metron/detail/thread_slot.hpp"

namespace metron::detail {

using cell_id = std::uint32_t;

/// Cells per chunk (one chunk = 4 KiB) and chunks per slab.
inline constexpr std::size_t chunk_cells = 512;
inline constexpr std::size_t max_chunks = 2048;
/// Most metrics with a cell (counters, up/down counters, histograms) alive at once
/// in one process.
inline constexpr std::size_t max_cells = chunk_cells * max_chunks;
/// Shared slabs (written with atomic read-modify-writes).
inline constexpr std::size_t shared_slabs = 16;
/// All slabs: one per exclusive slot, then the shared ones.
inline constexpr std::size_t max_slabs = max_slots + shared_slabs;

using cell = std::atomic<std::uint64_t>;
static_assert(cell::is_always_lock_free);

class slab {
public:
  struct chunk {
    cell cells[chunk_cells]; // value-initialised: zero
  };

  /// Slabs live for the whole process (they are never destroyed), so records from
  /// static destructors and thread-exit hooks always find their cells.
  /// index: the slab's place in slab_at() (exclusive slab = its slot; shared ones after).
  constexpr slab(bool exclusive, std::size_t index) noexcept
    : exclusive_(exclusive), index_(static_cast<std::uint32_t>(index)) {}

  slab(const slab&) = delete;
  slab& operator=(const slab&) = delete;

  /// True if one thread at a time writes this slab (load + store suffices).
  bool exclusive() const noexcept { return exclusive_; }

  /// The cell of `id` for recording, its chunk allocated on first use; nullptr if
  /// out of memory.
  cell* get(cell_id id) noexcept {
    chunk* c = chunks_[id / chunk_cells].load(std::memory_order_acquire); // acquire: pairs with chunk_slow's release
    if (c == nullptr) [[unlikely]]
      c = chunk_slow(id / chunk_cells);
    return c != nullptr ? &c->cells[id % chunk_cells] : nullptr;
  }

  /// The cell of `id` for reading; nullptr if no thread wrote into its chunk.
  const cell* find(cell_id id) const noexcept {
    const chunk* c = chunks_[id / chunk_cells].load(std::memory_order_acquire); // acquire: pairs with chunk_slow's release
    return c != nullptr ? &c->cells[id % chunk_cells] : nullptr;
  }

  /// find() for a cell about to be reset (release_cell_id).
  cell* find_mutable(cell_id id) noexcept { return const_cast<cell*>(find(id)); }

  /// Bytes this slab owns (itself and its chunks).
  std::size_t bytes() const noexcept;

private:
  chunk* chunk_slow(std::size_t i) noexcept;

  const bool exclusive_;
  const std::uint32_t index_;
  std::atomic<chunk*> chunks_[max_chunks] = {};
};

/// 64-bit words of a bitmap with one bit per slab.
inline constexpr std::size_t slab_words = (max_slabs + 63) / 64;

/// Bit s of chunk_slabs[c]: slab s has (or is installing) its chunk c. Set before the
/// chunk is published and never cleared (chunks live as long as their slab, i.e. the
/// process). A reader of one metric visits only the slabs that have its chunk
/// (for_each_cell), not every slab a thread ever claimed: reading stays proportional
/// to the threads that recorded near the metric, however many threads the process ran.
extern std::atomic<std::uint64_t> chunk_slabs[max_chunks][slab_words];

/// Slow path of this_thread_slab(): claims a slot, allocates its slab if needed.
slab* claim_thread_slab_slow() noexcept;

/// The calling thread's slab (its exclusive one, or a shared one). Constant-
/// initialised thread_local: the fast path is one TLS load and a compare.
inline thread_local slab* tls_slab = nullptr;

inline slab* this_thread_slab() noexcept {
  slab* s = tls_slab;
  if (s == nullptr) [[unlikely]]
    s = claim_thread_slab_slow();
  return s;
}

/// Slab i (0 <= i < max_slabs) if it was ever allocated, else nullptr.
slab* slab_at(std::size_t i) noexcept;

/// Shared slab (i % shared_slabs), marked as used.
slab* shared_slab(std::size_t i) noexcept;

/// One past the highest exclusive slab index ever allocated.
std::size_t exclusive_slabs_high() noexcept;

/// Bit i set: shared slab i was handed to a thread (before that thread's writes).
std::uint32_t shared_slabs_used() noexcept;

/// Calls f(slab&) for every slab that may hold a non-zero cell: the allocated
/// exclusive ones and the shared ones ever handed out.
template <class F>
void for_each_slab(F&& f) {
  for (std::size_t i = 0, n = exclusive_slabs_high(); i < n; ++i)
    if (slab* s = slab_at(i))
      f(*s);
  for (auto m = shared_slabs_used(); m != 0; m &= m - 1)
    f(*slab_at(max_slots + static_cast<std::size_t>(std::countr_zero(m))));
}

/// Calls f(cell) for the cell of `id` in every slab that has the id's chunk
/// (chunk_slabs). A bit may be seen just before its chunk is installed (chunk_slow
/// sets it first, so no writer can record unseen): find() is then null and the slab
/// is skipped. An exclusive slab is published before its owner records anything.
template <class F>
void for_each_cell(cell_id id, F&& f) {
  auto& words = chunk_slabs[id / chunk_cells];
  for (std::size_t w = 0; w < slab_words; ++w)
    for (auto bits = words[w].load(std::memory_order_acquire); // acquire: pairs with chunk_slow's release fetch_or
         bits != 0; bits &= bits - 1)
      if (const slab* s = slab_at(w * 64 + static_cast<std::size_t>(std::countr_zero(bits))))
        if (const cell* c = s->find(id))
          f(*c);
}

/// Total bytes of every slab (chunk tables and chunks), for diagnostics.
std::size_t slab_bytes() noexcept;

/// A fresh cell id, zero in every slab. Throws std::length_error when max_cells
/// metrics are alive.
cell_id acquire_cell_id();

/// Gives `id` back: its cell is set to zero in every slab first. The caller
/// guarantees no thread records into the metric any more.
void release_cell_id(cell_id id) noexcept;

/// Cell ids in use (diagnostics and tests).
std::size_t cell_ids_in_use() noexcept;

} // namespace metron::detail
