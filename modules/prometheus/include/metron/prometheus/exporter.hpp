// metron/prometheus/exporter.hpp — a monitor's reports on HTTP, in one call.
//
//   metron::prometheus::exporter ex{sys, mon, {.address = "127.0.0.1", .port = 0}};
//   ex.port();   // the chosen port; GET /metrics and /metrics.json are served, and
//                // a live dashboard at / for a browser (cfg.dashboard = false: none)
//
// The exporter spawns a subscriber actor in `sys` that subscribes to the monitor and
// stores each report_ptr it receives (report_store); the HTTP server
// (http_server.hpp) serves the stored report, so a scrape costs a render of an
// immutable report and never touches live metrics or the monitor. The constructor
// also asks the monitor once for its latest report (waiting at most
// initial_wait), so the first scrape is not empty. Quantiles and windows are the
// monitor's (monitor_config::quantiles), exported as the summary family described
// in text_format.hpp.
//
// The dashboard (docs/dashboard.md): each open page's /events connection gets a
// subscriber actor of its own in `sys`, subscribed to the monitor, which sends the page
// one dashboard_event (dashboard.hpp) per report and acknowledges the report only
// when it has been written to the connection: a page that cannot keep up runs out of
// the monitor's credit and is skipped (metron_dropped_snapshots_total), never queued
// for. Closing the page unsubscribes its actor. Bounds: max_dashboard_connections,
// max_dashboard_queued_bytes, write_timeout (server_config).
//
// Lifetime: destroy the exporter before its actor system (declare it after). stop()
// (idempotent, also run by the destructor) stops the HTTP server, then unsubscribes
// and terminates the subscriber actor. If the monitor terminates first, the exporter
// keeps serving the last report it received.
//
// Concurrency: port(), latest(), server() and stop() are thread-safe. Do not construct
// an exporter from inside an actor of the same system's message handler (the
// constructor waits for the monitor's reply).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "metron/actors/monitor.hpp"
#include "metron/prometheus/http_server.hpp"
#include "metron/prometheus/report_store.hpp"

namespace metron::prometheus {

class exporter {
public:
  /// Subscribes to `mon` and starts serving (see the file comment). Throws
  /// std::system_error if the address cannot be bound.
  exporter(caf::actor_system& sys, const monitor_actor& mon, server_config cfg = {},
           std::chrono::milliseconds initial_wait = std::chrono::seconds{2});
  ~exporter();

  exporter(const exporter&) = delete;
  exporter& operator=(const exporter&) = delete;

  /// The bound port.
  std::uint16_t port() const noexcept { return server_->port(); }
  /// The report a scrape would serve now (nullptr before the first).
  report_ptr latest() const { return store_->get(); }
  /// The HTTP server (port, address, requests(), stats(): its counted refusals).
  http_server& server() noexcept { return *server_; }

  /// Stops serving and leaves the monitor; idempotent.
  void stop() noexcept;

private:
  std::mutex stop_mutex_;
  monitor_actor monitor_;
  std::shared_ptr<report_store> store_;
  subscriber_actor subscriber_;
  std::unique_ptr<http_server> server_;
};

} // namespace metron::prometheus
