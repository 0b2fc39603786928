// exemplar_queue.hpp (core-private) — the hand-off of exemplars from a recording
// thread to the snapshot side.
//
// One queue per (thread slab, histogram): it hangs off the thread's histogram shard
// (detail/histogram_shard.hpp), allocated on the first exemplar that shard sees, and
// is freed with the shard. The queue is Boost.Lockfree's spsc_queue with a
// compile-time capacity (the ring lives inside the queue object: no allocation per
// push): Lamport's single-producer/single-consumer ring, a push is a relaxed load of
// the write index, an acquire load of the read index, a copy of the entry and a
// release store of the write index.
//
// Why per shard and not one queue per thread: the entry then needs no histogram id,
// so the consumer needs no table from ids to histograms, and a histogram destroyed
// while entries are queued frees them with its shards (a per-thread queue would hold
// entries of dead histograms whose ids may be reused).
//
// Producers: an exclusive slab has one writer at a time (its slot's owner; the slot
// hand-over orders successive owners, thread_slot.hpp), so it pushes directly. A
// shared slab's shard, and the locked store, can have several writers: a producer
// first sets `busy` (test_and_set, never waits); if another producer holds it the
// exemplar is dropped and counted. The locked store pushes under its mutex.
// Consumer: histogram::snapshot(), under the histogram's exemplar mutex, so each
// queue has one consumer at a time.
//
// A full queue drops the new exemplar (counted, histogram::exemplars_dropped()).
#pragma once

#include <atomic>
#include <cstdint>

#include <boost/lockfree/spsc_queue.hpp>

#include "metron/exemplar.hpp"

namespace metron::detail {

struct exemplar_entry {
  double value = 0;
  std::int64_t wall_ns = 0;
  exemplar labels;
};

struct exemplar_queue {
  /// Entries one (thread, histogram) queue holds between two snapshots.
  static constexpr std::size_t capacity = 16;
  boost::lockfree::spsc_queue<exemplar_entry, boost::lockfree::capacity<capacity>> entries;
  std::atomic_flag busy; // held by the one producer of a shared shard pushing now
};

} // namespace metron::detail
