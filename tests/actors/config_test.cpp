// monitor_config from CAF's configuration (metron.* options).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "metron/actors.hpp"

using namespace std::chrono_literals;

namespace {

struct metron_config : caf::actor_system_config {
  metron_config() { metron::add_monitor_options(*this); }
};

TEST(monitor_config, defaults_are_kept_when_nothing_is_configured) {
  metron_config cfg;
  auto m = metron::monitor_config::from(cfg);
  metron::monitor_config d;
  EXPECT_EQ(m.interval, d.interval);
  EXPECT_EQ(m.quantiles, d.quantiles);
  EXPECT_EQ(m.windows, d.windows);
  EXPECT_EQ(m.credit, d.credit);
  EXPECT_EQ(m.max_restarts, d.max_restarts);
  EXPECT_EQ(m.restart_period, d.restart_period);
}

TEST(monitor_config, command_line_options_with_the_metron_prefix_are_read) {
  metron_config cfg;
  std::vector<std::string> args{"--metron.interval=250ms", "--metron.credit=7",
                                "--metron.max-restarts=2", "--metron.restart-period=30s",
                                "--metron.quantiles=[0.5, 0.95]", "--metron.windows=[10s, 1min]",
                                "--metron.detached"};
  ASSERT_FALSE(cfg.parse(args));
  auto m = metron::monitor_config::from(cfg);
  EXPECT_EQ(m.interval, 250ms);
  EXPECT_EQ(m.credit, 7u);
  EXPECT_EQ(m.max_restarts, 2u);
  EXPECT_EQ(m.restart_period, 30s);
  EXPECT_EQ(m.quantiles, (std::vector<double>{0.5, 0.95}));
  EXPECT_EQ(m.windows, (std::vector<std::chrono::seconds>{10s, 60s}));
  EXPECT_TRUE(m.detached);
}

TEST(monitor_config, an_ini_file_section_metron_is_read) {
  metron_config cfg;
  std::istringstream ini{"[metron]\ninterval=2s\ncredit=9\n"};
  ASSERT_FALSE(cfg.parse(std::vector<std::string>{}, ini));
  auto m = metron::monitor_config::from(cfg);
  EXPECT_EQ(m.interval, 2000ms);
  EXPECT_EQ(m.credit, 9u);
}

TEST(monitor_config, a_bad_interval_is_rejected_at_spawn) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  metron::registry reg;
  metron::monitor_config m;
  m.interval = 0ms;
  EXPECT_THROW(metron::spawn_monitor(sys, reg, m), std::invalid_argument);
  m.interval = 100ms;
  m.quantiles = {-0.1};
  EXPECT_THROW(metron::spawn_monitor(sys, reg, m), std::invalid_argument);
}

// The message of the std::invalid_argument validate() throws, or "" if it accepts.
std::string refusal(const metron::monitor_config& m) {
  try {
    metron::validate(m);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

using lim = metron::monitor_limits;

TEST(monitor_config, the_defaults_and_every_limit_itself_are_accepted) {
  metron::monitor_config m;
  EXPECT_EQ(refusal(m), "");
  m.interval = lim::min_interval;
  m.credit = lim::min_credit;
  m.max_restarts = 0;
  m.restart_period = lim::min_restart_period;
  m.windows = {lim::min_window};
  m.quantiles = {0.0, 1.0};
  EXPECT_EQ(refusal(m), "");
  m.interval = lim::max_interval;
  m.credit = lim::max_credit;
  m.max_restarts = lim::max_max_restarts;
  m.restart_period = lim::max_restart_period;
  m.windows.assign(lim::max_windows, lim::max_window);
  m.quantiles.assign(lim::max_quantiles, 0.5);
  EXPECT_EQ(refusal(m), "");
  m.windows.clear();
  m.quantiles.clear();
  EXPECT_EQ(refusal(m), "");
}

TEST(monitor_config, a_knob_outside_its_range_is_refused_with_its_name_value_and_range) {
  struct bad_case {
    const char* knob;
    void (*spoil)(metron::monitor_config&);
  };
  const bad_case cases[] = {
    {"interval = 0 ms", [](metron::monitor_config& m) { m.interval = 0ms; }},
    {"interval = -5 ms", [](metron::monitor_config& m) { m.interval = -5ms; }},
    {"interval = 86400001 ms", [](metron::monitor_config& m) { m.interval = lim::max_interval + 1ms; }},
    {"interval = 9223372036854775807 ms",
     [](metron::monitor_config& m) { m.interval = std::chrono::milliseconds::max(); }},
    {"quantiles[i]", [](metron::monitor_config& m) { m.quantiles = {0.5, 1.5}; }},
    {"quantiles[i]", [](metron::monitor_config& m) { m.quantiles = {-0.01}; }},
    {"quantiles[i]", [](metron::monitor_config& m) { m.quantiles = {std::nan("")}; }},
    {"quantiles.size() = 33", [](metron::monitor_config& m) { m.quantiles.assign(33, 0.5); }},
    {"windows[i] = 0 s", [](metron::monitor_config& m) { m.windows = {60s, 0s}; }},
    {"windows[i] = 604801 s", [](metron::monitor_config& m) { m.windows = {lim::max_window + 1s}; }},
    {"windows[i]", [](metron::monitor_config& m) { m.windows = {std::chrono::seconds::max()}; }},
    {"windows[i]", [](metron::monitor_config& m) { m.windows = {std::chrono::seconds::min()}; }},
    {"windows.size() = 9", [](metron::monitor_config& m) { m.windows.assign(9, 60s); }},
    {"credit = 0", [](metron::monitor_config& m) { m.credit = 0; }},
    {"credit = 1025", [](metron::monitor_config& m) { m.credit = 1025; }},
    {"credit", [](metron::monitor_config& m) { m.credit = std::numeric_limits<std::size_t>::max(); }},
    {"max_restarts = 1001", [](metron::monitor_config& m) { m.max_restarts = 1001; }},
    {"restart_period = 0 s", [](metron::monitor_config& m) { m.restart_period = 0s; }},
    {"restart_period", [](metron::monitor_config& m) { m.restart_period = std::chrono::seconds::max(); }},
  };
  for (auto& c : cases) {
    metron::monitor_config m;
    c.spoil(m);
    auto what = refusal(m);
    EXPECT_NE(what.find(std::string{"monitor_config."} + c.knob), std::string::npos)
      << c.knob << ": got \"" << what << "\"";
    EXPECT_NE(what.find("is outside ["), std::string::npos) << what;
  }
}

TEST(monitor_config, spawn_monitor_refuses_a_config_outside_the_limits) {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  metron::registry reg;
  metron::monitor_config m;
  m.credit = 0;
  EXPECT_THROW(metron::spawn_monitor(sys, reg, m), std::invalid_argument);
  m.credit = 4;
  m.interval = std::chrono::milliseconds::max(); // would overflow a nanosecond timespan
  EXPECT_THROW(metron::spawn_monitor(sys, reg, m), std::invalid_argument);
}

TEST(monitor_config, interval_in_range_holds_exactly_between_the_limits) {
  EXPECT_FALSE(metron::interval_in_range(caf::timespan{1}));
  EXPECT_FALSE(metron::interval_in_range(caf::timespan{999'999}));
  EXPECT_TRUE(metron::interval_in_range(caf::timespan{1'000'000}));
  EXPECT_TRUE(metron::interval_in_range(24h));
  EXPECT_FALSE(metron::interval_in_range(24h + 1ns));
  EXPECT_FALSE(metron::interval_in_range(caf::timespan::max()));
  EXPECT_FALSE(metron::interval_in_range(caf::timespan::min()));
  EXPECT_FALSE(metron::interval_in_range(caf::timespan{0}));
}

} // namespace

namespace {

TEST(registry_config_from, defaults_are_kept_when_nothing_is_configured) {
  metron_config cfg;
  auto r = metron::registry_config_from(cfg);
  metron::registry_config d;
  EXPECT_EQ(r.max_label_sets, d.max_label_sets);
  EXPECT_EQ(r.max_series, d.max_series);
  EXPECT_EQ(r.idle_expiry, d.idle_expiry);
  EXPECT_EQ(r.label_set_limit_action, metron::on_limit::throw_error);
}

TEST(registry_config_from, metron_registry_options_reach_a_working_registry) {
  metron_config cfg;
  std::vector<std::string> args{"--metron.registry.max-label-sets=2", "--metron.registry.max-series=50",
                                "--metron.registry.idle-expiry=90s", "--metron.registry.on-limit=overflow",
                                "--metron.slowest=3"};
  ASSERT_FALSE(cfg.parse(args));
  auto r = metron::registry_config_from(cfg);
  EXPECT_EQ(r.max_label_sets, 2u);
  EXPECT_EQ(r.max_series, 50u);
  EXPECT_EQ(r.idle_expiry, std::chrono::seconds{90});
  EXPECT_EQ(r.label_set_limit_action, metron::on_limit::overflow);
  EXPECT_EQ(metron::monitor_config::from(cfg).aggregation().slowest, 3u);
  // The limits act: a third label set goes to the overflow series instead of throwing.
  metron::registry reg{r};
  reg.counter("hits_total", {{"user", "a"}}).add(1);
  reg.counter("hits_total", {{"user", "b"}}).add(1);
  reg.counter("hits_total", {{"user", "c"}}).add(5);
  auto s = reg.snapshot();
  auto* overflow = s.find_counter("hits_total", {{"otel_overflow", "true"}});
  ASSERT_NE(overflow, nullptr);
  EXPECT_EQ(overflow->total, 5u);
  EXPECT_EQ(reg.rejected_label_sets(), 1u);
}

TEST(registry_config_from, bad_values_are_refused_with_the_key_named) {
  auto refused = [](std::vector<std::string> args) -> std::string {
    metron_config cfg;
    if (cfg.parse(args))
      return "parse error";
    try {
      metron::registry_config_from(cfg);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return {};
  };
  EXPECT_NE(refused({"--metron.registry.on-limit=drop"}).find("metron.registry.on-limit"), std::string::npos);
  EXPECT_NE(refused({"--metron.registry.max-label-sets=0"}).find("max-label-sets"), std::string::npos);
  EXPECT_NE(refused({"--metron.registry.max-series=0"}).find("max-series"), std::string::npos);
  EXPECT_NE(refused({"--metron.registry.idle-expiry=-5s"}).find("idle-expiry"), std::string::npos);
  EXPECT_EQ(refused({"--metron.registry.on-limit=throw"}), "");
}

TEST(monitor_config, slowest_beyond_its_limit_is_refused) {
  metron::monitor_config m;
  m.slowest = metron::monitor_limits::max_slowest + 1;
  EXPECT_THROW(metron::validate(m), std::invalid_argument);
  m.slowest = 0;
  EXPECT_NO_THROW(metron::validate(m));
}

} // namespace

namespace quiet {

TEST(quiet_scheduler, sets_the_two_work_stealing_keys) {
  caf::actor_system_config cfg;
  metron::quiet_scheduler(cfg, 250ms);
  EXPECT_EQ(caf::get_or(cfg, "work-stealing.moderate-poll-attempts", std::size_t{500}), 0u);
  EXPECT_EQ(caf::get_or(cfg, "work-stealing.relaxed-sleep-duration", caf::timespan{0}), caf::timespan{250ms});
  EXPECT_THROW(metron::quiet_scheduler(cfg, caf::timespan{0}), std::invalid_argument);
}

TEST(quiet_scheduler, a_config_file_or_command_line_still_wins) {
  caf::actor_system_config cfg;
  metron::quiet_scheduler(cfg);
  std::istringstream ini{"[work-stealing]\nmoderate-poll-attempts=7\n"};
  ASSERT_FALSE(cfg.parse(std::vector<std::string>{"--work-stealing.relaxed-sleep-duration=20ms"}, ini));
  EXPECT_EQ(caf::get_or(cfg, "work-stealing.moderate-poll-attempts", std::size_t{0}), 7u);
  EXPECT_EQ(caf::get_or(cfg, "work-stealing.relaxed-sleep-duration", caf::timespan{0}), caf::timespan{20ms});
}

// A monitor in a system of two quiet workers ticks and reaches its subscriber: the
// workers sleep on their condition variables between ticks and the timer wakes them.
TEST(quiet_scheduler, a_monitor_still_ticks_and_delivers_every_value) {
  metron::registry reg;
  auto& hits = reg.counter("hits_total");
  caf::actor_system_config cfg;
  metron::quiet_scheduler(cfg, 1s); // longer than the test's ticks: only wake-ups can deliver them
  cfg.set("scheduler.max-threads", std::size_t{2});
  caf::actor_system sys{cfg};
  metron::monitor_config mc;
  mc.interval = 20ms;
  auto mon = metron::spawn_monitor(sys, reg, mc);
  caf::scoped_actor self{sys};
  self->send(mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(self));
  std::uint64_t seen = 0;
  std::size_t reports = 0;
  auto deadline = std::chrono::steady_clock::now() + 30s; // bounds a hang, not a speed
  for (std::uint64_t want = 1; want <= 5 && std::chrono::steady_clock::now() < deadline; ++want) {
    hits.add(1);
    while (seen < want && std::chrono::steady_clock::now() < deadline)
      self->receive(
        [&](const metron::report_ptr& r) {
          ++reports;
          if (auto* c = r ? r->find_counter("hits_total") : nullptr)
            seen = c->total;
        },
        caf::after(std::chrono::seconds{1}) >> [] {});
  }
  EXPECT_EQ(seen, 5u);
  EXPECT_GE(reports, 5u);
  self->send_exit(mon, caf::exit_reason::user_shutdown);
}

} // namespace quiet
