// The view actor on CAF's deterministic test coordinator: it subscribes, redraws in
// place per tick (or every n-th), appends plain frames, restores the cursor at exit.
#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "metron/actors.hpp"
#include "metron/console/view.hpp"
#include "support.hpp"

using namespace std::chrono_literals;

namespace {

struct coordinator_config : caf::actor_system_config {
  coordinator_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.file-verbosity", caf::atom("quiet"));
    set("logger.console", caf::atom("none"));
  }
};

std::size_t occurrences(const std::string& s, const std::string& needle) {
  std::size_t n = 0;
  for (auto i = s.find(needle); i != std::string::npos; i = s.find(needle, i + needle.size()))
    ++n;
  return n;
}

class view : public ::testing::Test {
protected:
  view() : sys(cfg), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    sched.clock().current_time += std::chrono::hours(1);
  }
  ~view() override {
    if (console)
      caf::anon_send_exit(console, caf::exit_reason::user_shutdown);
    if (mon)
      caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
    run();
  }
  void run() {
    while (sched.try_run_once()) {
    }
  }
  void tick() {
    sched.advance_time(std::chrono::duration_cast<caf::timespan>(mcfg.interval));
    run();
  }
  void start(metron::console::view_config vc) {
    mon = metron::spawn_monitor(sys, reg, mcfg); // tick 1
    run();
    vc.out = &out;
    vc.fd = -1;
    console = metron::console::spawn_view(sys, mon, std::move(vc));
    run();
  }

  metron::registry reg;
  coordinator_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  metron::monitor_config mcfg;
  metron::monitor_actor mon;
  caf::actor console;
  std::ostringstream out;
};

} // namespace

TEST_F(view, it_draws_the_table_of_each_tick_in_place) {
  auto& h = reg.histogram("work_seconds");
  start({.options = {.title = "test-view", .width = 120}});
  EXPECT_EQ(out.str(), "\x1b[?25l"); // cursor hidden, nothing drawn before a tick
  h.record(0.003);
  tick();
  std::string first = out.str();
  EXPECT_NE(first.find("test-view — tick 2"), std::string::npos) << first;
  EXPECT_NE(first.find("work_seconds"), std::string::npos);
  EXPECT_NE(first.find("3.00ms"), std::string::npos);
  EXPECT_EQ(first.find("\x1b[1A"), std::string::npos); // nothing to move over yet
  auto frame_lines = occurrences(first, "\x1b[K\n");
  EXPECT_GE(frame_lines, 4u);
  tick();
  std::string both = out.str();
  std::string second = both.substr(first.size());
  EXPECT_EQ(second.rfind("\r\x1b[" + std::to_string(frame_lines) + "A", 0), 0u) << second;
  EXPECT_NE(second.find("test-view — tick 3"), std::string::npos);
  EXPECT_TRUE(second.ends_with("\x1b[J"));
}

TEST_F(view, it_shows_the_cursor_again_when_it_exits) {
  start({});
  tick();
  caf::anon_send_exit(console, caf::exit_reason::user_shutdown);
  run();
  EXPECT_TRUE(out.str().ends_with("\x1b[?25h")) << out.str();
  console = nullptr;
}

TEST_F(view, plain_mode_appends_every_nth_frame_from_a_custom_format) {
  reg.counter("jobs_total").add(5);
  start({.ansi = false,
         .every = 3,
         .format = [](const metron::report& s, const metron::console::history& h) {
           return "frame " + std::to_string(s.sequence()) + " updates " + std::to_string(h.updates()) + "\n";
         }});
  for (int i = 0; i < 7; ++i)
    tick(); // ticks 2..8: the 1st, 4th and 7th snapshots received are drawn
  EXPECT_EQ(out.str(), "frame 2 updates 1\nframe 5 updates 2\nframe 8 updates 3\n");
}

TEST_F(view, notes_are_computed_per_frame_and_the_prefix_filters_series) {
  reg.counter("app_requests_total").add(1);
  reg.counter("other_total").add(1);
  start({.prefix = "app_",
         .options = {.width = 120},
         .notes = [](const metron::report& s) {
           return std::vector<std::string>{"note for tick " + std::to_string(s.sequence())};
         }});
  tick();
  EXPECT_NE(out.str().find("note for tick 2\x1b[K\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("app_requests_total"), std::string::npos);
  EXPECT_EQ(out.str().find("other_total"), std::string::npos);
}

TEST(redraw, moves_up_clears_each_line_and_below) {
  EXPECT_EQ(metron::console::redraw("a\nb\n", 0), "a\x1b[K\nb\x1b[K\n\x1b[J");
  EXPECT_EQ(metron::console::redraw("a\n", 3), "\r\x1b[3Aa\x1b[K\n\x1b[J");
}
