#include <metron/counter.hpp>

#include <gtest/gtest.h>

#include <thread>
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

TEST(counter, cells_sit_on_separate_cache_lines) {
  static_assert(sizeof(metron::detail::striped<std::uint64_t>::cell) == metron::detail::cache_line);
  EXPECT_GE(metron::detail::shard_count(), 4u);
  EXPECT_EQ(metron::detail::shard_count() & (metron::detail::shard_count() - 1), 0u);
  metron::counter c;
  EXPECT_EQ(c.bytes(), sizeof(c) - sizeof(metron::detail::striped<std::uint64_t>)
                         + sizeof(metron::detail::striped<std::uint64_t>)
                         + metron::detail::shard_count() * metron::detail::cache_line);
}

TEST(thread_slot, live_threads_hold_distinct_slots_and_release_them_on_exit) {
  (void)metron::detail::this_thread_slot();
  auto before = metron::detail::owned_thread_slots();
  std::uint32_t a = 0, b = 0;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::thread ta([&] { a = metron::detail::this_thread_slot(); ready++; while (!go) std::this_thread::yield(); });
  std::thread tb([&] { b = metron::detail::this_thread_slot(); ready++; while (!go) std::this_thread::yield(); });
  while (ready < 2)
    std::this_thread::yield();
  EXPECT_NE(a, b);
  EXPECT_NE(a, metron::detail::this_thread_slot());
  EXPECT_EQ(metron::detail::owned_thread_slots(), before + 2);
  go = true;
  ta.join();
  tb.join();
  EXPECT_EQ(metron::detail::owned_thread_slots(), before);
}

} // namespace

namespace {

// Runs `threads` threads that are all alive at once (so more than shard_count()
// of them hold slots and some must take the shared, overflow path), each calling
// body(t) once everyone has started.
template <class F>
void run_all_alive(int threads, F body) {
  std::atomic<int> started{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      (void)metron::detail::this_thread_slot();
      started++;
      while (started < threads)
        std::this_thread::yield();
      body(t);
    });
  for (auto& t : ts)
    t.join();
}

TEST(counter, threads_beyond_the_shard_count_share_overflow_cells_exactly) {
  metron::counter c;
  const int threads = static_cast<int>(3 * metron::detail::shard_count());
  const std::uint64_t n = metron::test::scaled(100'000);
  run_all_alive(threads, [&](int) {
    for (std::uint64_t i = 0; i < n; ++i)
      c.add(3);
  });
  EXPECT_EQ(c.value(), 3 * n * static_cast<std::uint64_t>(threads));
  // the overflow cells exist now: the counter owns twice the cells
  EXPECT_EQ(c.bytes(), sizeof(c) + 2 * metron::detail::shard_count() * metron::detail::cache_line);
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

TEST(updown_counter, overflow_cells_are_exact_for_signed_adds_too) {
  metron::updown_counter c;
  const int threads = static_cast<int>(2 * metron::detail::shard_count() + 1);
  const std::int64_t n = static_cast<std::int64_t>(metron::test::scaled(50'000));
  run_all_alive(threads, [&](int t) {
    for (std::int64_t i = 0; i < n; ++i)
      c.add(t % 2 == 0 ? 2 : -1);
  });
  std::int64_t evens = (threads + 1) / 2, odds = threads / 2;
  EXPECT_EQ(c.value(), n * (2 * evens - odds));
}

} // namespace
