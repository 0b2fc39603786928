#include "metron/detail/thread_slot.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <functional>
#include <thread>

namespace metron::detail {

namespace {

constexpr std::size_t words = max_slots / 64;

// One bit per slot; a set bit is owned by a live thread.
std::atomic<std::uint64_t> slot_bits[words];

void release_slot(std::uint32_t slot) noexcept {
  // release: pairs with the acquire CAS in try_claim, so the next owner of the slot
  // starts after this thread's last record (not needed for the atomic cells, but
  // keeps the hand-over ordered for readers of owned_thread_slots()).
  slot_bits[slot / 64].fetch_and(~(std::uint64_t{1} << (slot % 64)), std::memory_order_release); // release: pairs with try_claim's acquire CAS
}

// Gives the slot back when the thread exits.
struct slot_owner {
  std::uint32_t slot = UINT32_MAX;
  ~slot_owner() {
    // A record from a later thread-exit destructor must not write the released
    // (soon someone else's) exclusive cell: from now on this thread is shared.
    tls_slot = static_cast<std::uint32_t>(max_slots + (slot % max_slots));
    if (slot != UINT32_MAX)
      release_slot(slot);
  }
};

std::uint32_t try_claim() noexcept {
  for (std::size_t w = 0; w < words; ++w) {
    // relaxed: only a hint for which bit to try; the CAS below decides.
    auto cur = slot_bits[w].load(std::memory_order_relaxed); // relaxed: a hint, the CAS decides
    while (cur != ~std::uint64_t{0}) {
      auto bit = static_cast<unsigned>(std::countr_one(cur));
      // acquire: pairs with the release in release_slot (see there); relaxed on
      // failure: we only retry with the fresher value.
      if (slot_bits[w].compare_exchange_weak(cur, cur | (std::uint64_t{1} << bit),
                                             std::memory_order_acquire, // acquire: pairs with release_slot;
                                             std::memory_order_relaxed)) // relaxed on failure: only retried
        return static_cast<std::uint32_t>(w * 64 + bit);
    }
  }
  return UINT32_MAX;
}

} // namespace

std::size_t shard_count() noexcept {
  static const std::size_t n = [] {
    std::size_t hw = std::max(1u, std::thread::hardware_concurrency());
    return std::clamp<std::size_t>(std::bit_ceil(2 * hw), 4, max_shards);
  }();
  return n;
}

std::size_t shard_mask() noexcept {
  static const std::size_t m = shard_count() - 1;
  return m;
}

std::uint32_t claim_thread_slot_slow() noexcept {
  thread_local slot_owner owner;
  auto s = try_claim();
  if (s == UINT32_MAX) {
    // More than max_slots live recording threads: a shared slot, chosen by id.
    s = static_cast<std::uint32_t>(max_slots + std::hash<std::thread::id>{}(std::this_thread::get_id()) % max_slots);
  } else {
    owner.slot = s;
  }
  tls_slot = s;
  return s;
}

std::size_t owned_thread_slots() noexcept {
  std::size_t n = 0;
  for (auto& w : slot_bits)
    n += static_cast<std::size_t>(std::popcount(w.load(std::memory_order_relaxed))); // relaxed: a diagnostic count
  return n;
}

} // namespace metron::detail
