// metron-cluster-node: a process of a cluster. Worker threads record a synthetic
// request workload (latencies, requests by status, a queue depth); the monitor is
// published on 127.0.0.1 so a collector (metron-cluster-collector) can merge it.
//
//   metron-cluster-node [--port P] [--threads T] [--seconds S] [--interval-ms I]
//
// --port 0 (the default) lets the OS pick; the chosen port is printed as
// "metron-cluster-node: publishing on 127.0.0.1:<port>". Runs for S seconds (0: until
// SIGINT/SIGTERM).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <metron/remote.hpp>

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_signal(int) {
  interrupted = 1;
}

} // namespace

int main(int argc, char** argv) {
  unsigned port = 0;
  unsigned threads = 2;
  double seconds = 0;
  long interval_ms = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--port")
      port = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (key == "--threads")
      threads = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (key == "--seconds")
      seconds = std::strtod(argv[i + 1], nullptr);
    else if (key == "--interval-ms")
      interval_ms = std::strtol(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s [--port P] [--threads T] [--seconds S] [--interval-ms I]\n", argv[0]);
      return 2;
    }
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  metron::registry reg; // before the actor system: outlives the monitor's actors
  auto& ok = reg.counter("cluster_requests_total", {{"status", "ok"}}, "Requests handled");
  auto& failed = reg.counter("cluster_requests_total", {{"status", "error"}});
  auto& latency = reg.histogram("cluster_request_latency_seconds", {}, "Request latency");
  auto& queue = reg.gauge("cluster_queue_depth", {}, "Requests waiting");

  caf::actor_system_config cfg;
  metron::remote::configure(cfg);
  metron::quiet_scheduler(cfg); // workers sleep between ticks instead of polling (actors/config.hpp)
  caf::actor_system sys{cfg};
  metron::monitor_config mcfg;
  mcfg.interval = std::chrono::milliseconds{interval_ms};
  auto mon = metron::spawn_monitor(sys, reg, mcfg);
  std::uint16_t bound = 0;
  try {
    // Refusals of the port's guard and facade (hostile or broken peers) become
    // metron_remote_refusals_total{reason} of this node's registry.
    metron::remote::publish_options opts;
    opts.stats = std::make_shared<metron::remote::remote_stats>(reg);
    bound = metron::remote::publish(sys, mon, static_cast<std::uint16_t>(port), "127.0.0.1", opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metron-cluster-node: %s\n", e.what());
    return 1;
  }
  std::printf("metron-cluster-node: publishing on 127.0.0.1:%u\n", static_cast<unsigned>(bound));
  std::fflush(stdout);

  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::mt19937_64 rng{std::random_device{}() + t};
      std::lognormal_distribution<double> body{std::log(0.002), 0.7};
      std::bernoulli_distribution error{0.01};
      while (!stop.load(std::memory_order_relaxed)) { // relaxed: a stop flag, publishes nothing
        double x = body(rng);
        latency.record(x);
        (error(rng) ? failed : ok).add();
        queue.set(static_cast<double>(rng() % 16));
        std::this_thread::sleep_for(std::chrono::microseconds{static_cast<long>(x * 1e5)});
      }
    });
  auto start = std::chrono::steady_clock::now();
  while (!interrupted
         && (seconds <= 0 || std::chrono::steady_clock::now() - start < std::chrono::duration<double>(seconds)))
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  stop.store(true, std::memory_order_relaxed); // relaxed: joined below, join synchronizes
  for (auto& w : workers)
    w.join();
  caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
  return 0;
}
