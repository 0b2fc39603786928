// Shared by the multi-process tests: an actor system with the middleman, and
// helpers to ask a monitor for its snapshot or a collector for its node table.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>

#include <metron/remote.hpp>

#include "process.hpp"

namespace metron_test {

struct remote_fixture : ::testing::Test {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  remote_fixture() {
    metron::remote::configure(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  /// The monitor's latest snapshot, or nullptr if it does not answer within 5 s.
  template <class Handle>
  metron::report_ptr get(const Handle& mon) {
    metron::report_ptr out;
    caf::scoped_actor self{*sys};
    self->request(mon, std::chrono::seconds{5}, metron::get_atom::value)
      .receive([&](metron::report_ptr s) { out = std::move(s); }, [](caf::error&) {});
    return out;
  }

  std::vector<metron::remote::node_status> nodes(const metron::remote::collector_actor& col) {
    std::vector<metron::remote::node_status> out;
    caf::scoped_actor self{*sys};
    self->request(col, std::chrono::seconds{5}, metron::remote::nodes_atom::value)
      .receive([&](std::vector<metron::remote::node_status> xs) { out = std::move(xs); },
               [](caf::error&) {});
    return out;
  }
};

/// What a subscriber actor saw (written on an actor thread, read by the test).
struct received_log {
  std::mutex mtx;
  std::vector<metron::report_ptr> snaps;
  std::size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return snaps.size();
  }
  metron::report_ptr last() {
    std::lock_guard<std::mutex> guard{mtx};
    return snaps.empty() ? nullptr : snaps.back();
  }
};

/// A subscriber that acknowledges every snapshot at once.
inline caf::actor spawn_subscriber(caf::actor_system& sys, std::shared_ptr<received_log> log) {
  return sys.spawn([log](caf::event_based_actor*) -> caf::behavior {
    return {[log](metron::report_ptr s) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->snaps.push_back(std::move(s));
    }};
  });
}

} // namespace metron_test
