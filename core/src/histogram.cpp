#include "metron/histogram.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include <time.h>

#include "exemplar_queue.hpp"

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

// Wall time for an exemplar, ns since the epoch. CLOCK_REALTIME_COARSE where there is
// one: a vDSO read of the last tick's time, ~8 ns against ~42 ns for a full
// system_clock read on the benchmark machine, at the tick's resolution (1-4 ms;
// Prometheus keeps exemplar timestamps in milliseconds).
std::int64_t exemplar_clock() noexcept {
#ifdef CLOCK_REALTIME_COARSE
  timespec ts;
  if (::clock_gettime(CLOCK_REALTIME_COARSE, &ts) == 0)
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
#endif
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// Pushes {v, now, ex} into sh's exemplar queue, allocating it on first use; false:
// dropped. The clock is read only once there is room. exclusive: the caller is the
// shard's only writer now (exemplar_queue.hpp).
bool push_exemplar(const detail::histogram_shard& sh, double v, const exemplar& ex, bool exclusive) noexcept {
  auto& slot = sh.exemplars();
  detail::exemplar_queue* q = slot.load(std::memory_order_acquire); // acquire: pairs with the release publishing the queue
  if (q == nullptr) [[unlikely]] {
    auto* fresh = new (std::nothrow) detail::exemplar_queue;
    if (fresh == nullptr)
      return false;
    if (exclusive) {
      slot.store(fresh, std::memory_order_release); // release: publishes the empty queue to the consumer's acquire
      q = fresh;
    } else if (slot.compare_exchange_strong(q, fresh, std::memory_order_release, // release: as above
                                            std::memory_order_acquire)) { // acquire: we use the winner's queue
      q = fresh;
    } else {
      delete fresh;
    }
  }
  auto push = [&] {
    if (q->entries.write_available() == 0)
      return false; // full: drop before paying for the clock
    return q->entries.push(detail::exemplar_entry{v, exemplar_clock(), ex});
  };
  if (exclusive)
    return push();
  if (q->busy.test_and_set(std::memory_order_acquire)) // acquire: pairs with the clear below, orders the previous producer's push before ours
    return false; // another producer of this shared shard is pushing: drop, never wait
  bool ok = push();
  q->busy.clear(std::memory_order_release); // release: pairs with the next producer's test_and_set
  return ok;
}

// The consumer lock of a histogram's exemplar queues: striped, so two snapshots of one
// histogram drain one at a time and a histogram carries no mutex of its own.
std::mutex& exemplar_mutex(detail::cell_id id) {
  static auto* stripes = new std::mutex[64]; // never destroyed: snapshots may run during static destruction
  return stripes[id % 64];
}

} // namespace

void histogram::offer_exemplar(double v, const exemplar& ex) noexcept {
  if (refused(std::bit_cast<std::uint64_t>(v))) // record(v) rejected and counted v: no exemplar
    return;
  bool ok = false;
  if (!ex.valid()) [[unlikely]] {
    ok = false;
  } else if (lock_free_->load(std::memory_order_relaxed)) { // relaxed: as in record()
    detail::slab* s = detail::this_thread_slab();
    detail::cell* c = s->get(id_);
    auto* sh = c != nullptr ? reinterpret_cast<shard*>(c->load(std::memory_order_acquire)) : nullptr; // acquire: pairs with shard_slow's release
    ok = sh != nullptr && push_exemplar(*sh, v + 0.0, ex, s->exclusive());
  } else {
    ok = locked_.with_shard([&](shard& sh) { return push_exemplar(sh, v + 0.0, ex, true); }); // the mutex makes us the only producer
  }
  if (!ok)
    exemplars_dropped_.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
}

void histogram::drain_exemplars_locked(const std::vector<const shard*>& shards) const {
  auto take = [this](const shard& sh) {
    detail::exemplar_queue* q = sh.exemplars().load(std::memory_order_acquire); // acquire: pairs with push_exemplar's release
    if (q == nullptr)
      return;
    q->entries.consume_all([this](const detail::exemplar_entry& e) {
      auto block = static_cast<std::uint32_t>(bucket_layout::index(e.value) >> bucket_layout::block_bits);
      auto it = std::lower_bound(latest_.begin(), latest_.end(), block,
                                 [](const exemplar_sample& x, std::uint32_t b) { return x.block < b; });
      exemplar_sample fresh{block, e.value, e.wall_ns, e.labels};
      if (it == latest_.end() || it->block != block)
        latest_.insert(it, fresh);
      else if (e.wall_ns >= it->wall_ns) // one thread's entries come in order; across threads the clock decides
        *it = fresh;
    });
  };
  for (auto* sh : shards)
    take(*sh);
  locked_.read(take);
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
  std::vector<const detail::histogram_shard*> shards;   // this histogram's shards, in slab order
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
  // The shards are visited in stages (histogram_shard::prefetch) so the cache misses of
  // one thread's blocks overlap with the others'; a shard is several lines scattered
  // over the heap, and reading them one after the other is most of a snapshot's time.
  sc.shards.clear();
  detail::for_each_cell(id_, [&](const detail::cell& c) {
    if (auto* sh = reinterpret_cast<const shard*>(c.load(std::memory_order_acquire))) { // acquire: pairs with shard_slow's release
      sh->prefetch(0);
      sc.shards.push_back(sh);
    }
  });
  for (int stage = 1; stage <= 2; ++stage)
    for (auto* sh : sc.shards)
      sh->prefetch(stage);
  // Whether any shard has an exemplar queue. A queue is set once and freed with its
  // shard, and shards live as long as the histogram, so with none now there never was
  // one: latest_ is empty and the exemplar lock and drain can be skipped.
  bool queues = false;
  auto add_and_look = [&](const shard& sh) {
    add_shard(sh);
    queues = queues || sh.exemplars().load(std::memory_order_relaxed) != nullptr; // relaxed: only nullness; the drain re-reads with acquire
  };
  for (auto* sh : sc.shards)
    add_and_look(*sh);
  locked_.read(add_and_look);

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
  histogram_snapshot out{std::move(buckets), sum, min, max, rejected()};
  if (!queues) {
    out.set_exemplars({}, exemplars_dropped());
    return out;
  }
  std::lock_guard<std::mutex> guard{exemplar_mutex(id_)};
  drain_exemplars_locked(sc.shards); // the shards merged above: no second walk of the slabs
  out.set_exemplars(latest_, exemplars_dropped());
  return out;
}

std::size_t histogram::active_shards() const noexcept {
  std::size_t n = 0;
  detail::for_each_cell(id_, [&](const detail::cell& c) {
    n += c.load(std::memory_order_relaxed) != 0; // relaxed: only the pointer's nullness is read
  });
  return n;
}

std::size_t histogram::bytes() const noexcept {
  std::size_t n = sizeof(*this) + locked_.bytes();
  detail::for_each_cell(id_, [&](const detail::cell& c) {
    if (auto* sh = reinterpret_cast<const shard*>(c.load(std::memory_order_acquire))) // acquire: we read the shard
      n += sizeof(detail::cell) + sh->bytes();
  });
  return n;
}

} // namespace metron
