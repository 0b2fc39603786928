// metron-demo (core-only first version): worker threads record a simulated
// request workload, then the program prints a snapshot with counts, rates and
// latency percentiles.
#include <metron/metron.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  double duration = 3;
  unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--duration") == 0)
      duration = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--threads") == 0)
      threads = static_cast<unsigned>(std::atoi(argv[++i]));
  }
  metron::registry reg;
  auto& requests = reg.counter("demo_requests_total", {}, "Requests handled");
  auto& latency = reg.histogram("demo_request_latency_seconds", {}, "Request latency");
  auto& inflight = reg.gauge("demo_inflight", {}, "Requests in flight");
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::mt19937_64 rng{t + 1};
      std::lognormal_distribution<double> body{std::log(0.002), 0.6};
      while (!stop.load(std::memory_order_relaxed)) { // relaxed: a stop flag, publishes nothing
        inflight.add(1);
        latency.record(body(rng));
        requests.add();
        inflight.add(-1);
      }
    });
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(duration));
  stop = true;
  for (auto& w : workers)
    w.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto s = reg.snapshot();
  auto* h = s.find_histogram("demo_request_latency_seconds");
  auto n = s.find_counter("demo_requests_total")->value();
  std::printf("threads %u, %.1f s: %llu requests, %.0f records/s\n", threads, secs,
              static_cast<unsigned long long>(n), static_cast<double>(n) / secs);
  std::printf("latency p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n", h->quantile(0.5) * 1e3,
              h->quantile(0.9) * 1e3, h->quantile(0.99) * 1e3, h->max() * 1e3);
  return 0;
}
