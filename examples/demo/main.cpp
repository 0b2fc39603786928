// metron-demo — the program the README's first command runs.
//
// A simulated web service: worker threads (one per core by default) handle fake
// requests on four routes as fast as they can. Each request draws a latency from
// its route's log-normal distribution, with a rare slow tail (1 in 500 requests is
// 8-30x slower) and a periodic hiccup (every 5 s, for 400 ms, everything is 6x
// slower plus 50 ms and errors jump), and records it: a counter per route, an error
// counter, a latency histogram per route, a queue-depth gauge. Nothing sleeps, so
// the figures also show what metron's recording path sustains on this machine.
//
// A monitor actor aggregates every 100 ms; the console view (metron::console)
// redraws a table in place on every tick: per metric its rate, p50, p90, p99, max
// over the last tick and a sparkline of the recent p99. When stdout is not a
// terminal (or with --no-console) it prints plain lines once per second instead.
// The Prometheus endpoint serves the same snapshots, and on its port a live dashboard
// for a browser (the address is the first line printed). At the end (after --duration,
// or on Ctrl-C / SIGTERM) it prints a summary.
#include <metron/actors.hpp>
#include <metron/console.hpp>
#include <metron/prometheus.hpp>
#include <metron/remote_write.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
namespace console = metron::console;

// -- options ---------------------------------------------------------------------

constexpr double default_duration = 10.0;

struct options {
  double duration = default_duration; // seconds; 0 = until Ctrl-C
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::string host = "127.0.0.1";
  std::uint16_t port = 9464;
  bool console = ::isatty(STDOUT_FILENO) == 1;
  bool help = false;
  std::string remote_write;       // push to this remote-write URL ("" = no push)
  double idle_expiry = 0;         // seconds; 0 = series never expire
};

const char* const usage_text =
  "usage: metron-demo [--duration SECONDS] [--threads N] [--listen HOST:PORT] [--no-console]\n"
  "                   [--remote-write URL] [--idle-expiry SECONDS]\n"
  "\n"
  "A simulated service recording request metrics with metron, a live console view\n"
  "of them, a live dashboard for a browser and a Prometheus endpoint on one port.\n"
  "Nothing needs to run beforehand.\n"
  "\n"
  "  --duration SECONDS  how long to run; 0 runs until Ctrl-C (default 10)\n"
  "  --threads N         worker threads (default: one per core)\n"
  "  --listen HOST:PORT  dashboard (/) and Prometheus endpoint (/metrics) (default\n"
  "                      127.0.0.1:9464; port 0 = any free port;\n"
  "                      IPv6 as [::1]:9464)\n"
  "  --no-console        plain lines once per second instead of the live view\n"
  "                      (the default when stdout is not a terminal)\n"
  "  --remote-write URL  also push the metrics every second to a Prometheus\n"
  "                      remote-write receiver, e.g.\n"
  "                      http://127.0.0.1:9090/api/v1/write\n"
  "  --idle-expiry SECONDS  retire series nobody recorded into for that long\n"
  "                      (default 0: never)\n"
  "  --help              this text\n"
  "\n"
  "The slowest requests carry an exemplar (a trace id): Prometheus scraping in\n"
  "OpenMetrics with --enable-feature=exemplar-storage keeps them.\n"
  "\n"
  "The workers record as fast as they can (latencies are drawn, not waited for), so the\n"
  "view also shows metron's recording rate; the ns per record is measured at start-up\n"
  "on one thread, and the share of a core is that times the rate.\n"
  "\n"
  "Ctrl-C (or SIGTERM) stops early; a summary is printed either way.\n";

// A whole string that is a finite number >= 0 (seconds), or nothing.
std::optional<double> seconds_of(const std::string& v) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !std::isfinite(d) || d < 0)
    return std::nullopt;
  return d;
}

// Parses argv; on error returns the message (the caller prints it with the usage).
std::optional<std::string> parse(int argc, char** argv, options& o) {
  auto value_of = [&](int& i, std::string_view arg, std::string_view name,
                      std::string& out) -> std::optional<std::string> {
    if (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=') {
      out = std::string{arg.substr(name.size() + 1)};
      return std::nullopt;
    }
    if (i + 1 >= argc)
      return std::string{name} + " needs a value";
    out = argv[++i];
    return std::nullopt;
  };
  auto is = [](std::string_view arg, std::string_view name) {
    return arg == name || (arg.size() > name.size() && arg.substr(0, name.size()) == name && arg[name.size()] == '=');
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string v;
    if (arg == "--help" || arg == "-h") {
      o.help = true;
    } else if (arg == "--no-console") {
      o.console = false;
    } else if (is(arg, "--duration")) {
      if (auto e = value_of(i, arg, "--duration", v))
        return e;
      auto d = seconds_of(v);
      if (!d)
        return "--duration: '" + v + "' is not a number of seconds >= 0";
      o.duration = *d;
    } else if (is(arg, "--remote-write")) {
      if (auto e = value_of(i, arg, "--remote-write", v))
        return e;
      if (v.rfind("http://", 0) != 0)
        return "--remote-write: '" + v + "' is not an http:// URL";
      o.remote_write = v;
    } else if (is(arg, "--idle-expiry")) {
      if (auto e = value_of(i, arg, "--idle-expiry", v))
        return e;
      auto d = seconds_of(v);
      if (!d || *d > 1e6)
        return "--idle-expiry: '" + v + "' is not a number of seconds from 0 to 1000000";
      o.idle_expiry = *d;
    } else if (is(arg, "--threads")) {
      if (auto e = value_of(i, arg, "--threads", v))
        return e;
      unsigned n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc{} || p != v.data() + v.size() || n < 1 || n > 1024)
        return "--threads: '" + v + "' is not a whole number from 1 to 1024";
      o.threads = n;
    } else if (is(arg, "--listen")) {
      if (auto e = value_of(i, arg, "--listen", v))
        return e;
      auto colon = v.rfind(':');
      if (colon == std::string::npos || colon == 0)
        return "--listen: '" + v + "' is not HOST:PORT";
      std::string host = v.substr(0, colon), port = v.substr(colon + 1);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
      unsigned n = 0;
      auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
      if (port.empty() || ec != std::errc{} || p != port.data() + port.size() || n > 65535)
        return "--listen: '" + port + "' is not a port from 0 to 65535";
      o.host = host;
      o.port = static_cast<std::uint16_t>(n);
    } else {
      return "unknown option '" + std::string{arg} + "'";
    }
  }
  return std::nullopt;
}

// -- stopping ----------------------------------------------------------------------

std::atomic<int> stop_signal{0}; // set by the signal handler
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");

extern "C" void on_signal(int sig) {
  stop_signal.store(sig, std::memory_order_relaxed); // relaxed: a flag polled by main, publishes nothing
}

// -- the simulated service ------------------------------------------------------------

struct route {
  const char* name;
  double share;    // of all requests
  double median;   // seconds
  double sigma;    // of the log-normal
};

constexpr std::array<route, 4> routes{{
  {"GET /api/users/:id", 0.50, 0.0021, 0.45},
  {"GET /api/search", 0.25, 0.0140, 0.65},
  {"POST /api/orders", 0.15, 0.0380, 0.55},
  {"GET /healthz", 0.10, 0.00018, 0.25},
}};

constexpr auto hiccup_period = std::chrono::seconds{5};
constexpr auto hiccup_length = std::chrono::milliseconds{400};
constexpr double request_timeout = 2.0; // seconds

struct service_metrics {
  explicit service_metrics(metron::registry& reg)
    : records(reg.counter("demo_records_total", {}, "metron record calls made by the demo's workers")),
      queue(reg.gauge("demo_queue_depth", {}, "Simulated requests waiting")) {
    for (std::size_t r = 0; r < routes.size(); ++r) {
      metron::labels ls{{"route", routes[r].name}};
      requests[r] = &reg.counter("demo_requests_total", ls, "Requests handled");
      errors[r] = &reg.counter("demo_errors_total", ls, "Requests that failed");
      latency[r] = &reg.histogram("demo_request_duration_seconds", ls, "Request latency");
    }
  }
  std::array<metron::counter*, routes.size()> requests{};
  std::array<metron::counter*, routes.size()> errors{};
  std::array<metron::histogram*, routes.size()> latency{};
  metron::counter& records;
  metron::gauge& queue;
};

bool in_hiccup(clock_type::time_point start, clock_type::time_point now) {
  return (now - start) % hiccup_period >= hiccup_period - hiccup_length;
}

void worker(unsigned id, service_metrics& m, const std::atomic<bool>& stop, clock_type::time_point start) {
  std::mt19937_64 rng{0x5eed'0000u + id};
  std::uniform_real_distribution<double> unit{0.0, 1.0};
  std::array<std::lognormal_distribution<double>, routes.size()> body;
  std::array<double, routes.size()> cumulative{};
  double acc = 0;
  for (std::size_t r = 0; r < routes.size(); ++r) {
    body[r] = std::lognormal_distribution<double>{std::log(routes[r].median), routes[r].sigma};
    cumulative[r] = acc += routes[r].share;
  }
  std::uint64_t records = 0; // record calls not yet added to m.records
  bool hiccup = false;
  for (std::uint64_t n = 0;; ++n) {
    if ((n & 255) == 0) { // every 256 requests: look at the clock and the stop flag
      if (stop.load(std::memory_order_relaxed)) // relaxed: a stop flag, publishes nothing
        break;
      hiccup = in_hiccup(start, clock_type::now());
      double depth = hiccup ? 40 + 20 * unit(rng) : 2 + 4 * unit(rng);
      m.queue.set(std::floor(depth));
      m.records.add(records + 2); // this add and the gauge set count too
      records = 0;
    }
    double u = unit(rng);
    std::size_t r = 0;
    while (r + 1 < routes.size() && u > cumulative[r])
      ++r;
    double latency = body[r](rng);
    if (unit(rng) < 0.002) // the rare slow tail: retries, cold caches
      latency *= 8 + 22 * unit(rng);
    if (hiccup) // the periodic hiccup: a stalled dependency
      latency = latency * 6 + 0.05;
    bool timed_out = latency >= request_timeout;
    if (timed_out) // the client gives up: recorded as the timeout, counted as an error
      latency = request_timeout;
    if (latency >= 0.25) { // a slow one: worth a trace (rare, so the usual cost elsewhere)
      char trace[33];
      std::snprintf(trace, sizeof trace, "%016llx%016llx", static_cast<unsigned long long>(id + 1),
                    static_cast<unsigned long long>(n));
      m.latency[r]->record(latency, metron::exemplar{trace});
    } else {
      m.latency[r]->record(latency);
    }
    m.requests[r]->add();
    records += 2;
    if (timed_out || unit(rng) < (hiccup ? 0.05 : 0.002)) {
      m.errors[r]->add();
      ++records;
    }
  }
  m.records.add(records + 1);
}

// Nanoseconds per record call on this machine, one thread, measured at start-up.
double calibrate_ns_per_record() {
  metron::registry reg;
  auto& c = reg.counter("calibration_total");
  auto& h = reg.histogram("calibration_seconds");
  constexpr int n = 200'000;
  std::array<double, 64> values{};
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = 0.0005 * static_cast<double>(i + 1); // varied values, as the workers record
  auto t0 = clock_type::now();
  for (int i = 0; i < n; ++i) {
    h.record(values[static_cast<std::size_t>(i) & 63]);
    c.add();
  }
  std::chrono::duration<double, std::nano> took = clock_type::now() - t0;
  return took.count() / (2.0 * n);
}

// -- presentation --------------------------------------------------------------------

double counter_rate_sum(const console::history& h, const char* name) {
  double sum = 0;
  for (auto& r : routes)
    if (auto* s = h.find(name, {{"route", r.name}}))
      sum += s->rate;
  return sum;
}

// http://host:port/path (IPv6 hosts in brackets).
std::string url_of(const std::string& host, std::uint16_t port, const char* path) {
  bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + path;
}

// One plain line per second (logs, pipes): totals, then one line per route.
std::string plain_lines(const console::history& h, double elapsed) {
  char buf[256];
  std::string out;
  double req = counter_rate_sum(h, "demo_requests_total");
  double err = counter_rate_sum(h, "demo_errors_total");
  auto* rec = h.find("demo_records_total");
  std::snprintf(buf, sizeof buf, "[%6.1fs] requests %s/s  errors %.2f%%  metron records %s/s\n", elapsed,
                console::format_si(req).c_str(), req > 0 ? 100.0 * err / req : 0.0,
                console::format_si(rec ? rec->rate : 0).c_str());
  out += buf;
  for (auto& r : routes) {
    auto* s = h.find("demo_request_duration_seconds", {{"route", r.name}});
    if (!s)
      continue;
    std::snprintf(buf, sizeof buf, "[%6.1fs]   %-20s %8s/s", elapsed, r.name, console::format_si(s->rate).c_str());
    out += buf;
    out += "  p50 " + console::pad_right(console::format_duration(s->last.p50), 7);
    out += " p90 " + console::pad_right(console::format_duration(s->last.p90), 7);
    out += " p99 " + console::pad_right(console::format_duration(s->last.p99), 7);
    out += " max " + console::format_duration(s->last.max) + "\n";
  }
  return out;
}

void print_summary(const metron::snapshot& s, double seconds, unsigned threads, int signal,
                   std::uint64_t scrapes) {
  std::uint64_t requests = 0, errors = 0;
  for (auto& r : routes) {
    metron::labels ls{{"route", r.name}};
    if (auto* c = s.find_counter("demo_requests_total", ls))
      requests += c->total;
    if (auto* c = s.find_counter("demo_errors_total", ls))
      errors += c->total;
  }
  auto* rec = s.find_counter("demo_records_total");
  double records = rec ? static_cast<double>(rec->total) : 0;
  double req = static_cast<double>(requests);
  std::printf("\nmetron-demo summary: %.1f s, %u worker thread%s%s\n", seconds, threads, threads == 1 ? "" : "s",
              signal == SIGINT ? ", stopped by Ctrl-C" : signal == SIGTERM ? ", stopped by SIGTERM" : "");
  std::printf("  requests  %llu total (%s/s), errors %.2f%%\n", static_cast<unsigned long long>(requests),
              console::format_si(req / seconds).c_str(), req > 0 ? 100.0 * static_cast<double>(errors) / req : 0.0);
  std::printf("  metron    %s records (%s records/s across all threads)\n", console::format_si(records).c_str(),
              console::format_si(records / seconds).c_str());
  auto col = [](const std::string& v) { return console::pad_left(v, 9); }; // µ is one column, two bytes
  std::printf("  %-20s %10s %9s %9s %9s %9s\n", "route", "requests", "p50", "p90", "p99", "max");
  for (auto& r : routes) {
    auto* h = s.find_histogram("demo_request_duration_seconds", {{"route", r.name}});
    if (!h || h->count() == 0)
      continue;
    std::printf("  %-20s %10s %s %s %s %s\n", r.name, console::format_si(static_cast<double>(h->count())).c_str(),
                col(console::format_duration(h->quantile(0.5))).c_str(), col(console::format_duration(h->quantile(0.9))).c_str(),
                col(console::format_duration(h->quantile(0.99))).c_str(), col(console::format_duration(h->max())).c_str());
  }
  if (auto* t = s.find_histogram("metron_tick_duration_seconds"); t && t->count())
    std::printf("  monitor   %llu ticks, p99 tick %s; Prometheus scrapes served: %llu\n",
                static_cast<unsigned long long>(t->count()), console::format_duration(t->quantile(0.99)).c_str(),
                static_cast<unsigned long long>(scrapes));
  std::fflush(stdout);
}

struct quiet_config : caf::actor_system_config {
  quiet_config() {
    set("logger.console", caf::atom("none"));
    set("logger.file-verbosity", caf::atom("quiet"));
    metron::quiet_scheduler(*this); // workers sleep between ticks instead of polling (actors/config.hpp)
  }
};

} // namespace

int main(int argc, char** argv) {
  options opt;
  if (auto error = parse(argc, argv, opt)) {
    std::fprintf(stderr, "metron-demo: %s\n\n%s", error->c_str(), usage_text);
    return 2;
  }
  if (opt.help) {
    std::fputs(usage_text, stdout);
    return 0;
  }

  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const double ns_per_record = calibrate_ns_per_record();

  metron::registry_config rcfg;
  rcfg.idle_expiry = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(opt.idle_expiry));
  metron::registry reg{rcfg};
  service_metrics metrics{reg};
  quiet_config cfg;
  caf::actor_system sys{cfg};
  metron::monitor_config mcfg; // a tick every 100 ms
  auto monitor_metrics = std::make_shared<metron::registry>(); // the monitor's own, for the summary
  mcfg.metrics = monitor_metrics;
  auto mon = metron::spawn_monitor(sys, reg, mcfg);

  std::unique_ptr<metron::prometheus::exporter> exporter;
  try {
    exporter = std::make_unique<metron::prometheus::exporter>(
      sys, mon, metron::prometheus::server_config{.address = opt.host, .port = opt.port});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metron-demo: cannot serve Prometheus on %s:%u: %s\n"
                         "(another metron-demo running? --listen 127.0.0.1:0 picks a free port)\n",
                 opt.host.c_str(), opt.port, e.what());
    caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
    return 1;
  }
  std::unique_ptr<metron::remote_write::writer> pusher;
  if (!opt.remote_write.empty()) {
    metron::remote_write::config rw;
    rw.url = opt.remote_write;
    rw.push_interval = std::chrono::seconds{1};
    rw.external_labels = {{"job", "metron-demo"}};
    try {
      pusher = std::make_unique<metron::remote_write::writer>(sys, mon, rw);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "metron-demo: --remote-write %s: %s\n", opt.remote_write.c_str(), e.what());
      caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
      return 2;
    }
  }
  const std::string url = url_of(opt.host, exporter->port(), "/metrics");
  const std::string dashboard = url_of(opt.host, exporter->port(), "/");
  std::printf("Dashboard: %s  (open it in a browser)\n", dashboard.c_str());
  std::string length = opt.duration > 0 ? "for " + console::format_si(opt.duration) + " s" : "until Ctrl-C";
  std::printf("metron-demo: %u worker thread%s, %zu routes, monitor tick %lld ms, running %s (Ctrl-C stops)\n",
              opt.threads, opt.threads == 1 ? "" : "s", routes.size(),
              static_cast<long long>(mcfg.interval.count()), length.c_str());
  std::printf("Prometheus metrics: %s\n", url.c_str());
  std::fflush(stdout);

  const auto start = clock_type::now();
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < opt.threads; ++t)
    workers.emplace_back(worker, t, std::ref(metrics), std::cref(stop), start);

  console::view_config vc;
  if (opt.console) {
    vc.options.title = "metron-demo";
    vc.options.hide_prefixes = {"metron_ticks_total", "metron_subscribers"};
    vc.notes = [=, threads = opt.threads](const metron::report& r) {
      double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
      auto* rec = r.find_counter_figures("demo_records_total");
      double rate = rec ? rec->rate : 0;
      char buf[320];
      std::snprintf(buf, sizeof buf, "metron: %s records/s on %u thread%s · %.1f ns each · %.0f%% of one core",
                    console::format_si(rate).c_str(), threads, threads == 1 ? "" : "s", ns_per_record,
                    rate * ns_per_record / 1e7);
      std::string first = "Dashboard " + dashboard + " · Prometheus " + url + " · ";
      first += console::format_si(std::floor(elapsed)) + " s";
      first += opt.duration > 0 ? " of " + console::format_si(opt.duration) + " s" : std::string{};
      first += " · Ctrl-C stops";
      return std::vector<std::string>{first, buf};
    };
  } else {
    vc.ansi = false;
    vc.every = 10; // one plain report per second
    vc.format = [start](const metron::report&, const console::history& h) {
      return plain_lines(h, std::chrono::duration<double>(clock_type::now() - start).count());
    };
  }
  auto view = console::spawn_view(sys, mon, std::move(vc));

  // Wait for the duration or a signal (a poll: the signal handler only sets a flag).
  const auto deadline = start + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(opt.duration));
  while (stop_signal.load(std::memory_order_relaxed) == 0 // relaxed: see on_signal
         && (opt.duration == 0 || clock_type::now() < deadline))
    std::this_thread::sleep_for(std::chrono::milliseconds{20});

  stop.store(true, std::memory_order_relaxed); // relaxed: a stop flag; join() orders the rest
  for (auto& w : workers)
    w.join();
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();

  {
    caf::scoped_actor self{sys};
    caf::anon_send_exit(view, caf::exit_reason::user_shutdown);
    self->wait_for(view); // the view no longer writes to stdout after this
  }
  if (opt.console)
    std::fputs("\x1b[?25h", stdout); // the view shows the cursor; again in case it could not

  auto final_values = reg.snapshot();
  final_values.merge(monitor_metrics->snapshot());
  print_summary(final_values, seconds, opt.threads, stop_signal.load(std::memory_order_relaxed), // relaxed: see on_signal
                exporter->server().requests());
  if (pusher) {
    bool flushed = pusher->flush(std::chrono::seconds{5});
    auto st = pusher->stats();
    std::printf("  remote-write to %s: %llu samples in %llu requests sent, %llu requests dropped%s\n",
                opt.remote_write.c_str(), static_cast<unsigned long long>(st.sent_samples),
                static_cast<unsigned long long>(st.sent_batches),
                static_cast<unsigned long long>(st.dropped_queue_full + st.dropped_rejected + st.dropped_shutdown),
                flushed ? "" : " (the last flush did not finish in 5 s)");
    pusher->stop();
  }
  exporter->stop();
  caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
  return 0;
}
