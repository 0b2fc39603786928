// The hot path allocates nothing after a thread's first use of a metric (and, for a
// histogram, its first record into each binade): a counting global operator new
// proves it.
#include <metron/metron.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <thread>
#include <vector>

// The replacements below pair malloc/aligned_alloc with free on purpose; GCC cannot
// see that operator delete is replaced too and warns at some -O levels.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
thread_local std::uint64_t allocations = 0; // per thread: other threads do not disturb it
} // namespace

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc{};
}
void* operator new(std::size_t n, std::align_val_t a) {
  ++allocations;
  if (void* p = std::aligned_alloc(static_cast<std::size_t>(a), (n + static_cast<std::size_t>(a) - 1) & ~(static_cast<std::size_t>(a) - 1)))
    return p;
  throw std::bad_alloc{};
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(n ? n : 1);
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::aligned_alloc(static_cast<std::size_t>(a), (n + static_cast<std::size_t>(a) - 1) & ~(static_cast<std::size_t>(a) - 1));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

TEST(hot_path, records_allocate_nothing_after_a_threads_first_use) {
  metron::registry reg;
  auto& c = reg.counter("c_total");
  auto& u = reg.updown_counter("u");
  auto& g = reg.gauge("g");
  auto& h = reg.histogram("h_seconds");
  metron::ring_buffer<double> ring{1024};
  std::uint64_t during = 1;
  std::thread t([&] {
    // first use on this thread: claims a slot and allocates the histogram shard
    c.add();
    u.add(1);
    g.set(1);
    h.record(0.001);
    ring.push(1.0);
    auto pass = [&] {
      for (int i = 0; i < 100'000; ++i) {
        c.add(2);
        u.add(-1);
        g.set(i);
        g.add(0.5);
        h.record(1e-9 * (i + 1)); // spans many buckets and binades
        h.record(1e6 / (i + 1));
        h.record(std::numeric_limits<double>::quiet_NaN()); // rejection path too
        ring.push(static_cast<double>(i));
      }
    };
    // The first record into a binade allocates its bucket block (histogram_shard.hpp);
    // after that, recording the same range again allocates nothing.
    pass();
    auto before = allocations;
    pass();
    metron::scoped_timer timer{h};
    timer.stop();
    during = allocations - before;
  });
  t.join();
  EXPECT_EQ(during, 0u);
  EXPECT_EQ(reg.snapshot().find_histogram("h_seconds")->count(), 1u + 400'000u + 1u);
}

TEST(hot_path, the_counting_allocator_does_count) {
  auto before = allocations;
  std::vector<int> v(1000, 5);
  volatile int sink = v[999]; // keeps the allocation
  (void)sink;
  EXPECT_EQ(allocations, before + 1);
}

} // namespace

namespace {

TEST(hot_path, records_with_exemplars_allocate_nothing_after_a_threads_first_exemplar) {
  metron::histogram h;
  const metron::exemplar ex{"4bf92f3577b34da6a3ce929d0e0e4736"};
  std::uint64_t during = 1;
  std::thread t([&] {
    h.record(0.5, ex); // first exemplar on this thread: allocates the shard, its block and its queue
    auto before = allocations;
    for (int i = 0; i < 10'000; ++i)
      h.record(0.5, ex); // the queue fills after 15 more and then drops: neither allocates
    during = allocations - before;
  });
  t.join();
  EXPECT_EQ(during, 0u);
  EXPECT_EQ(h.snapshot().count(), 10'001u);
  EXPECT_EQ(h.exemplars_dropped(), 10'001u - 16u);
}

} // namespace
