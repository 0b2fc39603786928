// A test node: records the deterministic workload of workload.hpp, spawns a monitor,
// publishes it on 127.0.0.1 (port 0 = any, or --port to rebind after a restart) and
// prints "PORT <n>" on stdout. Then it serves until it is killed.
//   test_node --seed S --count N [--port P] [--interval-ms I] [--addr A]
// (--addr: the address to publish on, default 127.0.0.1; the partition test runs a
// node in a network namespace and publishes on its veth address.)
// Watch mode (a remote subscriber in its own process): connects to the monitor at
// 127.0.0.1:P, subscribes, and prints "TOTAL <work_items_total{kind="a"}>" per snapshot.
//   test_node --watch P
// --handshake-timeout-ms H / --idle-timeout-ms D / --max-connections C / --max-backlog B
// set the guard's bounds; --metrics M adds M counters (large snapshots); --credit C sets
// the monitor's credit per subscriber; refusals
// are counted in the node's registry (metron_remote_refusals_total{reason}).
// With --subscribers N, watch mode subscribes N actors (one prints, the others only ack).
// With --linger-ms L the node serves L ms, then tells its monitor to exit and returns
// from main (a clean shutdown; the test checks it completes).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <metron/remote.hpp>

#include "workload.hpp"

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  std::size_t count = 1000;
  unsigned port = 0;
  long interval_ms = 50;
  unsigned watch = 0;
  long linger_ms = 0;
  std::string addr = "127.0.0.1";
  long handshake_timeout_ms = 5000;
  long idle_timeout_ms = 60000;
  long subscribers = 1;
  long max_connections = 256;
  long max_backlog = 64l << 20;
  long extra_metrics = 0;
  long credit = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (key == "--count")
      count = std::strtoull(argv[i + 1], nullptr, 10);
    else if (key == "--port")
      port = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (key == "--interval-ms")
      interval_ms = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--linger-ms")
      linger_ms = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--addr")
      addr = argv[i + 1];
    else if (key == "--handshake-timeout-ms")
      handshake_timeout_ms = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--idle-timeout-ms")
      idle_timeout_ms = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--max-backlog")
      max_backlog = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--credit")
      credit = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--metrics")
      extra_metrics = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--max-connections")
      max_connections = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--subscribers")
      subscribers = std::strtol(argv[i + 1], nullptr, 10);
    else if (key == "--watch")
      watch = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
  }
  if (watch != 0) {
    caf::actor_system_config cfg;
    metron::remote::configure(cfg);
    caf::actor_system sys{cfg};
    auto mon = metron::remote::connect(sys, "127.0.0.1", static_cast<std::uint16_t>(watch));
    if (!mon) {
      std::printf("ERROR %s\n", sys.render(mon.error()).c_str());
      std::fflush(stdout);
      std::_Exit(2);
    }
    auto sub = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](metron::report_ptr s) {
        auto* c = s->find_counter("work_items_total", {{"kind", "a"}});
        std::printf("TOTAL %llu\n", static_cast<unsigned long long>(c ? c->value() : 0));
        std::fflush(stdout);
      }};
    });
    caf::anon_send(*mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
    for (long i = 1; i < subscribers; ++i)
      caf::anon_send(*mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(
                     sys.spawn([](caf::event_based_actor*) -> caf::behavior { return {[](metron::report_ptr) {}}; })));
    for (;;)
      pause(); // until the test kills us
  }
  metron::registry reg;
  metron_test::record_workload(reg, seed, count);
  for (long i = 0; i < extra_metrics; ++i) // bulk: large snapshots
    reg.counter("bulk_" + std::to_string(i) + "_total").add(static_cast<std::uint64_t>(i));
  caf::actor_system_config cfg;
  metron::remote::configure(cfg);
  caf::actor_system sys{cfg};
  metron::monitor_config mcfg;
  mcfg.interval = std::chrono::milliseconds{interval_ms};
  if (credit > 0)
    mcfg.credit = static_cast<std::size_t>(credit);
  auto mon = metron::spawn_monitor(sys, reg, mcfg);
  try {
    metron::remote::publish_options opts;
    opts.handshake_timeout = std::chrono::milliseconds{handshake_timeout_ms};
    opts.idle_timeout = std::chrono::milliseconds{idle_timeout_ms};
    opts.max_connections = static_cast<std::size_t>(max_connections);
    opts.max_backlog = static_cast<std::uint64_t>(max_backlog);
    opts.stats = std::make_shared<metron::remote::remote_stats>(reg);
    auto bound = metron::remote::publish(sys, mon, static_cast<std::uint16_t>(port), addr.c_str(), opts);
    std::printf("PORT %u\n", static_cast<unsigned>(bound));
    std::fflush(stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "test_node: %s\n", e.what());
    std::printf("ERROR\n");
    std::fflush(stdout);
    std::_Exit(2);
  }
  if (linger_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds{linger_ms});
    caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
    return 0; // ~actor_system must complete: the test waits for the exit status
  }
  for (;;)
    pause(); // until the test kills us
}
