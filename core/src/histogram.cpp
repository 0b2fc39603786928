#include "metron/histogram.hpp"

#include <algorithm>
#include <bit>
#include <memory>
#include <vector>

namespace metron {

histogram::~histogram() {
  detail::for_each_slab([this](detail::slab& s) {
    if (detail::cell* c = s.find_mutable(id_))
      delete reinterpret_cast<shard*>(c->exchange(0, std::memory_order_acquire)); // acquire: we read the shard to free it
  });
  detail::release_cell_id(id_);
}

histogram::shard* histogram::shard_slow(detail::cell* c, bool exclusive) noexcept {
  if (c == nullptr)
    return nullptr; // no memory for the slab's chunk
  auto* fresh = new (std::nothrow) shard;
  if (fresh == nullptr)
    return nullptr;
  auto bits = reinterpret_cast<std::uint64_t>(fresh);
  if (exclusive) { // we are the cell's only writer
    c->store(bits, std::memory_order_release); // release: publishes the shard's initial state to readers' acquire
    return fresh;
  }
  std::uint64_t expected = 0;
  if (c->compare_exchange_strong(expected, bits, std::memory_order_release, // release: as above
                                 std::memory_order_acquire)) // acquire: we use the winner's shard
    return fresh;
  delete fresh;
  return reinterpret_cast<shard*>(expected);
}

namespace {

using bucket = histogram_snapshot::bucket;
constexpr std::size_t block_size = detail::histogram_shard::block_size;

// Dense counts of one histogram while its shards are added up, reused across
// snapshots on the same thread (no allocation per histogram but the result).
struct merge_scratch {
  std::uint64_t counts[bucket_layout::blocks * block_size] = {};
  std::uint64_t used[bucket_layout::block_words] = {}; // blocks with a non-zero count
  std::uint64_t nonzero[bucket_layout::blocks] = {};    // per block: buckets with a non-zero count
};

merge_scratch& scratch() {
  thread_local std::unique_ptr<merge_scratch> s;
  if (!s)
    s = std::make_unique<merge_scratch>();
  return *s;
}

} // namespace

histogram_snapshot histogram::snapshot() const {
  auto& sc = scratch();
  double sum = 0;
  std::uint64_t min_bits = ~std::uint64_t{0};
  std::uint64_t max_bits = 0;
  bool any = false;
  auto add_shard = [&](const shard& sh) {
    bool got = false;
    sh.for_each_block([&](std::uint32_t first, std::uint64_t nonzero, auto count_of) {
      if (nonzero == 0)
        return;
      std::uint64_t* dst = sc.counts + first;
      for (auto bits = nonzero; bits != 0; bits &= bits - 1) {
        auto k = static_cast<std::size_t>(std::countr_zero(bits));
        dst[k] += count_of(k);
      }
      auto block = first >> bucket_layout::block_bits;
      sc.nonzero[block] |= nonzero;
      sc.used[block / 64] |= std::uint64_t{1} << (block % 64);
      got = true;
    });
    if (!got)
      return;
    any = true;
    sum += sh.sum();
    min_bits = std::min(min_bits, sh.min_bits());
    max_bits = std::max(max_bits, sh.max_bits());
  };
  detail::for_each_slab([&](const detail::slab& s) {
    if (const detail::cell* c = s.find(id_))
      if (auto* sh = reinterpret_cast<const shard*>(c->load(std::memory_order_acquire))) // acquire: pairs with shard_slow's release
        add_shard(*sh);
  });
  locked_.read(add_shard);

  // The non-empty buckets of the used blocks, in index order; the scratch is zeroed
  // on the way so the next histogram starts clean.
  auto for_each_used_block = [&](auto f) {
    for (std::size_t w = 0; w < bucket_layout::block_words; ++w)
      for (auto bits = sc.used[w]; bits != 0; bits &= bits - 1)
        f((w * 64 + static_cast<std::size_t>(std::countr_zero(bits))) * block_size);
  };
  std::size_t n = 0;
  for_each_used_block([&](std::size_t first) { n += static_cast<std::size_t>(std::popcount(sc.nonzero[first / block_size])); });
  std::vector<bucket> buckets;
  buckets.reserve(n);
  for_each_used_block([&](std::size_t first) {
    auto& mask = sc.nonzero[first / block_size];
    for (auto bits = mask; bits != 0; bits &= bits - 1) {
      auto i = first + static_cast<std::size_t>(std::countr_zero(bits));
      buckets.emplace_back(static_cast<std::uint32_t>(i), sc.counts[i]);
      sc.counts[i] = 0;
    }
    mask = 0;
  });
  std::fill(std::begin(sc.used), std::end(sc.used), 0);
  double min = any && min_bits != ~std::uint64_t{0} ? std::bit_cast<double>(min_bits) : 0.0;
  double max = any ? std::bit_cast<double>(max_bits) : 0.0;
  return histogram_snapshot{std::move(buckets), sum, min, max, rejected()};
}

std::size_t histogram::active_shards() const noexcept {
  std::size_t n = 0;
  detail::for_each_slab([&](const detail::slab& s) {
    if (const detail::cell* c = s.find(id_))
      n += c->load(std::memory_order_relaxed) != 0; // relaxed: only the pointer's nullness is read
  });
  return n;
}

std::size_t histogram::bytes() const noexcept {
  std::size_t n = sizeof(*this) + locked_.bytes();
  detail::for_each_slab([&](const detail::slab& s) {
    if (const detail::cell* c = s.find(id_))
      if (auto* sh = reinterpret_cast<const shard*>(c->load(std::memory_order_acquire))) // acquire: we read the shard
        n += sizeof(detail::cell) + sh->bytes();
  });
  return n;
}

} // namespace metron
