// metron/ring_buffer.hpp — a bounded, overwrite-oldest ring of recent samples.
//
// Many writers, many readers, no locks. Capacity is a power of two. A writer takes
// a ticket t from one shared counter (fetch_add) and writes slot t & (capacity-1),
// overwriting whatever older sample was there. Each slot carries a sequence number
// that works as a per-slot seqlock (Boehm, "Can Seqlocks Get Along with Programming
// Language Memory Models?", MSPC 2012): 2t+1 while ticket t is being written, 2t+2
// once it is complete. A reader of ticket t accepts the slot only if it read 2t+2
// both before and after copying the data, so it never returns a torn sample or one
// from another lap: a slot overwritten under the reader is detected and skipped.
// The payload is copied through atomic words (release stores, acquire loads: plain
// moves on x86), so the race is defined behaviour, needs no fences, and is
// ThreadSanitizer-clean (GCC's TSan does not model std::atomic_thread_fence).
//
// Writers never wait: a writer whose slot is still being written by a writer one
// full lap behind gives up its sample and counts it in lost() (this needs
// `capacity` pushes to happen during one slot copy; size the ring well above the
// number of writers to make it vanish).
//
// Readers get the last N complete samples, oldest first, in ticket order.
//
// Concurrency: push() and every reader are thread-safe, any number of each.
// Memory ordering: see the comment on each operation (writer: relaxed ticket, claim
// CAS, release stores of the payload words, release store of the completed
// sequence; reader: acquire load of the sequence, acquire loads of the words,
// re-check of the sequence).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "metron/detail/thread_slot.hpp"

namespace metron {

template <class T>
class ring_buffer {
public:
  static_assert(std::is_trivially_copyable_v<T>, "samples are copied as raw words");

  /// capacity must be a power of two >= 2 (std::invalid_argument otherwise).
  explicit ring_buffer(std::size_t capacity)
    : mask_(checked(capacity) - 1), slots_(new slot[capacity]) {}

  ring_buffer(const ring_buffer&) = delete;
  ring_buffer& operator=(const ring_buffer&) = delete;

  // -- recording ---------------------------------------------------------------

  /// Appends x, overwriting the oldest sample when full. Never blocks.
  void push(const T& x) noexcept {
    // relaxed: the ticket only picks the slot; the slot's sequence orders the data.
    std::uint64_t t = head_.fetch_add(1, std::memory_order_relaxed); // relaxed: ticket picks a slot; seq orders data
    slot& s = slots_[t & mask_];
    // relaxed: a first guess, the CAS below checks it.
    std::uint64_t seq = s.seq.load(std::memory_order_relaxed); // relaxed: a guess the CAS below checks
    for (;;) {
      if ((seq & 1) != 0 || seq >= 2 * t + 1) {
        // An older writer is mid-copy on this slot, or a newer one already owns it.
        lost_.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
        return;
      }
      // relaxed: claiming the slot publishes nothing; the release stores of the
      // payload words order it for readers.
      if (s.seq.compare_exchange_weak(seq, 2 * t + 1, std::memory_order_relaxed, // relaxed: the claim publishes nothing;
                                      std::memory_order_relaxed)) // word stores below are release
        break;
    }
    std::uint64_t words[word_count] = {};
    std::memcpy(words, &x, sizeof(T));
    for (std::size_t i = 0; i < word_count; ++i)
      // release: pairs with the reader's acquire load of this word; a reader that
      // sees it also sees our odd claim (or later) when it re-checks seq.
      s.words[i].store(words[i], std::memory_order_release); // release: pairs with read()'s acquire word load
    // release: pairs with the reader's acquire load of seq; completes the payload.
    s.seq.store(2 * t + 2, std::memory_order_release); // release: pairs with read()'s acquire seq load
  }

  // -- reading -----------------------------------------------------------------

  /// Up to n of the most recent complete samples, oldest first. Samples being
  /// written or overwritten while read are skipped (see overwritten_reads()).
  std::vector<T> last(std::size_t n) const {
    std::vector<T> out;
    // acquire: pairs with nothing by itself (tickets are validated per slot), but
    // keeps this read from being hoisted above earlier reads by the caller.
    std::uint64_t end = head_.load(std::memory_order_acquire); // acquire: not hoisted above caller's reads
    std::uint64_t count = std::min<std::uint64_t>({std::uint64_t{n}, end, std::uint64_t{capacity()}});
    out.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t t = end - count; t < end; ++t) {
      T x;
      if (read(t, x))
        out.push_back(x);
    }
    return out;
  }

  /// Reads ticket t into x if that sample is still in the ring and complete.
  bool read(std::uint64_t t, T& x) const noexcept {
    const slot& s = slots_[t & mask_];
    // acquire: pairs with the writer's release store of 2t+2; the payload is then visible.
    std::uint64_t before = s.seq.load(std::memory_order_acquire); // acquire: pairs with push()'s release of 2t+2
    if (before != 2 * t + 2) {
      if (before > 2 * t + 2)
        overwritten_.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
      return false;
    }
    std::uint64_t words[word_count];
    for (std::size_t i = 0; i < word_count; ++i)
      // acquire: pairs with the writer's release store of the word; if it came from
      // a newer write, the re-check below sees that write's odd (or later) sequence.
      words[i] = s.words[i].load(std::memory_order_acquire); // acquire: pairs with push()'s release word store
    if (s.seq.load(std::memory_order_relaxed) != before) { // relaxed: kept after the acquire loads above
      overwritten_.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
      return false;
    }
    std::memcpy(&x, words, sizeof(T));
    return true;
  }

  std::size_t capacity() const noexcept { return mask_ + 1; }

  /// Tickets handed out so far (pushes ever started).
  std::uint64_t pushed() const noexcept {
    return head_.load(std::memory_order_relaxed); // relaxed: a pure count
  }
  /// Samples given up because a writer one lap behind still held the slot.
  std::uint64_t lost() const noexcept {
    return lost_.load(std::memory_order_relaxed); // relaxed: a pure count
  }
  /// Reads that found their slot overwritten (before or during the copy).
  std::uint64_t overwritten_reads() const noexcept {
    return overwritten_.load(std::memory_order_relaxed); // relaxed: a pure count
  }

private:
  static constexpr std::size_t word_count = (sizeof(T) + 7) / 8;

  struct alignas(detail::cache_line) slot {
    std::atomic<std::uint64_t> seq{0};
    std::atomic<std::uint64_t> words[word_count] = {};
  };

  static std::size_t checked(std::size_t capacity) {
    if (capacity < 2 || !std::has_single_bit(capacity))
      throw std::invalid_argument("metron::ring_buffer: capacity must be a power of two >= 2");
    return capacity;
  }

  std::size_t mask_;
  std::unique_ptr<slot[]> slots_;
  alignas(detail::cache_line) std::atomic<std::uint64_t> head_{0};
  alignas(detail::cache_line) mutable std::atomic<std::uint64_t> lost_{0};
  mutable std::atomic<std::uint64_t> overwritten_{0};
};

} // namespace metron
