// The registry's anchor: readers on other threads that outlive the registry read it
// only while it lives, and the registry's destructor waits for a read in progress.
// The AddressSanitizer build catches any touch of a destroyed registry.
#include <metron/registry.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

TEST(registry_anchor, with_runs_while_the_registry_lives_and_returns_false_after) {
  auto reg = std::make_unique<metron::registry>();
  auto anchor = reg->anchor();
  EXPECT_EQ(anchor, reg->anchor()); // one anchor per registry
  int calls = 0;
  EXPECT_TRUE(anchor->with([&](metron::registry& r) {
    EXPECT_EQ(&r, reg.get());
    r.counter("x_total").add();
    ++calls;
  }));
  EXPECT_TRUE(anchor->alive());
  reg.reset();
  EXPECT_FALSE(anchor->alive());
  EXPECT_FALSE(anchor->with([&](metron::registry& r) {
    r.counter("x_total").add(); // would be a use after free
    ++calls;
  }));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(anchor.use_count(), 1); // the anchor outlived the registry, ours alone now
}

TEST(registry_anchor, an_exception_from_with_propagates_and_releases_the_registry) {
  auto reg = std::make_unique<metron::registry>();
  auto anchor = reg->anchor();
  EXPECT_THROW(anchor->with([](metron::registry&) { throw std::runtime_error("reader failed"); }),
               std::runtime_error);
  reg.reset(); // would wait forever if the throw had kept the lock
  EXPECT_FALSE(anchor->alive());
}

TEST(registry_anchor, the_destructor_waits_for_a_with_in_progress) {
  auto reg = std::make_unique<metron::registry>();
  reg->gauge("g").set(1);
  auto anchor = reg->anchor();
  std::mutex m;
  std::condition_variable cv;
  bool reading = false, destroying = false;
  std::atomic<bool> destroyed{false};
  bool destroyed_during_read = true;
  std::thread reader([&] {
    anchor->with([&](metron::registry& r) {
      std::unique_lock lock{m};
      reading = true;
      cv.notify_all();
      cv.wait(lock, [&] { return destroying; }); // the destructor has been called now, or is about to be
      lock.unlock();
      for (int i = 0; i < 100; ++i) { // real work on the registry while its destructor waits
        r.gauge("g").set(i);
        r.counter("made_late_total").add();
        EXPECT_EQ(r.snapshot().find_gauge("g")->value(), i);
      }
      destroyed_during_read = destroyed.load();
    });
  });
  {
    std::unique_lock lock{m};
    cv.wait(lock, [&] { return reading; });
  }
  std::thread destroyer([&] {
    {
      std::lock_guard lock{m};
      destroying = true;
    }
    cv.notify_all();
    reg.reset();
    destroyed.store(true);
  });
  destroyer.join();
  reader.join();
  EXPECT_FALSE(destroyed_during_read); // the destructor returned only after the read
  EXPECT_FALSE(anchor->alive());
}

TEST(registry_anchor, readers_racing_the_destruction_stop_cleanly) {
  // As a monitor's ticks do: threads read through the anchor until it says no.
  auto reg = std::make_unique<metron::registry>();
  reg->add_collector([r = reg.get()] { r->gauge("collected").set(1); });
  auto anchor = reg->anchor();
  constexpr int threads = 4;
  std::latch each_read_once{threads};
  std::vector<int> reads(threads, 0);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      bool counted = false;
      while (anchor->with([&](metron::registry& r) {
        auto s = r.snapshot();
        r.counter("reads_total").add();
        ASSERT_NE(s.find_gauge("collected"), nullptr);
        ++reads[static_cast<std::size_t>(t)];
      })) {
        if (!counted) {
          each_read_once.count_down();
          counted = true;
        }
      }
    });
  each_read_once.wait(); // every reader is in its loop
  reg.reset();
  for (auto& t : ts)
    t.join();
  for (int n : reads)
    EXPECT_GE(n, 1);
  EXPECT_FALSE(anchor->alive());
}

} // namespace
