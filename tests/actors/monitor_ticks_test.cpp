// The monitor's ticks: snapshots with the right values, rates, quantiles, sequence,
// self-metrics, get, and interval changes; on the deterministic test coordinator.
#include "fixture.hpp"

using namespace std::chrono_literals;
using metron_test::actor_test;
using metron_test::received;

namespace {

class monitor_ticks : public actor_test {};

TEST_F(monitor_ticks, first_snapshot_is_taken_at_start_and_get_returns_it) {
  reg.counter("requests_total").add(7);
  start_monitor();
  auto s = get();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->sequence(), 1u);
  EXPECT_EQ(s->find_counter("requests_total")->value(), 7u);
  EXPECT_EQ(s->interval_seconds(), 0.0);
}

TEST_F(monitor_ticks, each_tick_produces_a_snapshot_with_values_and_rates_per_second) {
  auto& c = reg.counter("requests_total");
  auto& g = reg.gauge("queue_depth");
  auto& h = reg.histogram("latency_seconds");
  start_monitor(); // tick 1 at t0
  auto rec = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(rec));
  run_messages();
  c.add(50);
  g.set(3.5);
  for (int i = 1; i <= 100; ++i)
    h.record(i * 0.001);
  tick(); // tick 2 at t0 + 100ms
  ASSERT_EQ(rec->snapshots.size(), 1u);
  auto& s = *rec->snapshots.back();
  EXPECT_EQ(s.sequence(), 2u);
  EXPECT_DOUBLE_EQ(s.interval_seconds(), 0.1);
  auto* cs = s.find_counter("requests_total");
  ASSERT_NE(cs, nullptr);
  EXPECT_EQ(cs->total, 50u);
  EXPECT_DOUBLE_EQ(s.figures(*cs).rate, 500.0); // 50 in 0.1 s
  EXPECT_DOUBLE_EQ(s.find_gauge("queue_depth")->value(), 3.5);
  auto* hs = s.find_histogram_sample("latency_seconds");
  ASSERT_NE(hs, nullptr);
  EXPECT_EQ(hs->data.count(), 100u);
  auto& hf = s.figures(*hs);
  EXPECT_DOUBLE_EQ(hf.rate, 1000.0);
  ASSERT_EQ(hf.quantiles.size(), 4u);
  EXPECT_EQ(hf.quantiles[0].q, 0.5);
  EXPECT_NEAR(hf.quantiles[0].value, 0.050, 0.050 * metron::bucket_layout::relative_error);
  EXPECT_NEAR(hf.quantiles[2].value, 0.099, 0.099 * metron::bucket_layout::relative_error);
  EXPECT_DOUBLE_EQ(hs->data.max(), 0.1);
  c.add(10);
  tick();
  ASSERT_EQ(rec->snapshots.size(), 2u);
  EXPECT_EQ(rec->snapshots.back()->sequence(), 3u);
  EXPECT_DOUBLE_EQ(rec->snapshots.back()->find_counter_figures("requests_total")->rate, 100.0);
  EXPECT_EQ(rec->snapshots.back()->find_histogram_figures("latency_seconds")->rate, 0.0);
}

TEST_F(monitor_ticks, no_time_passing_means_no_tick) {
  start_monitor();
  auto rec = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(rec));
  run_messages();
  advance(99ms);
  EXPECT_TRUE(rec->snapshots.empty());
  advance(1ms);
  EXPECT_EQ(rec->snapshots.size(), 1u);
}

TEST_F(monitor_ticks, changing_the_interval_changes_the_tick_period) {
  start_monitor();
  auto rec = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(rec));
  self->send(mon, metron::interval_atom::value, caf::timespan{1s});
  run_messages();
  advance(500ms); // the old 100 ms timer no longer fires
  EXPECT_TRUE(rec->snapshots.empty());
  advance(500ms);
  ASSERT_EQ(rec->snapshots.size(), 1u);
  EXPECT_DOUBLE_EQ(rec->snapshots.back()->interval_seconds(), 1.0);
  advance(1s);
  EXPECT_EQ(rec->snapshots.size(), 2u);
}

// A source whose snapshot takes `cost` of the (test) actor clock, once or every time.
class slow_source final : public metron::snapshot_source {
public:
  slow_source(caf::scheduler::test_coordinator& sched, metron::registry& reg) : sched_(sched), reg_(reg) {}
  std::optional<metron::snapshot> take() override {
    ++taken;
    sched_.clock().current_time += cost;
    if (once)
      cost = caf::timespan{0};
    return reg_.snapshot();
  }
  caf::timespan cost{0};
  bool once = false;
  int taken = 0;

private:
  caf::scheduler::test_coordinator& sched_;
  metron::registry& reg_;
};

TEST_F(monitor_ticks, ticks_keep_a_fixed_rate_however_long_a_tick_takes) {
  auto src = std::make_shared<slow_source>(sched, reg);
  src->cost = 300ms; // each tick takes 300 ms of a 1 s interval
  mcfg.interval = 1s;
  mon = metron::spawn_monitor(sys, metron::source_ptr{src}, mcfg);
  run_messages();
  ASSERT_EQ(src->taken, 1); // at t0, ends at t0 + 0.3 s
  advance(699ms);
  EXPECT_EQ(src->taken, 1);
  advance(1ms); // t0 + 1 s: due one interval after the first tick began, not after it ended
  EXPECT_EQ(src->taken, 2);
  advance(700ms); // t0 + 2 s
  EXPECT_EQ(src->taken, 3);
  // A tick that overruns two whole intervals skips the due times it missed: the next
  // is on the grid, not one right after another.
  src->cost = 2500ms; // the next tick (t0 + 3 s) ends at t0 + 5.5 s
  src->once = true;
  advance(700ms);
  EXPECT_EQ(src->taken, 4);
  advance(499ms); // t0 + 5.999 s: the due times t0 + 4 s and t0 + 5 s were skipped
  EXPECT_EQ(src->taken, 4);
  advance(1ms); // t0 + 6 s
  EXPECT_EQ(src->taken, 5);
}

class interval_requests : public actor_test {
protected:
  caf::error request_interval(caf::timespan x) {
    caf::error result = caf::make_error(caf::sec::request_timeout); // no answer at all
    auto rh = self->request(mon, caf::infinite, metron::interval_atom::value, x);
    run_messages();
    rh.receive([&] { result = caf::none; }, [&](caf::error& e) { result = std::move(e); });
    return result;
  }
};

TEST_F(interval_requests, an_interval_outside_the_limits_is_refused_with_an_error_and_ticks_go_on) {
  start_monitor();
  auto rec = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(rec));
  run_messages();
  // 1 ns would tick ~millions of times a second; INT64_MAX ns overflows the timer.
  for (auto bad : {caf::timespan{1}, caf::timespan{999'999}, caf::timespan{0}, caf::timespan{-1},
                   caf::timespan::max(), caf::timespan::min(),
                   std::chrono::duration_cast<caf::timespan>(24h + 1ns)}) {
    auto err = request_interval(bad);
    EXPECT_EQ(err, caf::make_error(metron::monitor_errc::interval_out_of_range)) << sys.render(err);
  }
  EXPECT_EQ(counter_value("metron_refused_requests_total"), 7.0);
  // The 100 ms period is untouched: exactly one tick per 100 ms, none in between.
  advance(99ms);
  EXPECT_TRUE(rec->snapshots.empty());
  advance(1ms);
  advance(100ms);
  ASSERT_EQ(rec->snapshots.size(), 2u);
  EXPECT_DOUBLE_EQ(rec->snapshots.back()->interval_seconds(), 0.1);
}

TEST_F(interval_requests, the_limits_themselves_are_accepted) {
  start_monitor();
  auto rec = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(rec));
  run_messages();
  EXPECT_EQ(request_interval(24h), caf::none);
  advance(23h);
  EXPECT_TRUE(rec->snapshots.empty());
  advance(1h);
  ASSERT_EQ(rec->snapshots.size(), 1u);
  EXPECT_EQ(request_interval(1ms), caf::none);
  for (int i = 0; i < 10; ++i)
    advance(1ms);
  EXPECT_EQ(rec->snapshots.size(), 11u);
  EXPECT_EQ(counter_value("metron_refused_requests_total"), 0.0);
}

TEST_F(interval_requests, an_asynchronous_bad_interval_is_counted_and_ignored_without_an_error_message) {
  start_monitor();
  self->send(mon, metron::interval_atom::value, caf::timespan{1});
  run_messages();
  EXPECT_EQ(counter_value("metron_refused_requests_total"), 1.0);
  EXPECT_FALSE(self->has_next_message()); // no error sent back to an asynchronous sender
  auto rec = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(rec));
  run_messages();
  advance(100ms);
  EXPECT_EQ(rec->snapshots.size(), 1u);
}

TEST_F(monitor_ticks, registry_collectors_run_right_before_each_snapshot) {
  int runs = 0;
  auto& g = reg.gauge("collected");
  reg.add_collector([&] { g.set(++runs); });
  reg.add_collector([] { throw std::runtime_error("broken collector"); });
  start_monitor();
  tick();
  tick();
  auto s = get();
  EXPECT_EQ(runs, 3);
  EXPECT_DOUBLE_EQ(s->find_gauge("collected")->value(), 3.0);
  EXPECT_EQ(s->find_counter("metron_collector_errors_total")->value(), 3u);
}

TEST_F(monitor_ticks, self_metrics_count_ticks_and_tick_durations) {
  start_monitor();
  tick();
  tick();
  auto s = get();
  EXPECT_EQ(s->find_counter("metron_ticks_total")->value(), 3u);
  // The duration of tick n is recorded after its snapshot: two so far.
  EXPECT_EQ(s->find_histogram("metron_tick_duration_seconds")->count(), 2u);
  EXPECT_EQ(own->histogram("metron_tick_duration_seconds").snapshot().count(), 3u);
}

TEST_F(monitor_ticks, snapshot_time_comes_from_the_actor_clock) {
  start_monitor();
  auto t0 = get()->mono_ns();
  advance(100ms);
  advance(100ms);
  advance(50ms); // ticks at +100 and +200 ms only
  auto s = get();
  EXPECT_EQ(s->sequence(), 3u);
  EXPECT_EQ(s->mono_ns() - t0, 200'000'000);
}

TEST_F(monitor_ticks, windows_in_published_snapshots_are_exact_over_the_actor_clock) {
  mcfg.windows = {std::chrono::seconds{1}};
  auto& c = reg.counter("events_total");
  auto& h = reg.histogram("size_bytes");
  start_monitor(); // tick 1 at t0
  auto rec = std::make_shared<received>();
  self->send(mon, metron::subscribe_atom::value, recorder(rec));
  run_messages();
  for (int k = 1; k <= 25; ++k) { // tick k+1 at t0 + k * 100 ms
    c.add(k);
    h.record(k);
    tick();
  }
  ASSERT_EQ(rec->snapshots.size(), 25u);
  auto& s = *rec->snapshots.back();
  // The 1 s window at t0 + 2.5 s starts at the tick of t0 + 1.5 s: values 16..25.
  auto& w = s.find_counter_figures("events_total")->windows.at(0);
  EXPECT_DOUBLE_EQ(w.seconds, 1.0);
  EXPECT_EQ(w.increase, 16 + 17 + 18 + 19 + 20 + 21 + 22 + 23 + 24 + 25);
  auto& hw = s.find_histogram_figures("size_bytes")->windows.at(0);
  EXPECT_EQ(hw.increase, 10.0);
  EXPECT_NEAR(hw.quantiles.at(0).value, 20.0, 20.0 * 2 * metron::bucket_layout::relative_error); // p50 of 16..25
  EXPECT_GE(hw.max, 25.0);
}

} // namespace
