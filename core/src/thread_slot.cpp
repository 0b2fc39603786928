#include "metron/detail/thread_slot.hpp"

#include <atomic>
#include <bit>
#include <functional>
#include <thread>

#include "metron/detail/slab.hpp"

namespace metron::detail {

namespace {

constexpr std::size_t words = max_slots / 64;

// One bit per slot; a set bit is owned by a live thread.
std::atomic<std::uint64_t> slot_bits[words];

void release_slot(std::uint32_t slot) noexcept {
  // release: the next owner of the slot's slab must see this thread's last writes to it.
  slot_bits[slot / 64].fetch_and(~(std::uint64_t{1} << (slot % 64)), std::memory_order_release); // release: pairs with try_claim's acquire CAS
}

std::uint32_t shared_slot() noexcept {
  return static_cast<std::uint32_t>(max_slots + std::hash<std::thread::id>{}(std::this_thread::get_id()) % shared_slabs);
}

// Gives the slot back when the thread exits.
struct slot_owner {
  std::uint32_t slot = UINT32_MAX;
  ~slot_owner() {
    // A record from a later thread-exit destructor must not write the released
    // (soon someone else's) exclusive slab: from now on this thread is shared.
    tls_slab = shared_slab(shared_slot());
    if (slot != UINT32_MAX)
      release_slot(slot);
  }
};

std::uint32_t try_claim() noexcept {
  for (std::size_t w = 0; w < words; ++w) {
    auto cur = slot_bits[w].load(std::memory_order_relaxed); // relaxed: a hint, the CAS decides
    while (cur != ~std::uint64_t{0}) {
      auto bit = static_cast<unsigned>(std::countr_one(cur));
      if (slot_bits[w].compare_exchange_weak(cur, cur | (std::uint64_t{1} << bit),
                                             std::memory_order_acquire, // acquire: pairs with release_slot
                                             std::memory_order_relaxed)) // relaxed on failure: only retried
        return static_cast<std::uint32_t>(w * 64 + bit);
    }
  }
  return UINT32_MAX;
}

} // namespace

std::uint32_t claim_thread_slot() noexcept {
  thread_local slot_owner owner;
  if (owner.slot != UINT32_MAX)
    return owner.slot;
  auto s = try_claim();
  if (s == UINT32_MAX)
    return shared_slot(); // more than max_slots live recording threads
  owner.slot = s;
  return s;
}

std::size_t owned_thread_slots() noexcept {
  std::size_t n = 0;
  for (auto& w : slot_bits)
    n += static_cast<std::size_t>(std::popcount(w.load(std::memory_order_relaxed))); // relaxed: a diagnostic count
  return n;
}

} // namespace metron::detail
