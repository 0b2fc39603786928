#include <metron/metron.hpp>

#include <cmath>
#include <cstdio>

int main() {
  metron::registry reg;
  auto& c = reg.counter("requests_total");
  auto& h = reg.histogram("latency_seconds");
  for (double v : {0.001, 0.002, 0.003}) {
    c.add();
    h.record(v);
  }
  auto s = reg.snapshot();
  double p50 = s.find_histogram("latency_seconds")->quantile(0.5);
  std::printf("consumer: requests=%llu p50_ok=%d\n",
              static_cast<unsigned long long>(s.find_counter("requests_total")->value()),
              std::abs(p50 - 0.002) / 0.002 < 0.01 ? 1 : 0);
}
