#include "metron/detail/histogram_shard.hpp"

#include "exemplar_queue.hpp"

namespace metron::detail {

histogram_shard::~histogram_shard() {
  delete exemplars_.load(std::memory_order_relaxed); // relaxed: no concurrent use at destruction
  for (auto& b : blocks_) {
    auto p = b.load(std::memory_order_relaxed); // relaxed: no concurrent use at destruction
    if ((p & wide_tag) != 0)
      delete reinterpret_cast<wide_block*>(p & ~wide_tag);
    else
      delete reinterpret_cast<narrow_block*>(p);
  }
}

std::uintptr_t histogram_shard::allocate_slow(std::size_t block, bool wide) noexcept {
  std::uintptr_t fresh = 0;
  if (wide) {
    auto* w = new (std::nothrow) wide_block{};
    fresh = w != nullptr ? reinterpret_cast<std::uintptr_t>(w) | wide_tag : 0;
  } else {
    fresh = reinterpret_cast<std::uintptr_t>(new (std::nothrow) narrow_block{});
  }
  if (fresh == 0)
    return 0;
  std::uintptr_t expected = 0;
  if (blocks_[block].compare_exchange_strong(expected, fresh, std::memory_order_release, // release: publishes the zeroed block
                                             std::memory_order_acquire)) { // acquire: we use the winner's block
    allocated_[block / 64].fetch_or(std::uint64_t{1} << (block % 64), std::memory_order_release); // release: pairs with for_each_block's acquire
    return fresh;
  }
  // Another writer of a shared shard won; ours was never visible.
  if (wide)
    delete reinterpret_cast<wide_block*>(fresh & ~wide_tag);
  else
    delete reinterpret_cast<narrow_block*>(fresh);
  return expected;
}

bool histogram_shard::widen_slow(std::size_t block, std::size_t k) noexcept {
  // Only the single writer of an exclusive shard gets here (record<true>).
  auto* narrow = reinterpret_cast<narrow_block*>(blocks_[block].load(std::memory_order_relaxed)); // relaxed: our own store
  auto* wide = new (std::nothrow) wide_block{};
  if (wide == nullptr)
    return false;
  for (std::size_t j = 0; j < block_size; ++j)
    wide->counts[j].store(narrow->counts[j].load(std::memory_order_relaxed), std::memory_order_relaxed); // relaxed: published below
  wide->counts[k].store(std::uint64_t{UINT32_MAX} + 1, std::memory_order_relaxed); // relaxed: published below; this record
  wide->nonzero.store(narrow->nonzero.load(std::memory_order_relaxed), std::memory_order_relaxed); // relaxed: published below
  wide->replaced = narrow; // readers may still be reading it
  blocks_[block].store(reinterpret_cast<std::uintptr_t>(wide) | wide_tag, std::memory_order_release); // release: publishes the copied counts
  return true;
}

std::size_t histogram_shard::bytes() const noexcept {
  std::size_t n = sizeof(*this);
  for (auto& b : blocks_) {
    auto p = b.load(std::memory_order_relaxed); // relaxed: only the pointer's kind is read
    if ((p & wide_tag) != 0)
      n += sizeof(wide_block) + (reinterpret_cast<const wide_block*>(p & ~wide_tag)->replaced ? sizeof(narrow_block) : 0);
    else if (p != 0)
      n += sizeof(narrow_block);
  }
  if (exemplars_.load(std::memory_order_relaxed) != nullptr) // relaxed: only nullness is read
    n += sizeof(exemplar_queue);
  return n;
}

} // namespace metron::detail
