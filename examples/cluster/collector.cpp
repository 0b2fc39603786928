// metron-cluster-collector: subscribes to the monitors of several nodes
// (metron-cluster-node), merges them exactly, prints the merged view periodically and
// serves it on the Prometheus endpoint (/metrics: merged series without a node label,
// per-node series with node="host:port", metron_cluster_node_up{node=...}).
//
//   metron-cluster-collector [--prometheus-port P] [--publish-port Q] [--seconds S]
//                            [--print-ms M] host:port [host:port ...]
//
// --publish-port publishes the collector itself (it is a monitor), so other processes
// can subscribe to the cluster view. Runs for S seconds (0: until SIGINT/SIGTERM).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <metron/prometheus.hpp>
#include <metron/remote.hpp>

namespace {

volatile std::sig_atomic_t interrupted = 0;

void on_signal(int) {
  interrupted = 1;
}

bool has_node_label(const metron::labels& ls) {
  for (auto& [k, v] : ls)
    if (k == metron::remote::node_label)
      return true;
  return false;
}

std::string series_name(const std::string& name, const metron::labels& ls) {
  std::string out = name;
  if (!ls.empty()) {
    out += '{';
    for (std::size_t i = 0; i < ls.size(); ++i)
      out += (i ? "," : "") + ls[i].first + "=\"" + ls[i].second + "\"";
    out += '}';
  }
  return out;
}

void print_view(const metron::report& r, const std::vector<metron::remote::node_status>& nodes) {
  const metron::snapshot& s = r.raw();
  std::printf("---- cluster view #%llu ----\n", static_cast<unsigned long long>(r.sequence()));
  for (auto& n : nodes)
    std::printf("  node %-22s %-4s snapshots=%llu restarts=%llu %s\n", n.node.c_str(), n.up ? "up" : "DOWN",
                static_cast<unsigned long long>(n.snapshots), static_cast<unsigned long long>(n.restarts),
                n.last_error.c_str());
  for (auto& c : s.counters)
    if (!has_node_label(c.labels()) && c.name().rfind("metron_", 0) != 0)
      std::printf("  %-52s total=%-10llu rate=%.1f/s\n", series_name(c.name(), c.labels()).c_str(),
                  static_cast<unsigned long long>(c.total), r.figures(c).rate);
  for (auto& g : s.gauges)
    if (!has_node_label(g.labels()) && g.name().rfind("metron_", 0) != 0)
      std::printf("  %-52s value=%g\n", series_name(g.name(), g.labels()).c_str(), g.current);
  for (auto& h : s.histograms)
    if (!has_node_label(h.labels()) && h.name().rfind("metron_", 0) != 0 && h.data.count() > 0)
      std::printf("  %-52s count=%llu p50=%.3gs p99=%.3gs max=%.3gs\n", series_name(h.name(), h.labels()).c_str(),
                  static_cast<unsigned long long>(h.data.count()), h.data.quantile(0.5), h.data.quantile(0.99),
                  h.data.max());
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  unsigned prom_port = 9464;
  int publish_port = -1;
  double seconds = 0;
  long print_ms = 2000;
  metron::remote::collector_config cc;
  cc.monitor.interval = std::chrono::milliseconds{500};
  cc.per_node_series = true; // the console and /metrics show each node beside the totals
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--prometheus-port" && i + 1 < argc)
      prom_port = static_cast<unsigned>(std::strtoul(argv[++i], nullptr, 10));
    else if (arg == "--publish-port" && i + 1 < argc)
      publish_port = static_cast<int>(std::strtol(argv[++i], nullptr, 10));
    else if (arg == "--seconds" && i + 1 < argc)
      seconds = std::strtod(argv[++i], nullptr);
    else if (arg == "--print-ms" && i + 1 < argc)
      print_ms = std::strtol(argv[++i], nullptr, 10);
    else if (auto ep = metron::remote::parse_endpoint(arg))
      cc.nodes.push_back(*ep);
    else {
      std::fprintf(stderr,
                   "usage: %s [--prometheus-port P] [--publish-port Q] [--seconds S] [--print-ms M] "
                   "host:port...\n",
                   argv[0]);
      return 2;
    }
  }
  if (cc.nodes.empty()) {
    std::fprintf(stderr, "metron-cluster-collector: give at least one node as host:port\n");
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  caf::actor_system_config cfg;
  metron::remote::configure(cfg);
  metron::quiet_scheduler(cfg); // workers sleep between ticks instead of polling (actors/config.hpp)
  caf::actor_system sys{cfg};
  auto col = metron::remote::spawn_collector(sys, cc);
  try {
    metron::prometheus::server_config pc;
    pc.address = "127.0.0.1";
    pc.port = static_cast<std::uint16_t>(prom_port);
    metron::prometheus::exporter ex{sys, col, pc};
    std::printf("metron-cluster-collector: %zu nodes, Prometheus on http://127.0.0.1:%u/metrics\n",
                cc.nodes.size(), static_cast<unsigned>(ex.port()));
    if (publish_port >= 0)
      std::printf("metron-cluster-collector: cluster view published on 127.0.0.1:%u\n",
                  static_cast<unsigned>(metron::remote::publish(sys, col, static_cast<std::uint16_t>(publish_port))));
    std::fflush(stdout);
    caf::scoped_actor self{sys};
    auto start = std::chrono::steady_clock::now();
    auto next_print = start;
    while (!interrupted
           && (seconds <= 0 || std::chrono::steady_clock::now() - start < std::chrono::duration<double>(seconds))) {
      if (std::chrono::steady_clock::now() >= next_print) {
        next_print += std::chrono::milliseconds{print_ms};
        metron::report_ptr view;
        std::vector<metron::remote::node_status> nodes;
        self->request(col, std::chrono::seconds{5}, metron::get_atom::value)
          .receive([&](metron::report_ptr s) { view = std::move(s); }, [](caf::error&) {});
        self->request(col, std::chrono::seconds{5}, metron::remote::nodes_atom::value)
          .receive([&](std::vector<metron::remote::node_status> xs) { nodes = std::move(xs); },
                   [](caf::error&) {});
        if (view)
          print_view(*view, nodes);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metron-cluster-collector: %s\n", e.what());
    caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
    return 1;
  }
  caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
  return 0;
}
