// monitor_config from CAF's configuration (metron.* options).
#include <gtest/gtest.h>

#include <sstream>

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
                                "--metron.quantiles=[0.5, 0.95]", "--metron.windows=[10s, 1min]"};
  ASSERT_FALSE(cfg.parse(args));
  auto m = metron::monitor_config::from(cfg);
  EXPECT_EQ(m.interval, 250ms);
  EXPECT_EQ(m.credit, 7u);
  EXPECT_EQ(m.max_restarts, 2u);
  EXPECT_EQ(m.restart_period, 30s);
  EXPECT_EQ(m.quantiles, (std::vector<double>{0.5, 0.95}));
  EXPECT_EQ(m.windows, (std::vector<std::chrono::seconds>{10s, 60s}));
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

} // namespace
