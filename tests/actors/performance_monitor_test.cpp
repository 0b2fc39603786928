// performance_monitor: one RAII object with registry, actor system and monitor;
// callbacks run on actor threads (real scheduler; waits use a condition variable
// with a generous deadline, no timing assertions).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "metron/actors.hpp"

using namespace std::chrono_literals;

namespace {

struct seen {
  std::mutex mtx;
  std::condition_variable cv;
  metron::report_ptr last;
  std::thread::id thread;
  std::size_t calls = 0;
};

metron::monitor_config fast() {
  metron::monitor_config cfg;
  cfg.interval = 10ms;
  return cfg;
}

// Waits until the callback saw a snapshot satisfying pred.
template <class Pred>
bool wait_for_snapshot(seen& s, Pred pred) {
  std::unique_lock<std::mutex> lock{s.mtx};
  return s.cv.wait_for(lock, 30s, [&] { return s.last && pred(*s.last); });
}

TEST(performance_monitor, callbacks_get_snapshots_on_an_actor_thread_not_the_recording_one) {
  metron::performance_monitor pm{fast()};
  auto out = std::make_shared<seen>();
  pm.on_report([out](metron::report_ptr s) {
    {
      std::lock_guard<std::mutex> guard{out->mtx};
      out->last = std::move(s);
      out->thread = std::this_thread::get_id();
      ++out->calls;
    }
    out->cv.notify_all();
  });
  auto& c = pm.registry().counter("jobs_total");
  c.add(42);
  ASSERT_TRUE(wait_for_snapshot(*out, [](const metron::report& s) {
    auto* x = s.find_counter("jobs_total");
    return x && x->value() == 42;
  }));
  std::lock_guard<std::mutex> guard{out->mtx};
  EXPECT_NE(out->thread, std::this_thread::get_id());
}

TEST(performance_monitor, latest_returns_a_snapshot_of_the_owned_registry) {
  metron::performance_monitor pm{fast()};
  pm.registry().gauge("temperature").set(21.5);
  auto out = std::make_shared<seen>();
  pm.on_report([out](metron::report_ptr s) {
    {
      std::lock_guard<std::mutex> guard{out->mtx};
      out->last = std::move(s);
    }
    out->cv.notify_all();
  });
  // A tick may fall between creating the gauge and setting it: wait for the value,
  // so every later snapshot, latest() included, has it.
  ASSERT_TRUE(wait_for_snapshot(*out, [](const metron::report& s) {
    auto* g = s.find_gauge("temperature");
    return g != nullptr && g->value() == 21.5;
  }));
  auto s = pm.latest();
  ASSERT_NE(s, nullptr);
  ASSERT_NE(s->find_gauge("temperature"), nullptr);
  EXPECT_EQ(s->find_gauge("temperature")->value(), 21.5);
}

TEST(performance_monitor, switching_to_the_locked_collectors_keeps_the_totals) {
  metron::performance_monitor pm{fast()};
  auto& c = pm.registry().counter("ops_total");
  c.add(10);
  pm.set_lock_free(false);
  EXPECT_FALSE(pm.registry().lock_free());
  c.add(5);
  auto out = std::make_shared<seen>();
  pm.on_report([out](metron::report_ptr s) {
    {
      std::lock_guard<std::mutex> guard{out->mtx};
      out->last = std::move(s);
    }
    out->cv.notify_all();
  });
  EXPECT_TRUE(wait_for_snapshot(*out, [](const metron::report& s) {
    auto* x = s.find_counter("ops_total");
    return x && x->value() == 15;
  }));
}

TEST(performance_monitor, destruction_stops_callbacks_and_returns) {
  auto out = std::make_shared<seen>();
  {
    metron::performance_monitor pm{fast()};
    pm.on_report([out](metron::report_ptr s) {
      {
        std::lock_guard<std::mutex> guard{out->mtx};
        out->last = std::move(s);
        ++out->calls;
      }
      out->cv.notify_all();
    });
    ASSERT_TRUE(wait_for_snapshot(*out, [](const metron::report&) { return true; }));
  }
  std::size_t calls;
  {
    std::lock_guard<std::mutex> guard{out->mtx};
    calls = out->calls;
  }
  EXPECT_GE(calls, 1u);
  // The actor system is gone: nobody can call the callback any more.
  std::lock_guard<std::mutex> guard{out->mtx};
  EXPECT_EQ(out->calls, calls);
}

} // namespace
