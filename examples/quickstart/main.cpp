#include <metron/metron.hpp>
#include <iostream>

int main() {
  metron::registry reg; // metrics by name and labels; record from any thread, lock-free
  auto& requests = reg.counter("http_requests_total", {{"method", "GET"}});
  auto& queue = reg.gauge("queue_depth");
  auto& latency = reg.histogram("request_latency_seconds"); // seconds by convention
  for (int i = 0; i < 1000; ++i) { requests.add(); latency.record(0.001 * (i % 100 + 1)); } // 1..100 ms
  queue.set(3);
  metron::snapshot s = reg.snapshot(); // immutable, merged across threads
  auto* h = s.find_histogram("request_latency_seconds");
  std::cout << "requests " << s.find_counter("http_requests_total", {{"method", "GET"}})->value() << ", queue depth "
            << s.find_gauge("queue_depth")->value() << "\nlatency p50 " << h->quantile(0.5) * 1e3 << " ms, p99 "
            << h->quantile(0.99) * 1e3 << " ms, max " << h->max() * 1e3 << " ms\n";
}
