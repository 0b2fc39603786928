// On CAF's real (work-stealing) scheduler: worker threads record while 100
// subscriber actors receive snapshots; the final totals equal what the workers
// recorded and no subscriber ever saw a snapshot go backwards. Waits use a
// condition variable with a generous deadline; nothing asserts on timing.
#include <gtest/gtest.h>

#include <memory>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "metron/actors.hpp"

using namespace std::chrono_literals;

namespace {

#ifdef METRON_TSAN
constexpr auto record_for = 700ms; // TSan is ~10x slower; the shape of the test is the same
#else
constexpr auto record_for = 2500ms;
#endif

struct observations {
  std::mutex mtx;
  std::condition_variable cv;
  struct per_subscriber {
    std::uint64_t last_sequence = 0;
    std::uint64_t last_total = 0;
    std::uint64_t last_count = 0;
    std::size_t received = 0;
    bool went_backwards = false;
  };
  std::vector<per_subscriber> subs;
};

TEST(real_scheduler, totals_match_what_workers_recorded_and_snapshots_never_go_backwards) {
  metron::registry reg;
  caf::actor_system_config cfg;
  cfg.set("logger.console", caf::atom("none"));
  caf::actor_system sys{cfg};
  auto own = std::make_shared<metron::registry>(); // the monitor's own metrics
  metron::monitor_config mcfg;
  mcfg.metrics = own;
  mcfg.interval = 20ms;
  auto mon = metron::spawn_monitor(sys, reg, mcfg);

  constexpr std::size_t n_subscribers = 100;
  auto obs = std::make_shared<observations>();
  obs->subs.resize(n_subscribers);
  std::vector<caf::actor> subscribers;
  for (std::size_t i = 0; i < n_subscribers; ++i) {
    auto sub = sys.spawn([obs, i]() -> caf::behavior {
      return {[obs, i](metron::report_ptr s) {
        auto* c = s->find_counter("work_total");
        auto* h = s->find_histogram("work_seconds");
        {
          std::lock_guard<std::mutex> guard{obs->mtx};
          auto& me = obs->subs[i];
          std::uint64_t total = c ? c->value() : 0;
          std::uint64_t count = h ? h->count() : 0;
          if (s->sequence() <= me.last_sequence || total < me.last_total || count < me.last_count)
            me.went_backwards = true;
          me.last_sequence = s->sequence();
          me.last_total = total;
          me.last_count = count;
          ++me.received;
        }
        obs->cv.notify_all();
      }};
    });
    caf::anon_send(mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
    subscribers.push_back(sub);
  }

  constexpr int n_workers = 4;
  std::atomic<bool> stop{false};
  std::vector<std::uint64_t> recorded(n_workers, 0);
  std::vector<std::thread> workers;
  auto& c = reg.counter("work_total");
  auto& h = reg.histogram("work_seconds");
  for (int w = 0; w < n_workers; ++w) {
    workers.emplace_back([&, w] {
      std::uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) { // relaxed: a stop flag, joined below
        c.add();
        h.record(1e-6 * static_cast<double>(1 + (n % 1000)));
        ++n;
      }
      recorded[w] = n;
    });
  }
  std::this_thread::sleep_for(record_for); // the workload's duration, not a wait for a result
  stop = true;
  for (auto& t : workers)
    t.join();
  std::uint64_t expected = 0;
  for (auto n : recorded)
    expected += n;
  ASSERT_GT(expected, 0u);

  {
    std::unique_lock<std::mutex> lock{obs->mtx};
    bool all_caught_up = obs->cv.wait_for(lock, 60s, [&] {
      for (auto& s : obs->subs)
        if (s.last_total != expected || s.last_count != expected)
          return false;
      return true;
    });
    EXPECT_TRUE(all_caught_up) << "subscribers did not all see the final totals";
    std::size_t min_received = SIZE_MAX;
    for (std::size_t i = 0; i < n_subscribers; ++i) {
      auto& s = obs->subs[i];
      EXPECT_FALSE(s.went_backwards) << "subscriber " << i;
      EXPECT_EQ(s.last_total, expected) << "subscriber " << i;
      min_received = std::min(min_received, s.received);
    }
    EXPECT_GE(min_received, 2u);
  }
  EXPECT_EQ(c.value(), expected);
  EXPECT_EQ(h.snapshot().count(), expected);
  EXPECT_GE(own->gauge("metron_subscribers").value(), 100.0);

  for (auto& s : subscribers)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
}

} // namespace
