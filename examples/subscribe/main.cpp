// subscribe: an actor subscribes to a monitor and raises an alert when the p99
// latency of the last tick crosses a threshold.
//
// The watcher compares each snapshot with the previous one (histogram_snapshot::
// minus), so its p99 covers exactly the requests recorded since the last tick, not
// everything since start. It reports each tick that saw requests, and says ALERT
// once when p99 goes over the threshold (and "recovered" when it comes back).
//
// main records 1000 fast requests (0.5-2 ms), waits until the watcher has seen them,
// then a burst of 50 slow ones (250 ms) and waits for the alert.
#include <metron/actors.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

using seen_atom = caf::atom_constant<caf::atom("seen")>;   // watcher -> main: requests seen so far
using alert_atom = caf::atom_constant<caf::atom("alert")>; // watcher -> main: p99 over the threshold

constexpr double threshold = 0.100; // seconds

struct watcher_state {
  metron::histogram_snapshot previous; // the histogram at the previous tick
  bool alerting = false;
};

// A typed subscriber: the monitor accepts only actors with this one handler.
metron::subscriber_actor::behavior_type watcher(metron::subscriber_actor::stateful_pointer<watcher_state> self,
                                                caf::actor main_actor) {
  return {
    [=](const metron::report_ptr& s) {
      const metron::histogram_snapshot* h = s->find_histogram("request_latency_seconds");
      if (h == nullptr)
        return;
      metron::histogram_snapshot tick = h->minus(self->state.previous); // this tick's requests
      self->state.previous = *h;
      if (tick.count() > 0) {
        double p99 = tick.quantile(0.99);
        bool over = p99 > threshold;
        std::printf("tick %llu: %llu requests, p99 %.1f ms%s\n", static_cast<unsigned long long>(s->sequence()),
                    static_cast<unsigned long long>(tick.count()), p99 * 1e3, over ? "" : " (ok)");
        if (over && !self->state.alerting) {
          std::printf("ALERT: p99 %.1f ms is over the %.0f ms threshold\n", p99 * 1e3, threshold * 1e3);
          caf::anon_send(main_actor, alert_atom::value, p99);
        } else if (!over && self->state.alerting) {
          std::printf("recovered: p99 %.1f ms\n", p99 * 1e3);
        }
        self->state.alerting = over;
        std::fflush(stdout);
      }
      caf::anon_send(main_actor, seen_atom::value, h->count());
    }, // returning acknowledges the report to the monitor
  };
}

struct quiet_config : caf::actor_system_config {
  quiet_config() {
    set("logger.console", caf::atom("none"));
    set("logger.file-verbosity", caf::atom("quiet"));
  }
};

} // namespace

int main() {
  metron::registry reg; // any declaration order is safe (the monitor stops if reg goes first)
  auto& latency = reg.histogram("request_latency_seconds");
  quiet_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  metron::monitor_config mcfg;
  mcfg.interval = 50ms;
  auto mon = metron::spawn_monitor(sys, reg, mcfg);
  auto w = sys.spawn(watcher, caf::actor{self});
  self->send(mon, metron::subscribe_atom::value, w, std::string{"request_"}); // only request_* series
  std::printf("watching request_latency_seconds: alert when the p99 of a tick is over %.0f ms\n", threshold * 1e3);

  bool failed = false;
  auto wait_until_seen = [&](std::uint64_t n) {
    std::uint64_t seen = 0;
    self->receive_while([&] { return seen < n && !failed; })(
      [&](seen_atom, std::uint64_t count) { seen = count; },
      [&](alert_atom, double) { std::printf("unexpected alert\n"), failed = true; },
      caf::after(10s) >> [&] { std::printf("timeout: the watcher saw %llu of %llu requests\n",
                                            static_cast<unsigned long long>(seen), static_cast<unsigned long long>(n)), failed = true; });
  };

  for (int i = 0; i < 1000; ++i)
    latency.record(0.0005 + 0.0015 * (i % 100) / 99.0); // 0.5 .. 2 ms
  wait_until_seen(1000);

  std::printf("recording a burst of 50 slow requests (250 ms)\n");
  std::fflush(stdout);
  for (int i = 0; i < 50; ++i)
    latency.record(0.250);
  bool alerted = false;
  while (!alerted && !failed)
    self->receive([&](alert_atom, double) { alerted = true; }, [&](seen_atom, std::uint64_t) {},
                  caf::after(10s) >> [&] { std::printf("timeout: no alert\n"), failed = true; });

  caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
  std::printf(failed ? "FAILED\n" : "done: the alert fired after the slow burst\n");
  return failed ? 1 : 0;
}
