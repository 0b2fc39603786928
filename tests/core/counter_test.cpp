#include <metron/counter.hpp>

#include <gtest/gtest.h>

#include <latch>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace {

TEST(counter, starts_at_zero_and_adds_one_by_default) {
  metron::counter c;
  EXPECT_EQ(c.value(), 0u);
  c.add();
  c.add(41);
  EXPECT_EQ(c.value(), 42u);
}

TEST(counter, totals_are_exact_under_contention) {
  metron::counter c;
  const int threads = 4;
  const std::uint64_t per_thread = metron::test::scaled(2'000'000);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < per_thread; ++i)
        c.add(static_cast<std::uint64_t>(t) + 1);
    });
  for (auto& t : ts)
    t.join();
  // 1 + 2 + 3 + 4 per iteration
  EXPECT_EQ(c.value(), per_thread * 10);
}

TEST(updown_counter, goes_below_zero_and_back_exactly_under_contention) {
  metron::updown_counter c;
  const std::int64_t n = static_cast<std::int64_t>(metron::test::scaled(1'000'000));
  std::thread up([&] { for (std::int64_t i = 0; i < n; ++i) c.add(3); });
  std::thread down([&] { for (std::int64_t i = 0; i < n; ++i) c.add(-5); });
  up.join();
  down.join();
  EXPECT_EQ(c.value(), -2 * n);
}

TEST(counter, costs_its_object_plus_one_8_byte_cell_per_slab_whatever_the_cpu_count) {
  metron::counter c;
  EXPECT_LE(sizeof(c), 96u);
  c.add();
  // One 8-byte cell in each slab that has the counter's chunk (this thread's at
  // least); nothing is sized by the number of CPUs.
  std::size_t slabs = 0;
  metron::detail::for_each_slab([&](const metron::detail::slab&) { ++slabs; });
  EXPECT_GE(c.bytes(), sizeof(c) + sizeof(metron::detail::cell));
  EXPECT_LE(c.bytes(), sizeof(c) + slabs * sizeof(metron::detail::cell));
  EXPECT_EQ((c.bytes() - sizeof(c)) % sizeof(metron::detail::cell), 0u);
}

TEST(counter, wraps_modulo_2_to_the_64_as_documented) {
  metron::counter c;
  c.add(UINT64_MAX);
  c.add(2);
  EXPECT_EQ(c.value(), 1u);
}

TEST(updown_counter, overflow_wraps_in_twos_complement_without_undefined_behaviour) {
  metron::updown_counter c;
  c.add(INT64_MAX);
  c.add(1); // UBSan checks this in the ASan/UBSan build: cells are unsigned
  EXPECT_EQ(c.value(), INT64_MIN);
  c.add(-1);
  EXPECT_EQ(c.value(), INT64_MAX);
}

TEST(counter, a_reused_cell_id_starts_from_zero_in_every_slab) {
  auto ids_before = metron::detail::cell_ids_in_use();
  metron::detail::cell_id old_id;
  {
    metron::counter a;
    old_id = a.id();
    a.add(5);
    std::thread t([&] { a.add(7); }); // a second slab holds a cell too
    t.join();
    EXPECT_EQ(a.value(), 12u);
  }
  EXPECT_EQ(metron::detail::cell_ids_in_use(), ids_before);
  metron::counter b; // lowest free id first: the id just released
  EXPECT_EQ(b.id(), old_id);
  EXPECT_EQ(b.value(), 0u);
  b.add(1);
  EXPECT_EQ(b.value(), 1u);
}

// A reader visits only the slabs holding a metric's chunk (slab.hpp: chunk_slabs), so
// reading does not grow with every thread the process ever ran.
TEST(counter, a_reader_visits_only_the_slabs_that_hold_the_counters_chunk) {
  namespace d = metron::detail;
  metron::counter a;
  constexpr int threads = 8;
  {
    std::latch all{threads}; // alive at once: eight slots, eight slabs
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        a.add(3);
        all.arrive_and_wait();
      });
    for (auto& t : pool)
      t.join();
  }
  // A counter in another chunk than a's, recorded by this thread only.
  std::vector<std::unique_ptr<metron::counter>> filler;
  auto chunk = [](const metron::counter& c) { return c.id() / d::chunk_cells; };
  while (filler.empty() || chunk(*filler.back()) == chunk(a))
    filler.push_back(std::make_unique<metron::counter>());
  metron::counter& b = *filler.back();
  b.add(5);

  auto visits = [](d::cell_id id) {
    std::size_t n = 0;
    std::uint64_t sum = 0;
    d::for_each_cell(id, [&](const d::cell& c) {
      ++n;
      sum += c.load(std::memory_order_relaxed); // relaxed: the writers were joined
    });
    return std::pair{n, sum};
  };
  ASSERT_GE(d::exclusive_slabs_high(), std::size_t{threads});
  auto [na, sa] = visits(a.id());
  EXPECT_GE(na, std::size_t{threads});
  EXPECT_EQ(sa, 3u * threads);
  EXPECT_EQ(a.value(), 3u * threads);
  // Only this thread's slab has b's chunk: no other test of this file records that far.
  EXPECT_EQ(visits(b.id()), (std::pair<std::size_t, std::uint64_t>{1, 5}));
  EXPECT_EQ(b.value(), 5u);
}

TEST(thread_slot, live_threads_hold_distinct_slots_and_release_them_on_exit) {
  (void)metron::detail::claim_thread_slot();
  auto before = metron::detail::owned_thread_slots();
  std::uint32_t a = 0, b = 0;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::thread ta([&] { a = metron::detail::claim_thread_slot(); ready++; while (!go) std::this_thread::yield(); });
  std::thread tb([&] { b = metron::detail::claim_thread_slot(); ready++; while (!go) std::this_thread::yield(); });
  while (ready < 2)
    std::this_thread::yield();
  EXPECT_NE(a, b);
  EXPECT_NE(a, metron::detail::claim_thread_slot());
  EXPECT_EQ(metron::detail::owned_thread_slots(), before + 2);
  go = true;
  ta.join();
  tb.join();
  EXPECT_EQ(metron::detail::owned_thread_slots(), before);
}

} // namespace

namespace {

// Runs `threads` threads that are all alive at once (so, beyond max_slots, some
// must take shared slots and record into shared slabs), each calling body(t) once
// everyone has started.
template <class F>
void run_all_alive(int threads, F body) {
  std::atomic<int> started{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      (void)metron::detail::this_thread_slab();
      started++;
      while (started < threads)
        std::this_thread::yield();
      body(t);
    });
  for (auto& t : ts)
    t.join();
}

TEST(counter, threads_beyond_max_slots_share_slabs_exactly) {
  metron::counter c;
  const int threads = static_cast<int>(metron::detail::max_slots + 8);
  const std::uint64_t n = metron::test::scaled(10'000);
  run_all_alive(threads, [&](int) {
    for (std::uint64_t i = 0; i < n; ++i)
      c.add(3);
  });
  EXPECT_EQ(c.value(), 3 * n * static_cast<std::uint64_t>(threads));
  EXPECT_NE(metron::detail::shared_slabs_used(), 0u); // the shared path was taken
}

TEST(counter, a_slot_handed_to_a_new_thread_continues_from_the_old_owners_total) {
  metron::counter c;
  const std::uint64_t n = metron::test::scaled(200'000);
  for (int round = 0; round < 20; ++round) { // each thread likely reuses the last one's slot
    std::thread t([&] {
      for (std::uint64_t i = 0; i < n; ++i)
        c.add();
    });
    t.join();
  }
  EXPECT_EQ(c.value(), 20 * n);
}

TEST(updown_counter, shared_slabs_are_exact_for_signed_adds_too) {
  metron::updown_counter c;
  const int threads = static_cast<int>(metron::detail::max_slots + 5);
  const std::int64_t n = static_cast<std::int64_t>(metron::test::scaled(5'000));
  run_all_alive(threads, [&](int t) {
    for (std::int64_t i = 0; i < n; ++i)
      c.add(t % 2 == 0 ? 2 : -1);
  });
  std::int64_t evens = (threads + 1) / 2, odds = threads / 2;
  EXPECT_EQ(c.value(), n * (2 * evens - odds));
}

} // namespace
