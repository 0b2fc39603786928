// Subscribe, unsubscribe, prefix filters and dead subscribers (deterministic).
#include "fixture.hpp"

#include "subscribers.hpp" // internal: the subscriber table
#include "testing.hpp"     // internal: inject_failure

using namespace std::chrono_literals;
using metron_test::actor_test;
using metron_test::received;

namespace {

class subscriptions : public actor_test {
protected:
  double subscribers_gauge() { return own->gauge("metron_subscribers").value(); }
};

TEST_F(subscriptions, every_subscriber_gets_every_snapshot_and_all_get_the_same_object) {
  start_monitor();
  auto a = std::make_shared<received>();
  auto b = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(a));
  self->send(mon, metron::subscribe_atom::value, recorder(b));
  run_messages();
  EXPECT_EQ(subscribers_gauge(), 2.0);
  for (int i = 0; i < 5; ++i)
    tick();
  ASSERT_EQ(a->snapshots.size(), 5u);
  ASSERT_EQ(b->snapshots.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(a->snapshots[i]->sequence(), i + 2);
    EXPECT_EQ(a->snapshots[i].get(), b->snapshots[i].get()); // shared, never copied
  }
}

TEST_F(subscriptions, an_unsubscribed_actor_receives_nothing_more) {
  start_monitor();
  auto a = std::make_shared<received>();
  auto sub = recorder(a);
  self->send(mon, metron::subscribe_atom::value, sub);
  run_messages();
  tick();
  self->send(mon, metron::unsubscribe_atom::value, sub);
  run_messages();
  EXPECT_EQ(subscribers_gauge(), 0.0);
  tick();
  tick();
  EXPECT_EQ(a->snapshots.size(), 1u);
}

// DESIGN's contract: a dynamically typed caf::actor that handles report_ptr subscribes
// and unsubscribes like a subscriber_actor, with or without a prefix.
TEST_F(subscriptions, a_dynamically_typed_actor_subscribes_and_unsubscribes_too) {
  reg.counter("jobs_total").add(2);
  start_monitor();
  auto a = std::make_shared<received>();
  caf::actor dyn = sys.spawn([a](caf::event_based_actor*) -> caf::behavior {
    return {[a](metron::report_ptr r) { a->snapshots.push_back(std::move(r)); }};
  });
  spawned.push_back(dyn);
  self->send(mon, metron::subscribe_atom::value, dyn, std::string{"jobs_"});
  run_messages();
  EXPECT_EQ(subscribers_gauge(), 1.0);
  tick();
  tick();
  ASSERT_EQ(a->snapshots.size(), 2u);
  EXPECT_EQ(a->snapshots[1]->find_counter("jobs_total")->value(), 2u);
  EXPECT_EQ(a->snapshots[1]->raw().series(), 1u) << "the prefix filter applies";
  EXPECT_EQ(counter_value("metron_dropped_snapshots_total"), 0.0);
  self->send(mon, metron::unsubscribe_atom::value, dyn);
  run_messages();
  EXPECT_EQ(subscribers_gauge(), 0.0);
  tick();
  EXPECT_EQ(a->snapshots.size(), 2u);
  // Without a prefix, every series.
  self->send(mon, metron::subscribe_atom::value, dyn);
  run_messages();
  tick();
  ASSERT_EQ(a->snapshots.size(), 3u);
  EXPECT_GT(a->snapshots[2]->raw().series(), 1u);
}

TEST_F(subscriptions, a_prefix_filter_delivers_only_matching_series_in_one_shared_snapshot) {
  reg.counter("http_requests_total").add(3);
  reg.histogram("http_latency_seconds").record(0.5);
  reg.counter("db_queries_total").add(9);
  reg.gauge("queue_depth").set(2);
  start_monitor();
  auto all = std::make_shared<received>();
  auto http1 = std::make_shared<received>();
  auto http2 = std::make_shared<received>();
  auto db = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(all));
  self->send(mon, metron::subscribe_atom::value, recorder(http1), std::string{"http_"});
  self->send(mon, metron::subscribe_atom::value, recorder(http2), std::string{"http_"});
  self->send(mon, metron::subscribe_atom::value, recorder(db), std::string{"db_"});
  run_messages();
  tick();
  ASSERT_EQ(http1->snapshots.size(), 1u);
  ASSERT_EQ(http2->snapshots.size(), 1u);
  ASSERT_EQ(db->snapshots.size(), 1u);
  auto& h = *http1->snapshots[0];
  EXPECT_EQ(h.series(), 2u);
  EXPECT_EQ(h.find_counter("http_requests_total")->value(), 3u);
  EXPECT_NE(h.find_histogram("http_latency_seconds"), nullptr);
  EXPECT_EQ(h.find_counter("db_queries_total"), nullptr);
  EXPECT_EQ(h.find_gauge("queue_depth"), nullptr);
  EXPECT_EQ(h.sequence(), all->snapshots[0]->sequence());
  EXPECT_EQ(http1->snapshots[0].get(), http2->snapshots[0].get()); // one per prefix
  EXPECT_NE(http1->snapshots[0].get(), all->snapshots[0].get());  // a separate, smaller one
  EXPECT_EQ(db->snapshots[0]->series(), 1u);
  EXPECT_GT(all->snapshots[0]->series(), 4u); // plus metron's self-metrics
}

TEST_F(subscriptions, subscribing_again_replaces_the_filter_and_never_duplicates) {
  reg.counter("a_total");
  reg.counter("b_total");
  start_monitor();
  auto r = std::make_shared<received>();
  auto sub = recorder(r);
  self->send(mon, metron::subscribe_atom::value, sub, std::string{"a_"});
  self->send(mon, metron::subscribe_atom::value, sub, std::string{"b_"});
  run_messages();
  EXPECT_EQ(subscribers_gauge(), 1.0);
  tick();
  ASSERT_EQ(r->snapshots.size(), 1u);
  EXPECT_EQ(r->snapshots[0]->series(), 1u);
  EXPECT_NE(r->snapshots[0]->find_counter("b_total"), nullptr);
}

TEST_F(subscriptions, a_subscriber_that_terminates_is_removed) {
  start_monitor();
  auto alive = std::make_shared<received>();
  auto dead = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(alive));
  auto doomed = recorder(dead);
  self->send(mon, metron::subscribe_atom::value, doomed);
  run_messages();
  tick();
  EXPECT_EQ(subscribers_gauge(), 2.0);
  caf::anon_send_exit(doomed, caf::exit_reason::kill);
  run_messages(); // the down message reaches the fan-out and the monitor
  EXPECT_EQ(subscribers_gauge(), 1.0);
  auto sent_before = dead->snapshots.size();
  tick();
  tick();
  EXPECT_EQ(dead->snapshots.size(), sent_before);
  EXPECT_EQ(alive->snapshots.size(), 3u);
  EXPECT_EQ(counter_value("metron_dropped_snapshots_total"), 0.0); // removed, not skipped
}

// Subscriber churn: subscribers that die in every state a subscription can be in
// (never reached the monitor, acknowledged, out of credit with snapshots in flight,
// filtered, unsubscribed, subscribed twice) are all gone once the down messages
// have run, receive nothing more, and are not restored by a restarted fan-out.
TEST_F(subscriptions, dead_subscribers_are_gone_once_their_down_messages_are_processed) {
  start_monitor();
  constexpr int per_kind = 25;
  std::vector<std::shared_ptr<received>> logs;
  std::vector<metron::subscriber_actor> doomed;
  auto make = [&](bool answers) {
    logs.push_back(std::make_shared<received>());
    doomed.push_back(answers ? recorder(logs.back()) : black_hole(logs.back()));
    return doomed.back();
  };
  for (int i = 0; i < per_kind; ++i) {
    self->send(mon, metron::subscribe_atom::value, make(true));
    self->send(mon, metron::subscribe_atom::value, make(false));
    self->send(mon, metron::subscribe_atom::value, make(true), std::string{"metron_"});
    auto twice = make(true);
    self->send(mon, metron::subscribe_atom::value, twice);
    self->send(mon, metron::subscribe_atom::value, twice, std::string{"metron_ticks"});
    auto gone = make(true);
    self->send(mon, metron::subscribe_atom::value, gone);
    self->send(mon, metron::unsubscribe_atom::value, gone);
  }
  run_messages();
  EXPECT_EQ(subscribers_gauge(), 4.0 * per_kind);
  for (int i = 0; i < 6; ++i)
    tick(); // the black holes are out of credit, with snapshots in flight
  EXPECT_GT(counter_value("metron_dropped_snapshots_total"), 0.0);
  // Killed before their subscription reaches the monitor.
  for (int i = 0; i < per_kind; ++i) {
    auto late = make(true);
    self->send(mon, metron::subscribe_atom::value, late);
    caf::anon_send_exit(late, caf::exit_reason::kill);
  }
  // A tick's publish is queued at the fan-out before the deaths: the subscribers die
  // with snapshots on the way to them.
  sched.advance_time(std::chrono::duration_cast<caf::timespan>(mcfg.interval));
  for (auto& d : doomed)
    caf::anon_send_exit(d, caf::exit_reason::kill);
  run_messages();
  EXPECT_EQ(subscribers_gauge(), 0.0);
  std::vector<std::size_t> seen;
  for (auto& l : logs)
    seen.push_back(l->snapshots.size());
  auto dropped = counter_value("metron_dropped_snapshots_total");
  tick();
  tick();
  // A restarted fan-out gets the monitor's list: it must not bring anyone back.
  inject_failure(mon, metron::testing::monitor_part::fanout);
  run_messages();
  tick();
  EXPECT_EQ(subscribers_gauge(), 0.0);
  EXPECT_EQ(counter_value("metron_restarts_total"), 1.0);
  EXPECT_EQ(counter_value("metron_dropped_snapshots_total"), dropped); // removed, not skipped
  for (std::size_t i = 0; i < logs.size(); ++i)
    EXPECT_EQ(logs[i]->snapshots.size(), seen[i]) << "subscriber " << i;
  // And the monitor still serves new subscribers.
  auto fresh = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(fresh));
  run_messages();
  tick();
  EXPECT_EQ(fresh->snapshots.size(), 1u);
  EXPECT_EQ(subscribers_gauge(), 1.0);
}

// The mechanism underneath: a subscriber_set never sends to, and drops, a subscriber
// that has terminated even before the owner has seen its down message, and refuses
// to add one.
TEST_F(subscriptions, a_subscriber_set_drops_terminated_subscribers_at_publish_and_refuses_to_add_them) {
  auto set = std::make_shared<metron::subscriber_set>(4);
  auto owner = sys.spawn([set](caf::event_based_actor* me) -> caf::behavior {
    return {[=](metron::report_ptr s) { set->publish(me, s); }};
  });
  spawned.push_back(owner);
  auto a = std::make_shared<received>();
  auto b = std::make_shared<received>();
  auto live = recorder(a);
  auto dead = recorder(b);
  EXPECT_TRUE(set->add(live, ""));
  EXPECT_TRUE(set->add(dead, "")); // nobody monitors it: no down message will come
  EXPECT_FALSE(metron::has_terminated(dead));
  caf::anon_send_exit(dead, caf::exit_reason::kill);
  run_messages();
  EXPECT_TRUE(metron::has_terminated(dead));
  EXPECT_FALSE(metron::has_terminated(live));
  EXPECT_FALSE(metron::has_terminated(caf::actor{}));
  EXPECT_EQ(set->size(), 2u);
  auto snap = std::make_shared<const metron::report>();
  self->send(owner, snap);
  run_messages();
  EXPECT_EQ(set->size(), 1u);
  ASSERT_EQ(a->snapshots.size(), 1u);
  EXPECT_TRUE(b->snapshots.empty());
  EXPECT_FALSE(set->add(dead, ""));
  EXPECT_EQ(set->size(), 1u);
}

} // namespace
