// prometheus_endpoint: a service exposing its metrics on /metrics for Prometheus.
//
//   prometheus_endpoint              serve on 127.0.0.1, any free port; fetch /metrics once, print it, exit
//   prometheus_endpoint --serve 30   ... then keep serving for 30 s (try: curl <the printed URL>)
//   prometheus_endpoint --port 9464  a fixed port
//
// The exporter subscribes to the monitor and serves the latest snapshot, so a scrape
// never touches the live metrics. The fetch uses a tiny blocking HTTP/1.1 client.
#include <metron/actors.hpp>
#include <metron/prometheus.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

// GET http://127.0.0.1:<port><path>; returns the body of a 200 response, else "".
std::string http_get(std::uint16_t port, const char* path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::string request = std::string{"GET "} + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        response.append(buf, static_cast<std::size_t>(n));
    }
  }
  if (fd >= 0)
    ::close(fd);
  auto body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos)
    return {};
  return response.substr(body + 4); // Connection: close, so no chunking or length to follow
}

struct quiet_config : caf::actor_system_config {
  quiet_config() {
    set("logger.console", caf::atom("none"));
    set("logger.file-verbosity", caf::atom("quiet"));
  }
};

} // namespace

int main(int argc, char** argv) {
  unsigned long port = 0, serve = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0)
      port = std::strtoul(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--serve") == 0)
      serve = std::strtoul(argv[i + 1], nullptr, 10);
  }
  if (argc % 2 == 0 || port > 65535) {
    std::fprintf(stderr, "usage: prometheus_endpoint [--port N] [--serve SECONDS]\n");
    return 2;
  }

  // -- the service's metrics ---------------------------------------------------------
  metron::registry reg; // declared before the actor system: outlives the actors
  auto& orders = reg.counter("shop_orders_total", {{"payment", "card"}}, "Orders placed");
  auto& checkout = reg.histogram("shop_checkout_duration_seconds", {}, "Time to check out");
  auto& carts = reg.gauge("shop_open_carts", {}, "Carts not checked out yet");
  orders.add(42);
  for (int i = 1; i <= 100; ++i)
    checkout.record(0.01 * i); // 10 ms .. 1 s
  carts.set(7);

  // -- the monitor and the endpoint ------------------------------------------------------
  quiet_config cfg;
  caf::actor_system sys{cfg};
  auto mon = metron::spawn_monitor(sys, reg); // a snapshot every 100 ms
  metron::prometheus::server_config http;
  http.address = "127.0.0.1";
  http.port = static_cast<std::uint16_t>(port);
  metron::prometheus::exporter exporter{sys, mon, http};
  std::printf("serving http://127.0.0.1:%u/metrics\n", exporter.port());

  // The endpoint serves the monitor's latest snapshot: wait for one with our orders.
  for (int i = 0; i < 500; ++i) {
    auto s = exporter.latest();
    if (s && s->find_counter("shop_orders_total", {{"payment", "card"}}))
      break;
    std::this_thread::sleep_for(10ms);
  }

  // -- one scrape -------------------------------------------------------------------------
  std::string body = http_get(exporter.port(), "/metrics");
  std::printf("GET /metrics: %zu bytes; the shop_ series:\n", body.size());
  std::istringstream lines{body};
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("shop_", 0) == 0 && line.find("_bucket{") == std::string::npos)
      std::printf("  %s\n", line.c_str());
  std::fflush(stdout);

  if (serve > 0) {
    std::printf("serving for %lu s more\n", serve);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds{serve});
  }
  exporter.stop();
  caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
  return body.empty() ? 1 : 0;
}
