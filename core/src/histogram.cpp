#include "metron/histogram.hpp"

#include <algorithm>
#include <bit>
#include <vector>

namespace metron {

histogram::~histogram() {
  for (auto& p : shards_)
    delete p.load(std::memory_order_relaxed); // relaxed: no concurrent use at destruction
}

histogram::shard* histogram::shard_slow(std::size_t i) noexcept {
  auto* fresh = new (std::nothrow) shard;
  if (fresh == nullptr)
    return nullptr;
  shard* expected = nullptr;
  // release: publishes the zeroed shard to the acquire loads in record/snapshot;
  // acquire on failure: we then use the winner's shard, so we need its contents.
  if (shards_[i].compare_exchange_strong(expected, fresh, std::memory_order_release, // release: publishes the zeroed shard;
                                         std::memory_order_acquire)) // acquire: we then use the winner's shard
    return fresh;
  delete fresh;
  return expected;
}

namespace {

using bucket = histogram_snapshot::bucket;

// Appends the non-empty buckets of the used blocks, in index order. load(i) reads
// bucket i; used is the blocks-used bitmap.
template <class Load, class Used>
void collect(std::vector<bucket>& out, Load load, Used used) {
  for (std::size_t w = 0; w < bucket_layout::block_words; ++w) {
    for (std::uint64_t bits = used(w); bits != 0; bits &= bits - 1) {
      auto block = w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
      auto first = block << bucket_layout::block_bits;
      auto last = std::min(first + (std::size_t{1} << bucket_layout::block_bits), bucket_layout::size);
      for (auto i = first; i < last; ++i)
        if (auto c = load(i); c != 0)
          out.emplace_back(static_cast<std::uint32_t>(i), c);
    }
  }
}

// Adds the sorted buckets of `more` into the sorted `into`.
void add_sorted(std::vector<bucket>& into, const std::vector<bucket>& more) {
  if (into.empty()) {
    into = more;
    return;
  }
  std::vector<bucket> merged;
  merged.reserve(into.size() + more.size());
  auto a = into.begin();
  auto b = more.begin();
  while (a != into.end() || b != more.end()) {
    if (b == more.end() || (a != into.end() && a->first < b->first))
      merged.push_back(*a++);
    else if (a == into.end() || b->first < a->first)
      merged.push_back(*b++);
    else
      merged.emplace_back(a->first, a->second + b->second), ++a, ++b;
  }
  into.swap(merged);
}

} // namespace

histogram_snapshot histogram::snapshot() const {
  std::vector<bucket> buckets, part;
  double sum = 0;
  std::uint64_t min_bits = ~std::uint64_t{0};
  std::uint64_t max_bits = 0;
  bool any = false;
  for (auto& p : shards_) {
    const shard* s = p.load(std::memory_order_acquire); // acquire: pairs with shard_slow's release
    if (s == nullptr)
      continue;
    part.clear();
    // relaxed (buckets and bitmap): statistics, see shard::record.
    collect(part, [s](std::size_t i) { return s->buckets[i].load(std::memory_order_relaxed); }, // relaxed: statistics
            [s](std::size_t w) { return s->used_blocks[w].load(std::memory_order_relaxed); }); // relaxed: statistics
    if (part.empty())
      continue;
    any = true;
    add_sorted(buckets, part);
    // relaxed (three loads): statistics, see shard::record.
    sum += std::bit_cast<double>(s->sum_bits.load(std::memory_order_relaxed)); // relaxed: statistics
    min_bits = std::min(min_bits, s->min_bits.load(std::memory_order_relaxed)); // relaxed: statistics
    max_bits = std::max(max_bits, s->max_bits.load(std::memory_order_relaxed)); // relaxed: statistics
  }
  locked_.read([&](const detail::locked_histogram::state& st) {
    if (st.count == 0)
      return;
    part.clear();
    collect(part, [&st](std::size_t i) { return st.buckets[i]; }, [&st](std::size_t w) { return st.used_blocks[w]; });
    add_sorted(buckets, part);
    sum += st.sum;
    auto lo = std::bit_cast<std::uint64_t>(st.min);
    auto hi = std::bit_cast<std::uint64_t>(st.max);
    min_bits = any ? std::min(min_bits, lo) : lo;
    max_bits = any ? std::max(max_bits, hi) : hi;
    any = true;
  });
  double min = any && min_bits != ~std::uint64_t{0} ? std::bit_cast<double>(min_bits) : 0.0;
  double max = any ? std::bit_cast<double>(max_bits) : 0.0;
  return histogram_snapshot{std::move(buckets), sum, min, max, rejected()};
}

std::size_t histogram::active_shards() const noexcept {
  return static_cast<std::size_t>(std::count_if(std::begin(shards_), std::end(shards_), [](auto& p) {
    return p.load(std::memory_order_relaxed) != nullptr; // relaxed: only the pointer's nullness is read
  }));
}

std::size_t histogram::bytes() const noexcept {
  return sizeof(*this) + active_shards() * sizeof(shard)
         + (locked_.allocated() ? sizeof(detail::locked_histogram::state) : 0);
}

} // namespace metron
