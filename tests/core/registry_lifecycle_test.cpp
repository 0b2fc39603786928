// Series lifecycle in the registry: remove(), idle expiry, comebacks of retired
// series with their totals, the overflow series at the limits, and all of it while
// other threads record (run under ThreadSanitizer too). Time is a manual clock
// injected through registry_config::clock; nothing sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <metron/metron.hpp>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// A clock the test moves by hand (read under the registry's lock, from any thread).
struct manual_clock {
  std::atomic<std::int64_t> ns{1'000'000'000};
  void advance(std::chrono::nanoseconds d) {
    ns.fetch_add(d.count(), std::memory_order_relaxed); // relaxed: a test clock, read under the registry's lock
  }
  std::function<clock_type::time_point()> fn() {
    return [this] {
      return clock_type::time_point{
        std::chrono::nanoseconds{ns.load(std::memory_order_relaxed)}}; // relaxed: see advance
    };
  }
};

// Series of the user's metrics (the registry's own metron_* counters left out).
std::size_t user_series(const metron::snapshot& s) {
  std::size_t n = s.series();
  for (auto& c : s.counters)
    n -= c.name().starts_with("metron_") ? 1 : 0;
  return n;
}

std::uint64_t retired_total(const metron::snapshot& s, const char* reason) {
  auto* c = s.find_counter("metron_registry_retired_total", {{"reason", reason}});
  return c != nullptr ? c->value() : 0;
}

} // namespace

TEST(registry_lifecycle, a_removed_series_leaves_the_snapshots_and_the_count) {
  metron::registry reg;
  auto& c = reg.counter("jobs_total", {{"queue", "a"}});
  reg.counter("jobs_total", {{"queue", "b"}});
  c.add(3);
  EXPECT_TRUE(reg.remove("jobs_total", {{"queue", "a"}}));
  EXPECT_FALSE(reg.remove("jobs_total", {{"queue", "a"}})); // already retired
  EXPECT_FALSE(reg.remove("jobs_total", {{"queue", "z"}})); // never there
  EXPECT_FALSE(reg.remove("nothing_total"));
  EXPECT_FALSE(reg.remove("jobs_total", {{"queue", "a"}, {"queue", "b"}})); // not a label set
  EXPECT_EQ(reg.size(), 1u);
  EXPECT_EQ(reg.retired(), 1u);
  EXPECT_EQ(reg.retired_removed(), 1u);
  auto s = reg.snapshot();
  EXPECT_EQ(s.find_counter("jobs_total", {{"queue", "a"}}), nullptr);
  ASSERT_NE(s.find_counter("jobs_total", {{"queue", "b"}}), nullptr);
  EXPECT_EQ(retired_total(s, "removed"), 1u);
  EXPECT_EQ(retired_total(s, "idle"), 0u);
  // The last series of a family gone: the family leaves the snapshot too.
  EXPECT_TRUE(reg.remove("jobs_total", {{"queue", "b"}}));
  EXPECT_EQ(reg.snapshot().find_family("jobs_total"), nullptr);
}

TEST(registry_lifecycle, asking_again_for_a_removed_series_returns_the_same_object_with_its_total) {
  metron::registry reg;
  auto& c = reg.counter("jobs_total", {{"queue", "a"}});
  auto& h = reg.histogram("latency_seconds");
  c.add(5);
  h.record(0.25);
  ASSERT_TRUE(reg.remove("jobs_total", {{"queue", "a"}}));
  ASSERT_TRUE(reg.remove("latency_seconds"));
  EXPECT_EQ(user_series(reg.snapshot()), 0u);
  auto& again = reg.counter("jobs_total", {{"queue", "a"}});
  EXPECT_EQ(&again, &c);
  EXPECT_EQ(&reg.histogram("latency_seconds"), &h);
  EXPECT_EQ(reg.size(), 2u);
  again.add(1);
  auto s = reg.snapshot();
  ASSERT_NE(s.find_counter("jobs_total", {{"queue", "a"}}), nullptr);
  EXPECT_EQ(s.find_counter("jobs_total", {{"queue", "a"}})->value(), 6u); // continues, never drops
  ASSERT_NE(s.find_histogram("latency_seconds"), nullptr);
  EXPECT_EQ(s.find_histogram("latency_seconds")->count(), 1u);
}

TEST(registry_lifecycle, a_retired_handle_recorded_into_comes_back_at_the_next_snapshot) {
  metron::registry reg;
  auto& c = reg.counter("jobs_total");
  auto& u = reg.updown_counter("inflight");
  auto& g = reg.gauge("depth");
  auto& h = reg.histogram("latency_seconds");
  auto& sc = reg.settable_counter("cpu_seconds_total");
  c.add(10);
  u.add(-2);
  g.set(4.0);
  h.record(0.5);
  sc.set(1.5);
  for (auto* n : {"jobs_total", "inflight", "depth", "latency_seconds", "cpu_seconds_total"})
    ASSERT_TRUE(reg.remove(n)) << n;
  // Not recorded into: they stay away, snapshot after snapshot.
  EXPECT_EQ(user_series(reg.snapshot()), 0u);
  EXPECT_EQ(user_series(reg.snapshot()), 0u);
  g.set(4.0); // the same value: indistinguishable from no change (documented)
  EXPECT_EQ(reg.snapshot().find_gauge("depth"), nullptr);
  c.add(1);
  u.add(1);
  g.set(5.0);
  h.record(0.5);
  sc.set(2.0);
  auto s = reg.snapshot();
  ASSERT_NE(s.find_counter("jobs_total"), nullptr);
  EXPECT_EQ(s.find_counter("jobs_total")->value(), 11u);
  ASSERT_NE(s.find_updown_counter("inflight"), nullptr);
  EXPECT_EQ(s.find_updown_counter("inflight")->value(), -1);
  ASSERT_NE(s.find_gauge("depth"), nullptr);
  EXPECT_EQ(s.find_gauge("depth")->value(), 5.0);
  ASSERT_NE(s.find_histogram("latency_seconds"), nullptr);
  EXPECT_EQ(s.find_histogram("latency_seconds")->count(), 2u);
  ASSERT_NE(s.find_gauge("cpu_seconds_total"), nullptr);
  EXPECT_EQ(s.find_gauge("cpu_seconds_total")->value(), 2.0);
  ASSERT_NE(s.find_family("cpu_seconds_total"), nullptr);
  EXPECT_TRUE(s.find_family("cpu_seconds_total")->monotonic);
  EXPECT_EQ(reg.size(), 5u);
  EXPECT_EQ(reg.retired(), 0u);
}

TEST(registry_lifecycle, a_series_not_recorded_into_for_idle_expiry_is_retired_at_a_snapshot) {
  manual_clock clock;
  metron::registry reg{metron::registry_config{.idle_expiry = 10s, .clock = clock.fn()}};
  auto& busy = reg.counter("busy_total");
  auto& quiet = reg.counter("quiet_total");
  auto& h = reg.histogram("quiet_seconds");
  quiet.add(2);
  h.record(1.0);
  for (int t = 0; t < 9; ++t) { // 9 s of ticks: quiet changed at 0 s, not since
    busy.add();
    auto s = reg.snapshot();
    EXPECT_NE(s.find_counter("quiet_total"), nullptr) << t;
    EXPECT_EQ(s.mono_ns, clock.ns.load()); // the injected clock is the snapshot's clock
    clock.advance(1s);
  }
  busy.add();
  clock.advance(1s); // 10 s since quiet last changed
  auto s = reg.snapshot();
  EXPECT_EQ(s.find_counter("quiet_total"), nullptr);
  EXPECT_EQ(s.find_histogram("quiet_seconds"), nullptr);
  ASSERT_NE(s.find_counter("busy_total"), nullptr);
  EXPECT_EQ(retired_total(s, "idle"), 2u);
  EXPECT_EQ(reg.retired_idle(), 2u);
  EXPECT_EQ(reg.size(), 1u);
  // busy stops: 10 s later it goes too.
  clock.advance(10s);
  EXPECT_EQ(reg.snapshot().find_counter("busy_total"), nullptr);
  // A retired one recorded into comes back, total continuing, and its idle time restarts.
  quiet.add(3);
  clock.advance(1s);
  s = reg.snapshot();
  ASSERT_NE(s.find_counter("quiet_total"), nullptr);
  EXPECT_EQ(s.find_counter("quiet_total")->value(), 5u);
  clock.advance(9s);
  EXPECT_NE(reg.snapshot().find_counter("quiet_total"), nullptr);
  clock.advance(1s);
  EXPECT_EQ(reg.snapshot().find_counter("quiet_total"), nullptr);
}

TEST(registry_lifecycle, without_idle_expiry_nothing_expires) {
  manual_clock clock;
  metron::registry reg{metron::registry_config{.clock = clock.fn()}};
  reg.counter("quiet_total");
  reg.snapshot();
  clock.advance(std::chrono::hours{24 * 365});
  EXPECT_NE(reg.snapshot().find_counter("quiet_total"), nullptr);
  EXPECT_EQ(reg.retired_idle(), 0u);
}

TEST(registry_lifecycle, limits_count_only_live_series) {
  metron::registry reg{metron::registry_config{.max_label_sets = 2, .max_series = 3}};
  auto& a = reg.counter("req_total", {{"user", "a"}});
  reg.counter("req_total", {{"user", "b"}});
  EXPECT_THROW(reg.counter("req_total", {{"user", "c"}}), std::length_error);
  ASSERT_TRUE(reg.remove("req_total", {{"user", "a"}}));
  auto& c = reg.counter("req_total", {{"user", "c"}}); // a's place is free
  // Asking for the retired a is a registration: the limit applies.
  EXPECT_THROW(reg.counter("req_total", {{"user", "a"}}), std::length_error);
  EXPECT_EQ(reg.rejected_label_sets(), 2u);
  // Its handle recorded into comes back anyway (nothing recorded is lost), over the limit.
  a.add(4);
  auto s = reg.snapshot();
  ASSERT_NE(s.find_counter("req_total", {{"user", "a"}}), nullptr);
  EXPECT_EQ(s.find_counter("req_total", {{"user", "a"}})->value(), 4u);
  EXPECT_EQ(reg.size(), 3u);
  EXPECT_THROW(reg.counter("req_total", {{"user", "d"}}), std::length_error);
  // max_series counts live series only, too.
  EXPECT_THROW(reg.gauge("g"), std::length_error);
  EXPECT_EQ(reg.rejected_series(), 1u);
  ASSERT_TRUE(reg.remove("req_total", {{"user", "c"}}));
  ASSERT_TRUE(reg.remove("req_total", {{"user", "a"}}));
  EXPECT_NO_THROW(reg.gauge("g"));
  EXPECT_NO_THROW(reg.gauge("h"));
  EXPECT_THROW(reg.gauge("i"), std::length_error);
  ASSERT_TRUE(reg.remove("h"));
  EXPECT_EQ(&reg.counter("req_total", {{"user", "c"}}), &c);
}

TEST(registry_lifecycle, with_the_overflow_action_new_label_sets_beyond_the_limit_share_one_overflow_series) {
  metron::registry reg{metron::registry_config{.max_label_sets = 2,
                                               .label_set_limit_action = metron::on_limit::overflow}};
  auto& a = reg.counter("req_total", {{"user", "a"}});
  reg.counter("req_total", {{"user", "b"}});
  auto& o1 = reg.counter("req_total", {{"user", "c"}});
  auto& o2 = reg.counter("req_total", {{"user", "d"}});
  EXPECT_EQ(&o1, &o2);
  EXPECT_NE(&o1, &a);
  EXPECT_EQ(&reg.counter("req_total", {{"otel_overflow", "true"}}), &o1);
  EXPECT_EQ(reg.rejected_label_sets(), 2u); // each refusal still counted
  o1.add(2);
  o2.add(3);
  auto& hist_over = reg.histogram("lat_seconds", {{"p", "1"}});
  reg.histogram("lat_seconds", {{"p", "2"}});
  auto& h = reg.histogram("lat_seconds", {{"p", "3"}}); // a histogram's overflow series is a histogram
  EXPECT_NE(&h, &hist_over);
  h.record(0.1);
  auto s = reg.snapshot();
  ASSERT_NE(s.find_counter("req_total", {{"otel_overflow", "true"}}), nullptr);
  EXPECT_EQ(s.find_counter("req_total", {{"otel_overflow", "true"}})->value(), 5u);
  EXPECT_EQ(s.find_counter("req_total", {{"user", "c"}}), nullptr);
  ASSERT_NE(s.find_histogram("lat_seconds", {{"otel_overflow", "true"}}), nullptr);
  EXPECT_EQ(s.find_histogram("lat_seconds", {{"otel_overflow", "true"}})->count(), 1u);
  auto* refusals = s.find_counter("metron_registry_refusals_total", {{"reason", "label_sets"}});
  ASSERT_NE(refusals, nullptr);
  EXPECT_EQ(refusals->value(), 3u);
  // The overflow series is outside the limit: removing a frees a place for a real one.
  ASSERT_TRUE(reg.remove("req_total", {{"user", "a"}}));
  auto& e = reg.counter("req_total", {{"user", "e"}});
  EXPECT_NE(&e, &o1);
}

TEST(registry_lifecycle, with_the_overflow_action_max_series_sends_known_names_to_their_overflow_series) {
  metron::registry reg{metron::registry_config{.max_series = 2,
                                               .label_set_limit_action = metron::on_limit::overflow}};
  reg.counter("req_total", {{"user", "a"}});
  reg.counter("req_total", {{"user", "b"}});
  auto& o = reg.counter("req_total", {{"user", "c"}});
  EXPECT_EQ(&reg.counter("req_total", {{"otel_overflow", "true"}}), &o);
  EXPECT_EQ(reg.rejected_series(), 1u);
  EXPECT_THROW(reg.gauge("new_name"), std::length_error); // a new name has no overflow series
  EXPECT_EQ(reg.rejected_series(), 2u);
}

TEST(registry_lifecycle, a_removed_overflow_series_comes_back_when_needed) {
  metron::registry reg{metron::registry_config{.max_label_sets = 1,
                                               .label_set_limit_action = metron::on_limit::overflow}};
  reg.gauge("temp", {{"room", "a"}});
  auto& o = reg.gauge("temp", {{"room", "b"}});
  o.set(1.0);
  ASSERT_TRUE(reg.remove("temp", {{"otel_overflow", "true"}}));
  EXPECT_EQ(reg.snapshot().find_gauge("temp", {{"otel_overflow", "true"}}), nullptr);
  EXPECT_EQ(&reg.gauge("temp", {{"room", "c"}}), &o);
  EXPECT_NE(reg.snapshot().find_gauge("temp", {{"otel_overflow", "true"}}), nullptr);
}

// metron's own rates (aggregation): a returning series' rate and window increase are
// taken against its last total before it left, never its whole total.
TEST(registry_lifecycle, a_returning_series_rate_continues_from_its_last_total_in_the_aggregation) {
  manual_clock clock;
  metron::registry reg{metron::registry_config{.clock = clock.fn()}};
  metron::aggregation agg{metron::aggregation_config{.quantiles = {0.5}, .windows = {std::chrono::seconds{60}}}};
  auto& c = reg.counter("jobs_total");
  auto& h = reg.histogram("job_seconds");
  c.add(100);
  for (int i = 0; i < 100; ++i)
    h.record(0.01);
  agg.tick(reg.snapshot());
  ASSERT_TRUE(reg.remove("jobs_total"));
  ASSERT_TRUE(reg.remove("job_seconds"));
  clock.advance(1s);
  auto away = agg.tick(reg.snapshot());
  EXPECT_EQ(away->find_counter_figures("jobs_total"), nullptr);
  c.add(10);
  for (int i = 0; i < 10; ++i)
    h.record(0.02);
  clock.advance(1s);
  auto back = agg.tick(reg.snapshot());
  auto* cf = back->find_counter_figures("jobs_total");
  ASSERT_NE(cf, nullptr);
  EXPECT_DOUBLE_EQ(cf->rate, 10.0); // 10 over 1 s, not 110
  ASSERT_EQ(cf->windows.size(), 1u);
  EXPECT_DOUBLE_EQ(cf->windows[0].increase, 10.0);
  auto* hf = back->find_histogram_figures("job_seconds");
  ASSERT_NE(hf, nullptr);
  EXPECT_DOUBLE_EQ(hf->rate, 10.0);
  EXPECT_DOUBLE_EQ(hf->windows[0].increase, 10.0);
  EXPECT_NEAR(hf->windows[0].quantiles[0].value, 0.02, 0.02 * metron::bucket_layout::relative_error);
  // A series never seen before still counts from zero.
  reg.counter("new_total").add(5);
  clock.advance(1s);
  auto fresh = agg.tick(reg.snapshot());
  EXPECT_DOUBLE_EQ(fresh->find_counter_figures("new_total")->rate, 5.0);
}

// The aggregation walks its kept totals only when a series vanished or appeared; a
// series retired many quiet ticks ago (and another retired in between) still returns
// with its rate counted from its last total.
TEST(registry_lifecycle, kept_totals_survive_quiet_ticks_and_later_retirements) {
  manual_clock clock;
  metron::registry reg{metron::registry_config{.clock = clock.fn()}};
  metron::aggregation agg{metron::aggregation_config{.quantiles = {}, .windows = {}}};
  auto& a = reg.counter("a_total");
  auto& b = reg.counter("b_total");
  reg.counter("live_total").add(1);
  a.add(1000);
  b.add(2000);
  agg.tick(reg.snapshot());
  ASSERT_TRUE(reg.remove("a_total"));
  for (int i = 0; i < 5; ++i) { // quiet ticks: nothing vanishes, nothing appears
    clock.advance(1s);
    agg.tick(reg.snapshot());
  }
  ASSERT_TRUE(reg.remove("b_total"));
  clock.advance(1s);
  agg.tick(reg.snapshot());
  a.add(3);
  clock.advance(1s);
  auto r = agg.tick(reg.snapshot());
  ASSERT_NE(r->find_counter_figures("a_total"), nullptr);
  EXPECT_DOUBLE_EQ(r->find_counter_figures("a_total")->rate, 3.0); // not 1003
  b.add(4);
  clock.advance(1s);
  r = agg.tick(reg.snapshot());
  ASSERT_NE(r->find_counter_figures("b_total"), nullptr);
  EXPECT_DOUBLE_EQ(r->find_counter_figures("b_total")->rate, 4.0); // not 2004
}

// Threads record through handles taken once while another thread removes, re-gets,
// snapshots and expires (a manual clock moved by the same thread). Checked against
// the single-threaded truth: every snapshot's totals never go down, and once all is
// re-registered the totals are exactly what was recorded.
TEST(registry_lifecycle, recording_races_with_remove_expiry_and_snapshots_and_loses_nothing) {
  manual_clock clock;
  metron::registry reg{metron::registry_config{.idle_expiry = 2s, .clock = clock.fn()}};
  constexpr int series = 8;
  const int threads = 4;
  const std::uint64_t adds = metron::test::scaled(200000);
  std::vector<metron::counter*> counters;
  std::vector<metron::histogram*> histograms;
  for (int i = 0; i < series; ++i) {
    counters.push_back(&reg.counter("race_total", {{"i", std::to_string(i)}}));
    histograms.push_back(&reg.histogram("race_seconds", {{"i", std::to_string(i)}}));
  }
  std::atomic<bool> done{false};
  std::thread churn([&] {
    std::map<std::string, std::uint64_t> last; // label -> highest total seen
    std::uint64_t round = 0;
    while (!done.load(std::memory_order_acquire)) { // acquire: pairs with the release after the join
      auto i = std::to_string(round % series);
      if (round % 3 == 0)
        reg.remove("race_total", {{"i", i}});
      if (round % 5 == 0)
        reg.remove("race_seconds", {{"i", i}});
      if (round % 7 == 0)
        reg.counter("race_total", {{"i", i}}); // re-registers (or finds) the same object
      clock.advance(500ms);
      auto s = reg.snapshot();
      for (auto& c : s.counters) {
        if (c.name() != "race_total")
          continue;
        auto& hi = last[c.labels().front().second];
        EXPECT_GE(c.value(), hi) << "a total went down";
        hi = c.value();
      }
      ++round;
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (std::uint64_t k = 0; k < adds; ++k) {
        auto i = static_cast<std::size_t>((k + static_cast<std::uint64_t>(t)) % series);
        counters[i]->add();
        histograms[i]->record(0.001 * static_cast<double>(i + 1));
      }
    });
  for (auto& w : workers)
    w.join();
  done.store(true, std::memory_order_release); // release: pairs with the acquire in the churn loop
  churn.join();
  // Let everything expire (the first look records the last changes), then re-register
  // it all at one clock reading and check the totals.
  for (int k = 0; k < 2; ++k) {
    clock.advance(3s);
    reg.snapshot();
  }
  EXPECT_EQ(reg.size(), 0u);
  for (int i = 0; i < series; ++i) {
    EXPECT_EQ(&reg.counter("race_total", {{"i", std::to_string(i)}}), counters[static_cast<std::size_t>(i)]);
    reg.histogram("race_seconds", {{"i", std::to_string(i)}});
  }
  auto s = reg.snapshot();
  std::uint64_t total = 0, count = 0;
  for (int i = 0; i < series; ++i) {
    auto* c = s.find_counter("race_total", {{"i", std::to_string(i)}});
    auto* h = s.find_histogram("race_seconds", {{"i", std::to_string(i)}});
    ASSERT_NE(c, nullptr);
    ASSERT_NE(h, nullptr);
    total += c->value();
    count += h->count();
  }
  EXPECT_EQ(total, adds * threads);
  EXPECT_EQ(count, adds * threads);
}
