// What the HTTP server tests share: a small snapshot to serve and a config on a free
// loopback port.
#pragma once

#include <chrono>
#include <memory>

#include "metron/metron.hpp"
#include "metron/prometheus/http_server.hpp"

namespace metron::test {

/// A report (of a bare snapshot) with a labelled counter, a gauge and a histogram.
inline report_ptr sample_snapshot() {
  static registry reg;
  reg.counter("scrapes_test", {{"k", "v"}}).add(5);
  reg.gauge("temperature_celsius").set(21.5);
  reg.histogram("latency_seconds").record(0.003);
  return std::make_shared<const report>(std::make_shared<const snapshot>(reg.snapshot()), 1, 0.0,
                                        std::vector<counter_figures>{}, std::vector<histogram_figures>{});
}

/// 127.0.0.1, a free port, the given keep-alive idle limit.
inline prometheus::server_config local_config(std::chrono::milliseconds read_timeout = std::chrono::seconds{10}) {
  prometheus::server_config cfg;
  cfg.port = 0;
  cfg.read_timeout = read_timeout;
  return cfg;
}

} // namespace metron::test
