#include "metron/histogram.hpp"

#include <algorithm>
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
  if (shards_[i].compare_exchange_strong(expected, fresh, std::memory_order_release,
                                         std::memory_order_acquire))
    return fresh;
  delete fresh;
  return expected;
}

namespace {

using bucket = histogram_snapshot::bucket;

// Adds dense counts into a sorted sparse vector.
void add_dense(std::vector<bucket>& out, const std::uint64_t* counts, std::size_t n) {
  std::vector<bucket> merged;
  merged.reserve(out.size() + 64);
  auto it = out.begin();
  for (std::uint32_t i = 0; i < n; ++i) {
    while (it != out.end() && it->first < i)
      merged.push_back(*it++);
    std::uint64_t c = counts[i];
    if (it != out.end() && it->first == i)
      c += (it++)->second;
    if (c != 0)
      merged.emplace_back(i, c);
  }
  merged.insert(merged.end(), it, out.end());
  out.swap(merged);
}

} // namespace

histogram_snapshot histogram::snapshot() const {
  std::vector<bucket> buckets;
  double sum = 0;
  std::uint64_t min_bits = ~std::uint64_t{0};
  std::uint64_t max_bits = 0;
  bool any = false;
  std::vector<std::uint64_t> dense(bucket_layout::size);
  for (auto& p : shards_) {
    const shard* s = p.load(std::memory_order_acquire); // acquire: pairs with shard_slow's release
    if (s == nullptr)
      continue;
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < bucket_layout::size; ++i) {
      dense[i] = s->buckets[i].load(std::memory_order_relaxed); // relaxed: statistics, see record
      n += dense[i];
    }
    if (n == 0)
      continue;
    any = true;
    add_dense(buckets, dense.data(), dense.size());
    // relaxed (three loads): statistics, see shard::record.
    sum += std::bit_cast<double>(s->sum_bits.load(std::memory_order_relaxed));
    min_bits = std::min(min_bits, s->min_bits.load(std::memory_order_relaxed));
    max_bits = std::max(max_bits, s->max_bits.load(std::memory_order_relaxed));
  }
  locked_.read([&](const detail::locked_histogram::state& st) {
    if (st.count == 0)
      return;
    add_dense(buckets, st.buckets, bucket_layout::size);
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
