// Declaration order cannot crash: a registry declared after the actor system (so
// destroyed first, while the monitor ticks) or before it, and a registry the monitor
// shares. On CAF's real scheduler with a 1 ms tick, many times over, because the
// old failure (a tick reading the destroyed registry) struck about half the runs.
// Waits are on a condition variable; nothing asserts on timing.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "metron/actors.hpp"

using namespace std::chrono_literals;

namespace {

struct quiet_config : caf::actor_system_config {
  quiet_config() {
    set("logger.console", caf::atom("none"));
    set("logger.file-verbosity", caf::atom("quiet"));
  }
};

// Counts reports; lets a test wait for a few.
struct report_count {
  std::mutex mtx;
  std::condition_variable cv;
  int n = 0;
  void add() {
    std::lock_guard guard{mtx};
    ++n;
    cv.notify_all();
  }
  bool wait_for(int k) {
    std::unique_lock lock{mtx};
    return cv.wait_for(lock, 30s, [&] { return n >= k; });
  }
};

void subscribe_counter(caf::actor_system& sys, const metron::monitor_actor& mon, std::shared_ptr<report_count> c) {
  auto sub = sys.spawn([c]() -> metron::subscriber_actor::behavior_type {
    return {[c](const metron::report_ptr&) { c->add(); }};
  });
  caf::anon_send(mon, metron::subscribe_atom::value, sub);
}

metron::monitor_config fast() {
  metron::monitor_config cfg;
  cfg.interval = 1ms;
  return cfg;
}

#ifdef METRON_TSAN
constexpr int rounds = 10;
#else
constexpr int rounds = 50;
#endif

TEST(lifetime, a_registry_declared_after_the_actor_system_stops_its_monitor_instead_of_crashing) {
  for (int i = 0; i < rounds; ++i) {
    auto reports = std::make_shared<report_count>();
    {
      quiet_config cfg;
      caf::actor_system sys{cfg};
      metron::registry reg; // destroyed first, while the monitor ticks every 1 ms
      auto& h = reg.histogram("work_seconds");
      auto mon = metron::spawn_monitor(sys, reg, fast());
      subscribe_counter(sys, mon, reports);
      for (int k = 0; k < 1000; ++k)
        h.record(0.001 * k);
      ASSERT_TRUE(reports->wait_for(3)) << "round " << i;
      // Leaving the scope: ~registry waits for a tick in progress; the monitor's next
      // tick finds the registry gone and stops, so ~actor_system can return.
    }
  }
}

TEST(lifetime, a_registry_declared_before_the_actor_system_outlives_the_monitor) {
  for (int i = 0; i < rounds; ++i) {
    auto reports = std::make_shared<report_count>();
    metron::registry reg;
    reg.counter("jobs_total").add(1);
    {
      quiet_config cfg;
      caf::actor_system sys{cfg};
      auto mon = metron::spawn_monitor(sys, reg, fast());
      subscribe_counter(sys, mon, reports);
      ASSERT_TRUE(reports->wait_for(3)) << "round " << i;
      caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
    }
    EXPECT_EQ(reg.counter("jobs_total").value(), 1u); // untouched by the monitor's end
  }
}

TEST(lifetime, a_shared_registry_lives_as_long_as_its_monitor_needs_it) {
  quiet_config cfg;
  caf::actor_system sys{cfg};
  auto reports = std::make_shared<report_count>();
  metron::monitor_actor mon;
  {
    auto reg = std::make_shared<metron::registry>();
    reg->counter("jobs_total").add(42);
    mon = metron::spawn_monitor(sys, reg, fast());
  } // the caller's handle is gone; the monitor's is not
  subscribe_counter(sys, mon, reports);
  ASSERT_TRUE(reports->wait_for(3));
  caf::scoped_actor self{sys};
  std::uint64_t jobs = 0;
  self->request(mon, 10s, metron::get_atom::value)
    .receive([&](const metron::report_ptr& r) { jobs = r->find_counter("jobs_total")->value(); },
             [&](caf::error& e) { ADD_FAILURE() << sys.render(e); });
  EXPECT_EQ(jobs, 42u);
  caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
}

TEST(lifetime, a_monitor_whose_registry_is_gone_terminates_normally) {
  quiet_config cfg;
  caf::actor_system sys{cfg};
  auto reg = std::make_unique<metron::registry>();
  auto mon = metron::spawn_monitor(sys, *reg, fast());
  caf::scoped_actor self{sys};
  self->monitor(mon);
  reg.reset();
  caf::error reason = caf::make_error(caf::sec::runtime_error);
  self->receive([&](caf::down_msg& dm) { reason = dm.reason; });
  EXPECT_FALSE(reason) << sys.render(reason); // exit_reason::normal
}

TEST(lifetime, the_monitors_own_metrics_may_not_be_the_monitored_registry) {
  quiet_config cfg;
  caf::actor_system sys{cfg};
  auto reg = std::make_shared<metron::registry>();
  metron::monitor_config mcfg;
  mcfg.metrics = reg;
  EXPECT_THROW(metron::spawn_monitor(sys, reg, mcfg), std::invalid_argument);
  EXPECT_THROW(metron::spawn_monitor(sys, *reg, mcfg), std::invalid_argument);
}

} // namespace
