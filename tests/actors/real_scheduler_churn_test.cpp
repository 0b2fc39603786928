// On CAF's real scheduler: subscriber churn (thousands of subscribers created and
// killed while the monitor ticks every 10 ms) leaves no subscriber behind and the
// monitor answers get afterwards; and a detached monitor keeps ticking while
// subscriber handlers block every scheduler worker. Waits are on condition
// variables (or polls of the registry) with generous deadlines that only bound a
// hang; nothing asserts on timing.
#include <gtest/gtest.h>

#include <memory>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "metron/actors.hpp"

using namespace std::chrono_literals;

namespace {

#ifdef METRON_TSAN
constexpr std::size_t churned_subscribers = 10000; // TSan is slower; same shape
#else
constexpr std::size_t churned_subscribers = 30000;
#endif

struct quiet_config : caf::actor_system_config {
  explicit quiet_config(std::size_t workers = 0) {
    set("logger.console", caf::atom("none"));
    if (workers > 0)
      set("scheduler.max-threads", workers);
  }
};

/// Polls `pred` every 10 ms until it holds or `deadline` passes (for state with no
/// event to wait on: a gauge in the registry).
template <class Pred>
bool poll_until(Pred pred, std::chrono::seconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end)
      return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST(real_scheduler_churn, churned_subscribers_are_all_removed_and_the_monitor_still_answers) {
  metron::registry reg;
  quiet_config cfg;
  caf::actor_system sys{cfg};
  auto own = std::make_shared<metron::registry>(); // the monitor's own metrics
  metron::monitor_config mcfg;
  mcfg.metrics = own;
  mcfg.interval = 10ms; // a publish to every listed subscriber 100 times a second
  auto mon = metron::spawn_monitor(sys, reg, mcfg);
  auto delivered = std::make_shared<std::atomic<std::size_t>>(0);
  // Subscribers live for the next 200 subscriptions (so most are subscribed and
  // receiving snapshots when killed); every fourth is killed right away, before
  // its subscription has reached the monitor.
  std::deque<caf::actor> live;
  double most_listed = 0;
  for (std::size_t i = 0; i < churned_subscribers; ++i) {
    auto sub = sys.spawn([delivered]() -> caf::behavior {
      return {[delivered](metron::report_ptr) {
        delivered->fetch_add(1, std::memory_order_relaxed); // relaxed: a count read once at the end, orders nothing
      }};
    });
    caf::anon_send(mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
    if (i % 4 == 0)
      caf::anon_send_exit(sub, caf::exit_reason::kill);
    else
      live.push_back(std::move(sub));
    if (live.size() > 200) {
      caf::anon_send_exit(live.front(), caf::exit_reason::kill);
      live.pop_front();
    }
    if (i % 500 == 0)
      most_listed = std::max(most_listed, own->gauge("metron_subscribers").value());
  }
  for (auto& sub : live)
    caf::anon_send_exit(sub, caf::exit_reason::kill);
  live.clear();
  EXPECT_TRUE(poll_until([&] { return own->gauge("metron_subscribers").value() == 0.0; }, 45s))
    << "subscribers still listed: " << own->gauge("metron_subscribers").value();
  caf::scoped_actor self{sys};
  metron::report_ptr s;
  self->request(mon, 10s, metron::get_atom::value)
    .receive([&](metron::report_ptr x) { s = std::move(x); },
             [&](caf::error& e) { ADD_FAILURE() << "get failed: " << sys.render(e); });
  ASSERT_NE(s, nullptr);
  // The churn was real: subscribers were listed and snapshots reached them.
  EXPECT_GT(most_listed + static_cast<double>(delivered->load()), 0.0);
  EXPECT_GT(s->sequence(), 1u);
  caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
}

/// Handlers that block until released, and a count of how many are blocked.
struct gate {
  std::mutex mtx;
  std::condition_variable cv;
  std::size_t blocked = 0;
  bool open = false;
};

/// Snapshots seen by the observer (a detached subscriber: its own thread).
struct tick_log {
  std::mutex mtx;
  std::condition_variable cv;
  std::uint64_t last_sequence = 0;
};

TEST(real_scheduler_churn, a_detached_monitor_keeps_ticking_while_blocking_handlers_hold_every_worker) {
  constexpr std::size_t workers = 2;
  metron::registry reg;
  quiet_config cfg{workers};
  caf::actor_system sys{cfg};
  auto own = std::make_shared<metron::registry>(); // the monitor's own metrics
  metron::monitor_config mcfg;
  mcfg.metrics = own;
  mcfg.interval = 10ms;
  mcfg.detached = true;
  auto mon = metron::spawn_monitor(sys, reg, mcfg);

  auto g = std::make_shared<gate>();
  std::vector<caf::actor> blockers;
  for (std::size_t i = 0; i < workers; ++i) {
    blockers.push_back(sys.spawn([g]() -> caf::behavior {
      return {[g](metron::report_ptr) {
        std::unique_lock<std::mutex> lock{g->mtx};
        ++g->blocked;
        g->cv.notify_all();
        g->cv.wait(lock, [&] { return g->open; }); // holds this scheduler worker
      }};
    }));
    caf::anon_send(mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(blockers.back()));
  }
  auto log = std::make_shared<tick_log>();
  auto observer = sys.spawn<caf::detached>([log]() -> caf::behavior {
    return {[log](metron::report_ptr s) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->last_sequence = s->sequence();
      log->cv.notify_all();
    }};
  });
  caf::anon_send(mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(observer));

  {
    std::unique_lock<std::mutex> lock{g->mtx};
    ASSERT_TRUE(g->cv.wait_for(lock, 30s, [&] { return g->blocked == workers; }))
      << "the blocking handlers never all ran";
  }
  // Every scheduler worker is now inside a blocked handler. The monitor's actors
  // have threads of their own, so ticks (and their delivery to the detached
  // observer) go on.
  std::uint64_t at_block;
  {
    std::lock_guard<std::mutex> guard{log->mtx};
    at_block = log->last_sequence;
  }
  {
    std::unique_lock<std::mutex> lock{log->mtx};
    EXPECT_TRUE(log->cv.wait_for(lock, 30s, [&] { return log->last_sequence >= at_block + 20; }))
      << "ticks stopped at sequence " << log->last_sequence << " (blocked at " << at_block << ")";
  }
  {
    std::lock_guard<std::mutex> guard{g->mtx};
    EXPECT_EQ(g->blocked, workers); // still blocked: the ticks above happened meanwhile
    g->open = true;
  }
  g->cv.notify_all();
  for (auto& b : blockers)
    caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(observer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
}

} // namespace
