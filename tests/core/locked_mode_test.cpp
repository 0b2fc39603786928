// Locked mode: the same metrics through a mutex, switchable at any time, with
// nothing lost at a switch.
#include <metron/registry.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

TEST(locked_mode, values_recorded_in_either_mode_all_appear_in_the_snapshot) {
  metron::registry reg;
  auto& c = reg.counter("c_total");
  auto& h = reg.histogram("h_seconds");
  auto& g = reg.gauge("g");
  c.add(1);
  h.record(0.5);
  g.add(1);
  reg.set_lock_free(false);
  EXPECT_FALSE(reg.lock_free());
  c.add(2);
  h.record(4.0);
  h.record(0.25);
  g.add(2);
  reg.set_lock_free(true);
  c.add(4);
  auto s = reg.snapshot();
  EXPECT_EQ(s.find_counter("c_total")->value(), 7u);
  EXPECT_EQ(s.find_gauge("g")->value(), 3.0);
  auto* hs = s.find_histogram("h_seconds");
  EXPECT_EQ(hs->count(), 3u);
  EXPECT_EQ(hs->sum(), 4.75);
  EXPECT_EQ(hs->min(), 0.25);
  EXPECT_EQ(hs->max(), 4.0);
}

TEST(locked_mode, a_registry_can_start_locked) {
  metron::registry reg{metron::registry_config{.lock_free = false}};
  auto& h = reg.histogram("h_seconds");
  h.record(1.0);
  EXPECT_EQ(h.active_shards(), 0u); // went to the locked store
  EXPECT_EQ(reg.snapshot().find_histogram("h_seconds")->count(), 1u);
}

TEST(locked_mode, switching_modes_while_threads_record_loses_nothing) {
  metron::registry reg;
  auto& c = reg.counter("c_total");
  auto& u = reg.updown_counter("u");
  auto& g = reg.gauge("g");
  auto& h = reg.histogram("h_seconds");
  const int threads = 3;
  const std::uint64_t min_ops = metron::test::scaled(300'000);
  const int switches = 100;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> progress{0}; // bumped every 256 records
  std::vector<std::uint64_t> done(threads, 0);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      std::uint64_t i = 0;
      // Workers keep recording until every switch is done (and at least min_ops).
      for (; i < min_ops || !stop.load(); ++i) {
        c.add();
        u.add(-1);
        g.add(1.0);
        h.record(static_cast<double>(i % 1000) * 1e-3);
        if (i % 256 == 255)
          progress++;
      }
      done[t] = i;
    });
  // Each switch waits until workers have made progress in the new mode.
  for (int k = 0; k < switches; ++k) {
    reg.set_lock_free(k % 2 == 1);
    auto seen = progress.load();
    while (progress.load() < seen + threads)
      std::this_thread::yield();
  }
  stop = true;
  for (auto& t : ts)
    t.join();
  std::uint64_t total = 0;
  for (auto n : done)
    total += n;
  auto s = reg.snapshot();
  EXPECT_EQ(s.find_counter("c_total")->value(), total);
  EXPECT_EQ(s.find_updown_counter("u")->value(), -static_cast<std::int64_t>(total));
  EXPECT_EQ(s.find_gauge("g")->value(), static_cast<double>(total));
  auto* hs = s.find_histogram("h_seconds");
  EXPECT_EQ(hs->count(), total);
  EXPECT_EQ(hs->min(), 0.0);
  EXPECT_EQ(hs->max(), 0.999);
  // both stores were used: per-thread shards (lock-free) and the locked shard
  EXPECT_GT(h.active_shards(), 0u);
  EXPECT_GE(h.bytes(), sizeof(metron::histogram) + (h.active_shards() + 1) * sizeof(metron::histogram::shard));
}

} // namespace
