// metron/actors/performance_monitor.hpp — everything in one RAII object, for
// programs that do not run their own CAF actor system.
//
//   metron::performance_monitor pm;                 // registry + actor system + monitor
//   auto& h = pm.registry().histogram("request_latency_seconds");
//   pm.on_report([](metron::report_ptr r) { ... });  // runs on an actor thread
//   h.record(0.0042);                                     // lock-free, never waits
//
// Callbacks run on actor threads, never on a recording thread; each callback is
// its own subscriber actor, so one callback runs one report at a time, in order,
// and a slow callback only drops its own reports (credit). latest() asks the
// monitor and waits for the answer.
//
// Destruction stops the callbacks and the monitor, then waits for the actor system
// to finish; the registry is destroyed last, so metric references taken from
// registry() stay valid while the object lives.
//
// Concurrency: registry(), set_lock_free(), on_report() and latest() are
// thread-safe. Do not call them from inside a report callback while the
// object is being destroyed.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "metron/actors/config.hpp"
#include "metron/actors/monitor.hpp"
#include "metron/registry.hpp"
#include "metron/report.hpp"

namespace metron {

class performance_monitor {
public:
  /// Starts an actor system (default CAF configuration) and a monitor of an owned registry.
  explicit performance_monitor(monitor_config cfg = {}, registry_config reg_cfg = {});
  ~performance_monitor();

  performance_monitor(const performance_monitor&) = delete;
  performance_monitor& operator=(const performance_monitor&) = delete;

  // -- recording -----------------------------------------------------------------

  /// The owned registry; record through the metrics it returns.
  metron::registry& registry() noexcept { return *registry_; }

  /// Switches the registry between the lock-free and the locked collectors.
  void set_lock_free(bool on) noexcept { registry_->set_lock_free(on); }

  // -- reading -------------------------------------------------------------------

  /// Calls `fun` with every report, on an actor thread; returns at once.
  void on_report(std::function<void(report_ptr)> fun);

  /// The latest report (asks the monitor and waits; nullptr if it does not answer).
  report_ptr latest();

  /// The underlying actor system and monitor, for users who want to add actors.
  caf::actor_system& system() noexcept { return *system_; }
  const monitor_actor& monitor() const noexcept { return monitor_; }

private:
  std::unique_ptr<metron::registry> registry_; // destroyed after the actor system
  caf::actor_system_config sys_cfg_;
  std::unique_ptr<caf::actor_system> system_;
  monitor_actor monitor_;
  std::mutex mutex_;                 // guards callbacks_
  std::vector<subscriber_actor> callbacks_;
};

} // namespace metron
