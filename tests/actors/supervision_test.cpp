// Supervision: a failed aggregator or fan-out is restarted with the subscribers
// kept; exceeding the restart intensity terminates the monitor with an error its
// spawner sees (deterministic).
#include "fixture.hpp"

#include "testing.hpp" // internal: inject_failure

using namespace std::chrono_literals;
using metron_test::actor_test;
using metron_test::received;
using metron::testing::inject_failure;
using metron::testing::monitor_part;

namespace {

class supervision : public actor_test {
protected:
  /// An actor that monitors the monitor and records its down message's reason.
  void watch_monitor() {
    auto out = down_reason;
    auto m = caf::actor_cast<caf::actor>(mon);
    auto w = sys.spawn([out, m](caf::event_based_actor* me) -> caf::behavior {
      me->monitor(m);
      me->set_down_handler([out](caf::down_msg& dm) { *out = dm.reason; });
      return {[](int) {}};
    });
    spawned.push_back(w);
    run_messages();
  }

  std::shared_ptr<caf::error> down_reason = std::make_shared<caf::error>();
};

TEST_F(supervision, a_failed_aggregator_is_restarted_and_subscribers_keep_receiving_in_order) {
  auto& c = reg.counter("work_total");
  start_monitor();
  auto r = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(r), std::string{"work_"});
  run_messages();
  c.add(5);
  tick();
  tick();
  inject_failure(mon, monitor_part::aggregator);
  run_messages(); // failure, down message, restart, immediate tick of the new one
  EXPECT_EQ(counter_value("metron_restarts_total"), 1.0);
  c.add(5);
  tick();
  tick();
  ASSERT_GE(r->snapshots.size(), 4u);
  for (std::size_t i = 1; i < r->snapshots.size(); ++i)
    EXPECT_GT(r->snapshots[i]->sequence(), r->snapshots[i - 1]->sequence()); // continues, never resets
  EXPECT_EQ(r->snapshots.back()->find_counter("work_total")->value(), 10u);
  EXPECT_EQ(get()->sequence(), r->snapshots.back()->sequence());
}

TEST_F(supervision, a_failed_fanout_is_restarted_with_the_subscriber_list_and_filters) {
  reg.counter("a_total").add(1);
  reg.counter("b_total").add(2);
  start_monitor();
  auto all = std::make_shared<received>();
  auto only_a = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(all));
  self->send(mon, metron::subscribe_atom::value, recorder(only_a), std::string{"a_"});
  run_messages();
  tick();
  inject_failure(mon, monitor_part::fanout);
  run_messages();
  EXPECT_EQ(counter_value("metron_restarts_total"), 1.0);
  EXPECT_EQ(own->gauge("metron_subscribers").value(), 2.0);
  tick();
  tick();
  EXPECT_EQ(all->snapshots.size(), 3u);
  ASSERT_EQ(only_a->snapshots.size(), 3u);
  EXPECT_EQ(only_a->snapshots.back()->series(), 1u);
  EXPECT_EQ(only_a->snapshots.back()->sequence(), all->snapshots.back()->sequence());
}

TEST_F(supervision, a_subscriber_that_died_is_not_restored_after_a_restart) {
  start_monitor();
  auto r = std::make_shared<received>();
  auto doomed = recorder(std::make_shared<received>());
  self->send(mon, metron::subscribe_atom::value, recorder(r));
  self->send(mon, metron::subscribe_atom::value, doomed);
  run_messages();
  caf::anon_send_exit(doomed, caf::exit_reason::kill);
  run_messages();
  inject_failure(mon, monitor_part::fanout);
  run_messages();
  EXPECT_EQ(own->gauge("metron_subscribers").value(), 1.0);
}

TEST_F(supervision, restarts_spread_over_time_stay_within_the_intensity) {
  mcfg.max_restarts = 2;
  mcfg.restart_period = std::chrono::seconds{1};
  start_monitor();
  watch_monitor();
  for (int i = 0; i < 6; ++i) { // one failure every 600 ms: at most 2 within any 1 s
    inject_failure(mon, i % 2 ? monitor_part::fanout : monitor_part::aggregator);
    run_messages();
    for (int k = 0; k < 6; ++k)
      tick();
  }
  EXPECT_EQ(counter_value("metron_restarts_total"), 6.0);
  EXPECT_FALSE(*down_reason);
  EXPECT_NE(get(), nullptr);
}

TEST_F(supervision, exceeding_the_restart_limit_terminates_the_monitor_with_an_error) {
  mcfg.max_restarts = 3;
  mcfg.restart_period = std::chrono::seconds{10};
  start_monitor();
  watch_monitor();
  auto r = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(r));
  run_messages();
  for (int i = 0; i < 3; ++i) {
    inject_failure(mon, monitor_part::aggregator);
    run_messages();
    tick();
  }
  EXPECT_FALSE(*down_reason); // three restarts allowed
  EXPECT_EQ(counter_value("metron_restarts_total"), 3.0);
  inject_failure(mon, monitor_part::aggregator);
  run_messages();
  ASSERT_TRUE(*down_reason);
  EXPECT_EQ(*down_reason, metron::monitor_errc::restart_limit_exceeded);
  EXPECT_EQ(down_reason->category(), caf::atom("metron"));
  EXPECT_EQ(counter_value("metron_restarts_total"), 3.0);
  // The children went down with it: no more snapshots, and recording still works.
  auto seen = r->snapshots.size();
  reg.counter("still_recording_total").add(3);
  for (int i = 0; i < 5; ++i)
    tick();
  EXPECT_EQ(r->snapshots.size(), seen);
  EXPECT_EQ(reg.counter("still_recording_total").value(), 3u);
  EXPECT_FALSE(sched.has_pending_timeout()); // no aggregator timer is left
}

TEST_F(supervision, a_zero_restart_limit_gives_up_on_the_first_failure) {
  mcfg.max_restarts = 0;
  start_monitor();
  watch_monitor();
  inject_failure(mon, monitor_part::fanout);
  run_messages();
  EXPECT_EQ(*down_reason, metron::monitor_errc::restart_limit_exceeded);
}

} // namespace
