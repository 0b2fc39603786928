// Deterministic actor-test fixture: CAF's test coordinator driven from GoogleTest.
// Nothing sleeps: messages run when run_messages() is called, time moves only by
// advance(). Subscribers are event-based actors that record what they received.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "metron/actors.hpp"

namespace metron_test {

struct coordinator_config : caf::actor_system_config {
  coordinator_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console", caf::atom("none"));
  }
};

/// What a recording subscriber saw.
struct received {
  std::vector<metron::report_ptr> snapshots;
};

class actor_test : public ::testing::Test {
protected:
  actor_test()
    : sys(cfg),
      self(sys, true),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    sched.clock().current_time += std::chrono::hours(1); // time 0 is not special
    mcfg.metrics = own; // the monitor's own metrics, readable live by the tests
  }

  ~actor_test() override {
    // Stop everything spawned, then let the exits run (no timers are triggered).
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    if (mon)
      caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
    run_messages();
  }

  /// Runs every queued message (never triggers timers).
  std::size_t run_messages() {
    std::size_t n = 0;
    while (sched.try_run_once())
      ++n;
    return n;
  }

  /// Moves the clock forward (firing due timers) and runs the resulting messages.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    run_messages();
  }

  /// One tick of the monitor's interval.
  void tick() { advance(std::chrono::duration_cast<caf::timespan>(mcfg.interval)); }

  /// A subscriber that acknowledges every report and records it.
  metron::subscriber_actor recorder(std::shared_ptr<received> out) {
    auto a = sys.spawn([out]() -> metron::subscriber_actor::behavior_type {
      return {[out](metron::report_ptr s) { out->snapshots.push_back(std::move(s)); }};
    });
    spawned.push_back(caf::actor_cast<caf::actor>(a));
    return a;
  }

  /// A subscriber that records but never answers (keeps the promises forever).
  metron::subscriber_actor black_hole(std::shared_ptr<received> out) {
    auto a = sys.spawn([out](caf::event_based_actor* me) -> caf::behavior {
      auto promises = std::make_shared<std::vector<caf::response_promise>>();
      return {[=](metron::report_ptr s) {
        out->snapshots.push_back(std::move(s));
        promises->push_back(me->make_response_promise());
      }};
    });
    spawned.push_back(a);
    return caf::actor_cast<metron::subscriber_actor>(a);
  }

  void start_monitor() {
    mon = metron::spawn_monitor(sys, reg, mcfg);
    run_messages();
  }

  /// Asks the monitor for its latest report.
  metron::report_ptr get() {
    metron::report_ptr result;
    auto rh = self->request(mon, caf::infinite, metron::get_atom::value);
    run_messages();
    rh.receive([&](metron::report_ptr s) { result = std::move(s); },
               [&](caf::error& e) { ADD_FAILURE() << "get failed: " << sys.render(e); });
    return result;
  }

  /// A counter of the monitor's own metrics (metron_*_total).
  double counter_value(const std::string& name) { return static_cast<double>(own->counter(name).value()); }

  metron::registry reg;
  std::shared_ptr<metron::registry> own = std::make_shared<metron::registry>(); // mcfg.metrics
  coordinator_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  caf::scheduler::test_coordinator& sched;
  metron::monitor_config mcfg;
  metron::monitor_actor mon;
  std::vector<caf::actor> spawned;
};

} // namespace metron_test
