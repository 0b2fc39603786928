// metron-cluster-capacity — N node processes into one collector, measured.
//
//   metron-cluster-capacity [--nodes N] [--metrics M] [--seconds D] [--tick-ms T]
//                           [--values V] [--copies] [--node-nice K] [--pin] [--caf-scheduler]
//                           [--check]
//
// Starts N node processes (this program, "node" mode: the NOTES.md metric mix of M
// metrics, service_mix.hpp, a monitor ticking every T ms with one CAF scheduler thread,
// published on 127.0.0.1). Each node records one round every 100 ms (counters grow,
// V latencies per histogram) until told to stop. A collector in this process (tick T,
// per-node copies only with --copies) merges them; this process subscribes to it.
// Once every node is up it measures for D seconds, then stops the nodes' recording
// (SIGUSR1; each prints what it recorded) and waits until the merged totals equal
// the sum of what the nodes recorded (at most 15 collector ticks). It prints:
//   - collector ticks received, and the share "on schedule": the tick came at most
//     1.25 T after the previous one, every node was up and every node's latest
//     snapshot was at most 1.5 T old (metron_cluster_last_seen_age_seconds);
//   - node snapshots received by the collector vs the nodes' ticks;
//   - CPU of this process (the collector, its links, the subscriber) per
//     node-series merged, and of the nodes;
//   - exact totals: the merged counters' sum and histogram count vs the nodes'.
// --node-nice K runs the nodes at nice K: on one machine they compete with the
// collector for the CPUs, which separate machines would not (default 0).
// --pin runs the collector (this process, every thread) on CPU 0 and the nodes on the
// other CPUs: the collector's cost "on one core", without the nodes' scheduling noise
// in its own CPU time (needs at least 2 CPUs).
// Nodes and collector run metron::quiet_scheduler (actors/config.hpp): CAF's default
// work-stealing polling (50 us sleeps for 25 ms after every job) roughly doubled the
// collector's CPU per node-series and the nodes' CPU here. --caf-scheduler keeps CAF's
// defaults, to compare.
// With --check the exit status is 1 unless the totals are exact (the ctest); the
// timing figures are printed, never asserted.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <metron/remote.hpp>

#include "service_mix.hpp"

namespace {

using steady = std::chrono::steady_clock;

// -- what a merged view says (the one place that reads it) ---------------------------

using view_ptr = metron::report_ptr; // what the collector's subscribers receive

const metron::snapshot& raw_of(const view_ptr& v) {
  return v->raw();
}

bool has_node_label(const metron::labels& ls) {
  for (auto& l : ls)
    if (l.first == metron::remote::node_label)
      return true;
  return false;
}

struct tick_record {
  steady::time_point at;
  double nodes_up = 0;
  double max_age = 0;         // oldest node's last_seen_age_seconds
  std::uint64_t counted = 0;  // sum of the svc_ counters' totals
  std::uint64_t observed = 0; // sum of the svc_ histograms' counts
};

tick_record read_view(const view_ptr& v) {
  auto& s = raw_of(v);
  tick_record r;
  r.at = steady::now();
  if (auto* g = s.find_gauge("metron_cluster_nodes_up"))
    r.nodes_up = g->value();
  for (auto& g : s.gauges)
    if (g.name() == "metron_cluster_last_seen_age_seconds")
      r.max_age = std::max(r.max_age, g.value());
  for (auto& c : s.counters)
    if (c.name().starts_with("svc_") && !has_node_label(c.labels()))
      r.counted += c.value();
  for (auto& h : s.histograms)
    if (h.name().starts_with("svc_") && !has_node_label(h.labels()))
      r.observed += h.data.count();
  return r;
}

// -- node mode ----------------------------------------------------------------------

volatile sig_atomic_t stop_recording = 0;

void on_usr1(int) {
  stop_recording = 1;
}

int node(std::size_t metrics, long tick_ms, std::size_t values, std::uint64_t seed, bool caf_scheduler) {
  signal(SIGUSR1, on_usr1);
  metron::registry reg;
  metron_tools::service_mix mix{reg, metrics, seed};
  std::uint64_t counted = mix.round(values);
  caf::actor_system_config cfg;
  metron::remote::configure(cfg);
  cfg.set("scheduler.max-threads", std::size_t{1}); // light: 100 of these share 2 vCPUs
  if (!caf_scheduler)
    metron::quiet_scheduler(cfg); // no 50 us polling between ticks (actors/config.hpp)
  caf::actor_system sys{cfg};
  metron::monitor_config mc;
  mc.interval = std::chrono::milliseconds{tick_ms};
  mc.windows.clear(); // the collector computes its own; keep the node light
  auto mon = metron::spawn_monitor(sys, reg, mc);
  std::printf("PORT %u\n", static_cast<unsigned>(metron::remote::publish(sys, mon, 0)));
  std::fflush(stdout);
  auto next = steady::now();
  while (!stop_recording) {
    next += std::chrono::milliseconds{100};
    std::this_thread::sleep_until(next);
    if (!stop_recording)
      counted += mix.round(values);
  }
  std::printf("DONE %" PRIu64 " %" PRIu64 "\n", counted, mix.histogram_values());
  std::fflush(stdout);
  for (;;)
    pause(); // serve the final values until killed
}

// -- the run ------------------------------------------------------------------------

double cpu_seconds(const rusage& r) {
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec)
         + static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

// utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15).
double process_cpu_seconds(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream fields{text.substr(close + 2)};
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14)
      utime = std::strtoull(f.c_str(), nullptr, 10);
    if (i == 15)
      stime = std::strtoull(f.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Resident memory of this process, MB (VmRSS in /proc/self/status).
double rss_mb() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmRSS:"))
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  return 0;
}

struct node_proc {
  pid_t pid = 0;
  FILE* out = nullptr;
  std::uint16_t port = 0;
};

// This program with `args`, its stdout readable through `out`; it dies with us.
// Restricts the calling thread (and the threads and processes it starts later) to
// CPU `cpu` alone, or to every CPU but 0 (cpu < 0). False if the kernel refused.
bool pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = static_cast<int>(std::thread::hardware_concurrency());
  if (cpu >= 0)
    CPU_SET(cpu, &set);
  else
    for (int c = 1; c < n; ++c)
      CPU_SET(c, &set);
  return CPU_COUNT(&set) > 0 && sched_setaffinity(0, sizeof set, &set) == 0;
}

node_proc start_node(const std::vector<std::string>& args, int nice, bool pin) {
  node_proc p;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)
    return p;
  pid_t parent = getpid();
  p.pid = fork();
  if (p.pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent || dup2(fds[1], STDOUT_FILENO) < 0) // dup2 clears CLOEXEC
      _exit(127);
    if (nice != 0)
      setpriority(PRIO_PROCESS, 0, nice);
    if (pin && !pin_to(-1))
      _exit(126);
    std::vector<char*> argv{const_cast<char*>("metron-cluster-capacity")};
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(fds[1]);
  if (p.pid > 0)
    p.out = fdopen(fds[0], "r");
  else
    close(fds[0]);
  return p;
}

struct options {
  int nodes = 100;
  std::size_t metrics = 1000;
  double seconds = 60;
  long tick_ms = 1000;
  std::size_t values = 1;
  bool copies = false;
  bool check = false;
  int node_nice = 0;
  bool pin = false;
  bool caf_scheduler = false; // CAF's default polling instead of metron::quiet_scheduler
};

int run(const options& o) {
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) { // ~4 descriptors per node here
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  std::vector<node_proc> procs;
  auto kill_all = [&] { // each node by its own pid (never 0 or -1: a failed fork)
    for (auto& p : procs)
      if (p.pid > 0)
        kill(p.pid, SIGKILL);
    for (auto& p : procs)
      if (p.pid > 0)
        waitpid(p.pid, nullptr, 0);
    procs.clear();
  };
  for (int i = 0; i < o.nodes; ++i) {
    procs.push_back(start_node({"node", std::to_string(o.metrics), std::to_string(o.tick_ms),
                                std::to_string(o.values), std::to_string(i + 1), o.caf_scheduler ? "caf" : "quiet"},
                               o.node_nice, o.pin));
    unsigned port = 0;
    if (!procs.back().out || std::fscanf(procs.back().out, " PORT %u", &port) != 1) {
      std::fprintf(stderr, "node %d did not start\n", i);
      kill_all();
      return 2;
    }
    procs.back().port = static_cast<std::uint16_t>(port);
  }
  if (o.pin && (std::thread::hardware_concurrency() < 2 || !pin_to(0))) {
    std::fprintf(stderr, "--pin: cannot pin the collector to CPU 0 (2 CPUs needed)\n");
    kill_all();
    return 2;
  }
  int rc = 0;
  {
    caf::actor_system_config cfg;
    metron::remote::configure(cfg);
    if (!o.caf_scheduler)
      metron::quiet_scheduler(cfg);
    caf::actor_system sys{cfg};
    metron::remote::collector_config cc;
    for (auto& p : procs)
      cc.nodes.push_back({"127.0.0.1", p.port});
    cc.monitor.interval = std::chrono::milliseconds{o.tick_ms};
    cc.down_timeout = std::chrono::milliseconds{std::max(5000L, 5 * o.tick_ms)};
    cc.per_node_series = o.copies;
    auto col = metron::remote::spawn_collector(sys, cc);
    caf::scoped_actor self{sys};
    self->send(col, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(self));
    auto timeout = std::chrono::milliseconds{10 * o.tick_ms + 10000};
    auto next_view = [&](tick_record& r) {
      bool got = false;
      self->receive([&](view_ptr& v) {
        r = read_view(v);
        got = true;
      }, caf::after(timeout) >> [] {});
      return got;
    };
    auto ask_nodes = [&] {
      std::vector<metron::remote::node_status> xs;
      self->request(col, std::chrono::seconds{30}, metron::remote::nodes_atom::value)
        .receive([&](std::vector<metron::remote::node_status>& v) { xs = std::move(v); }, [](caf::error&) {});
      return xs;
    };
    tick_record r;
    auto up_deadline = steady::now() + std::chrono::seconds{120};
    do {
      if (!next_view(r) || steady::now() > up_deadline) {
        std::fprintf(stderr, "the nodes did not all come up (%.0f of %d)\n", r.nodes_up, o.nodes);
        kill_all();
        return 2;
      }
    } while (r.nodes_up < o.nodes);
    std::printf("%d nodes up; measuring %.0f s\n", o.nodes, o.seconds);
    std::fflush(stdout);
    // The measured window: from one tick to the first tick D seconds later.
    auto before = ask_nodes();
    std::vector<double> node_cpu0;
    for (auto& p : procs)
      node_cpu0.push_back(process_cpu_seconds(p.pid));
    rusage r0{};
    getrusage(RUSAGE_SELF, &r0);
    std::vector<tick_record> ticks{r};
    while (std::chrono::duration<double>(ticks.back().at - ticks.front().at).count() < o.seconds) {
      if (!next_view(r)) {
        std::fprintf(stderr, "no collector tick for %lld ms\n", static_cast<long long>(timeout.count()));
        kill_all();
        return 2;
      }
      ticks.push_back(r);
    }
    rusage r1{};
    getrusage(RUSAGE_SELF, &r1);
    double node_cpu = 0;
    for (std::size_t i = 0; i < procs.size(); ++i)
      node_cpu += process_cpu_seconds(procs[i].pid) - node_cpu0[i];
    auto after = ask_nodes();
    double elapsed = std::chrono::duration<double>(ticks.back().at - ticks.front().at).count();
    // Stop recording; each node says what it recorded in total.
    for (auto& p : procs)
      kill(p.pid, SIGUSR1); // all started: pids > 0
    std::uint64_t counted = 0, observed = 0;
    for (std::size_t i = 0; i < procs.size(); ++i) {
      unsigned long long c = 0, h = 0;
      if (std::fscanf(procs[i].out, " DONE %llu %llu", &c, &h) != 2) {
        std::fprintf(stderr, "node %zu did not report its totals\n", i);
        kill_all();
        return 2;
      }
      counted += c;
      observed += h;
    }
    int settle = 0;
    tick_record last;
    bool exact = false;
    while (!exact && settle < 15 && next_view(last)) {
      ++settle;
      exact = last.counted == counted && last.observed == observed;
    }
    // Figures.
    std::size_t on_schedule = 0;
    double tick_s = static_cast<double>(o.tick_ms) / 1000.0;
    for (std::size_t i = 1; i < ticks.size(); ++i) {
      double gap = std::chrono::duration<double>(ticks[i].at - ticks[i - 1].at).count();
      if (gap <= 1.25 * tick_s && ticks[i].nodes_up == o.nodes && ticks[i].max_age <= 1.5 * tick_s)
        ++on_schedule;
    }
    std::size_t merged_ticks = ticks.size() - 1;
    std::uint64_t received = 0;
    for (std::size_t i = 0; i < after.size() && i < before.size(); ++i)
      received += after[i].snapshots - before[i].snapshots;
    double expected_snaps = static_cast<double>(o.nodes) * elapsed / tick_s;
    double collector_cpu = cpu_seconds(r1) - cpu_seconds(r0);
    double node_series = static_cast<double>(merged_ticks) * o.nodes * static_cast<double>(o.metrics);
    double received_series = static_cast<double>(received) * static_cast<double>(o.metrics);
    std::printf("nodes=%d metrics/node=%zu tick=%ldms copies=%s node-nice=%d pinned=%s scheduler=%s window=%.1fs\n",
                o.nodes, o.metrics, o.tick_ms, o.copies ? "on" : "off", o.node_nice, o.pin ? "yes" : "no",
                o.caf_scheduler ? "caf-default" : "quiet", elapsed);
    std::printf("  collector ticks: %zu (schedule %.0f), on schedule with every node merged: %zu = %.1f%%\n",
                merged_ticks, elapsed / tick_s, on_schedule,
                merged_ticks ? 100.0 * static_cast<double>(on_schedule) / static_cast<double>(merged_ticks) : 0.0);
    std::printf("  node snapshots received: %" PRIu64 " of ~%.0f sent (%.1f%%)\n", received, expected_snaps,
                100.0 * static_cast<double>(received) / expected_snaps);
    std::printf("  collector CPU: %.2f s = %.0f%% of one core; %.2f us per node-series merged, "
                "%.2f us per node-series received\n",
                collector_cpu, 100.0 * collector_cpu / elapsed, 1e6 * collector_cpu / node_series,
                1e6 * collector_cpu / received_series);
    std::printf("  node CPU: %.0f%% of one core in total, %.1f%% per node; collector RSS %.0f MB\n",
                100.0 * node_cpu / elapsed, 100.0 * node_cpu / elapsed / o.nodes, rss_mb());
    std::printf("  exact totals: %s (merged %" PRIu64 " counted, %" PRIu64 " observed; nodes recorded %" PRIu64
                ", %" PRIu64 "; %d ticks after the stop)\n",
                exact ? "yes" : "NO", last.counted, last.observed, counted, observed, settle);
    std::fflush(stdout);
    if (o.check && !exact)
      rc = 1;
    kill_all(); // first: the collector's connections close with them
    caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
  }
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 7 && std::strcmp(argv[1], "node") == 0)
    return node(std::strtoull(argv[2], nullptr, 10), std::strtol(argv[3], nullptr, 10),
                std::strtoull(argv[4], nullptr, 10), std::strtoull(argv[5], nullptr, 10),
                std::strcmp(argv[6], "caf") == 0);
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has = i + 1 < argc;
    if (a == "--nodes" && has)
      o.nodes = std::atoi(argv[++i]);
    else if (a == "--metrics" && has)
      o.metrics = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--seconds" && has)
      o.seconds = std::strtod(argv[++i], nullptr);
    else if (a == "--tick-ms" && has)
      o.tick_ms = std::strtol(argv[++i], nullptr, 10);
    else if (a == "--values" && has)
      o.values = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--node-nice" && has)
      o.node_nice = std::atoi(argv[++i]);
    else if (a == "--copies")
      o.copies = true;
    else if (a == "--pin")
      o.pin = true;
    else if (a == "--caf-scheduler")
      o.caf_scheduler = true;
    else if (a == "--check")
      o.check = true;
    else {
      std::fprintf(stderr,
                   "usage: %s [--nodes N] [--metrics M] [--seconds D] [--tick-ms T] [--values V] [--copies] "
                   "[--node-nice K] [--pin] [--caf-scheduler] [--check]\n",
                   argv[0]);
      return 2;
    }
  }
  if (o.nodes < 1 || o.metrics < 10 || o.tick_ms < 10 || o.seconds <= 0) {
    std::fprintf(stderr, "metron-cluster-capacity: nodes >= 1, metrics >= 10, tick-ms >= 10, seconds > 0\n");
    return 2;
  }
  return run(o);
}
