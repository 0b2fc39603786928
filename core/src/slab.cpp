#include "metron/detail/slab.hpp"

#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace metron::detail {

namespace {

// Exclusive slabs are allocated when their slot is first claimed; shared slabs are
// static (constant-initialised, never destroyed), so a shared slab always exists.
std::atomic<slab*> exclusive_slabs[max_slots];
constinit slab shared_storage[shared_slabs] = {
  slab{false, max_slots + 0},  slab{false, max_slots + 1},  slab{false, max_slots + 2},  slab{false, max_slots + 3},
  slab{false, max_slots + 4},  slab{false, max_slots + 5},  slab{false, max_slots + 6},  slab{false, max_slots + 7},
  slab{false, max_slots + 8},  slab{false, max_slots + 9},  slab{false, max_slots + 10}, slab{false, max_slots + 11},
  slab{false, max_slots + 12}, slab{false, max_slots + 13}, slab{false, max_slots + 14}, slab{false, max_slots + 15}};
static_assert(shared_slabs == 16, "shared_storage lists every shared slab");

// One past the highest exclusive slab index allocated.
std::atomic<std::size_t> exclusive_high{0};
// Shared slabs handed to a thread so far (bit i: shared slab i).
std::atomic<std::uint32_t> shared_used{0};
static_assert(shared_slabs <= 32);

struct id_allocator {
  std::mutex mutex;
  std::vector<cell_id> free; // released ids, reused first
  cell_id next = 0;          // ids [next, max_cells) were never handed out
  std::size_t live = 0;
};

id_allocator& ids() {
  static id_allocator* a = new id_allocator; // never destroyed: static metrics may outlive it
  return *a;
}

} // namespace

std::atomic<std::uint64_t> chunk_slabs[max_chunks][slab_words];

slab::chunk* slab::chunk_slow(std::size_t i) noexcept {
  auto* fresh = new (std::nothrow) chunk{};
  if (fresh == nullptr)
    return nullptr;
  // The bit goes up before the chunk is published: a writer of a shared slab that
  // finds the chunk already there (get()'s fast path, never calling us) has acquired
  // the CAS below, so the bit happens-before its record, and a reader that the
  // record happened-before sees the bit. A reader that sees the bit before the chunk
  // finds no cell (find() is null) and skips the slab: nothing was recorded there.
  chunk_slabs[i][index_ / 64].fetch_or(std::uint64_t{1} << (index_ % 64), std::memory_order_release); // release: pairs with for_each_cell's acquire
  chunk* expected = nullptr;
  if (chunks_[i].compare_exchange_strong(expected, fresh, std::memory_order_release, // release: publishes the zeroed cells and the bit
                                         std::memory_order_acquire)) // acquire: we use the winner's chunk
    return fresh;
  delete fresh; // another writer of a shared slab won
  return expected;
}

std::size_t slab::bytes() const noexcept {
  std::size_t n = sizeof(*this);
  for (auto& c : chunks_)
    if (c.load(std::memory_order_relaxed) != nullptr) // relaxed: only nullness is read
      n += sizeof(chunk);
  return n;
}

slab* slab_at(std::size_t i) noexcept {
  if (i < max_slots)
    return exclusive_slabs[i].load(std::memory_order_acquire); // acquire: pairs with the release in claim_thread_slab_slow
  return i < max_slabs ? &shared_storage[i - max_slots] : nullptr; // callers mark it used (shared_slab)
}

std::size_t exclusive_slabs_high() noexcept {
  return exclusive_high.load(std::memory_order_acquire); // acquire: pairs with the release in claim_thread_slab_slow
}

std::uint32_t shared_slabs_used() noexcept {
  return shared_used.load(std::memory_order_acquire); // acquire: pairs with the release in shared_slab
}

slab* shared_slab(std::size_t i) noexcept {
  i %= shared_slabs;
  shared_used.fetch_or(std::uint32_t{1} << i, std::memory_order_release); // release: readers that see the bit see the slab
  return &shared_storage[i];
}

slab* claim_thread_slab_slow() noexcept {
  auto s = claim_thread_slot();
  slab* mine = slab_at(s);
  if (s < max_slots && mine == nullptr) {
    // Only the slot's owner allocates its slab, so no other thread races this store.
    mine = new (std::nothrow) slab{true, s};
    if (mine != nullptr) {
      exclusive_slabs[s].store(mine, std::memory_order_release); // release: publishes the slab to slab_at's acquire
      auto high = exclusive_high.load(std::memory_order_relaxed); // relaxed: the CAS decides
      while (high < s + 1 && !exclusive_high.compare_exchange_weak(high, s + 1, std::memory_order_release, // release: as above
                                                                   std::memory_order_relaxed)) { // relaxed: retried
      }
    }
  }
  if (mine == nullptr || !mine->exclusive())
    mine = shared_slab(s); // a shared slot, or out of memory
  tls_slab = mine;
  return mine;
}

std::size_t slab_bytes() noexcept {
  std::size_t n = 0;
  for_each_slab([&](const slab& s) { n += s.bytes(); });
  return n;
}

cell_id acquire_cell_id() {
  auto& a = ids();
  std::lock_guard<std::mutex> guard{a.mutex};
  if (!a.free.empty()) {
    auto id = a.free.back();
    a.free.pop_back();
    ++a.live;
    return id;
  }
  if (a.next == max_cells)
    throw std::length_error("metron: " + std::to_string(max_cells)
                            + " counters and histograms are alive in this process, the most metron supports");
  ++a.live;
  return a.next++;
}

void release_cell_id(cell_id id) noexcept {
  for_each_slab([id](slab& s) {
    if (cell* c = s.find_mutable(id))
      c->store(0, std::memory_order_relaxed); // relaxed: the id allocator's mutex orders this before the id's next use
  });
  auto& a = ids();
  std::lock_guard<std::mutex> guard{a.mutex};
  try {
    a.free.push_back(id);
  } catch (...) {
    // Out of memory: the id is not reused (a bounded leak of one id), never a crash.
  }
  --a.live;
}

std::size_t cell_ids_in_use() noexcept {
  auto& a = ids();
  std::lock_guard<std::mutex> guard{a.mutex};
  return a.live;
}

} // namespace metron::detail
