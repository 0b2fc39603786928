// Credit-based flow control: a subscriber that never answers is skipped and its
// drops counted, while a fast one gets every snapshot (deterministic).
#include "fixture.hpp"

using namespace std::chrono_literals;
using metron_test::actor_test;
using metron_test::received;

namespace {

class credit : public actor_test {};

TEST_F(credit, a_stuck_subscriber_is_skipped_and_counted_while_a_fast_one_gets_every_snapshot) {
  mcfg.credit = 3;
  start_monitor();
  auto fast = std::make_shared<received>();
  auto stuck = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(fast));
  self->send(mon, metron::subscribe_atom::value, black_hole(stuck));
  run_messages();
  constexpr int ticks = 20;
  for (int i = 0; i < ticks; ++i)
    tick();
  ASSERT_EQ(fast->snapshots.size(), std::size_t{ticks});
  for (int i = 0; i < ticks; ++i)
    EXPECT_EQ(fast->snapshots[i]->sequence(), static_cast<std::uint64_t>(i + 2)); // none missing
  EXPECT_EQ(stuck->snapshots.size(), 3u); // its credit, then nothing
  EXPECT_EQ(counter_value("metron_dropped_snapshots_total"), ticks - 3.0);
  // The drops are visible in the snapshots too (counted before the last tick's snapshot).
  auto last = fast->snapshots.back();
  EXPECT_EQ(last->find_counter("metron_dropped_snapshots_total")->value(), ticks - 4u);
}

TEST_F(credit, a_slow_subscriber_gets_snapshots_again_once_it_acknowledges) {
  mcfg.credit = 2;
  start_monitor();
  auto slow = std::make_shared<received>();
  // A subscriber we run only when we choose: it is never scheduled during ticks.
  auto sub = recorder(slow);
  self->send(mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
  run_messages();
  // Four ticks while the subscriber is not allowed to run: two sent, two skipped.
  auto not_sub = [&](caf::resumable* r) {
    return dynamic_cast<caf::abstract_actor*>(r) != caf::actor_cast<caf::abstract_actor*>(sub);
  };
  for (int i = 0; i < 4; ++i) {
    sched.advance_time(100ms);
    sched.run_jobs_filtered(not_sub);
  }
  EXPECT_EQ(slow->snapshots.size(), 0u);
  EXPECT_EQ(counter_value("metron_dropped_snapshots_total"), 2.0);
  run_messages(); // it handles (and acknowledges) both
  ASSERT_EQ(slow->snapshots.size(), 2u);
  EXPECT_EQ(slow->snapshots[0]->sequence(), 2u);
  EXPECT_EQ(slow->snapshots[1]->sequence(), 3u);
  tick(); // credit restored
  ASSERT_EQ(slow->snapshots.size(), 3u);
  EXPECT_EQ(slow->snapshots[2]->sequence(), 6u);
  EXPECT_EQ(counter_value("metron_dropped_snapshots_total"), 2.0);
}

TEST_F(credit, a_subscriber_that_does_not_understand_snapshots_does_not_block_itself) {
  mcfg.credit = 1;
  start_monitor();
  auto deaf = sys.spawn([](caf::event_based_actor* me) -> caf::behavior {
    me->set_default_handler([](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
      return caf::sec::unexpected_message; // like print_and_drop, without the printing
    });
    return {[](int) {}};
  });
  spawned.push_back(deaf);
  self->send(mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(deaf));
  run_messages();
  for (int i = 0; i < 5; ++i)
    tick();
  // Each request came back as an error, which also returns the credit.
  EXPECT_EQ(counter_value("metron_dropped_snapshots_total"), 0.0);
}

} // namespace
