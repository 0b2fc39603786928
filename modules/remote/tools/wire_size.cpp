// metron-remote-wire — what the remote module costs on this machine.
//
//   metron-remote-wire sizes [M...]            bytes on the wire per snapshot for M metrics
//                                               (default 100 and 10000) and the CPU time to
//                                               serialize, deserialize, merge and aggregate
//   metron-remote-wire run N M T D             N node processes (this program, "serve") with
//                                               M metrics each ticking every T ms, a collector
//                                               in this process merging every T ms, for D s:
//                                               snapshots received vs sent, collector ticks,
//                                               CPU of the collector and of the nodes
//   metron-remote-wire serve M T               one node (used by run), prints "PORT <p>"
//   metron-remote-wire delta [M...]            the delta wire (NOTES.md "Delta wire"): bytes
//                                               of the first (full) frame and of steady-state
//                                               frames when 0%, 1%, 10% or 100% of the series
//                                               change per tick, against CAF's serialization
//                                               of the same tick, and encode / decode times
//
// Metrics are mixed like a service's: 40% counters (two labels), 20% gauges, 10% up/down
// counters, 30% histograms of 2000 lognormal latencies (median 2 ms, sigma 0.8), so each
// histogram has a realistic few hundred non-empty buckets. Snapshots carry what a monitor
// publishes: rates, 4 quantiles, 2 windows (one aggregation tick after a baseline).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <metron/remote.hpp>

#include "wire_codec.hpp"

namespace {

using steady = std::chrono::steady_clock;

// A slot of the mix below per kind (counter, gauge, up/down counter, histogram).
constexpr int kind_slot[] = {0, 4, 6, 7};

// only_kind < 0: the mix; 0..3: only counters / gauges / up-down counters / histograms.
void populate(metron::registry& reg, std::size_t m, std::uint64_t seed, int only_kind = -1) {
  std::mt19937_64 rng{seed};
  std::lognormal_distribution<double> lat{std::log(0.002), 0.8};
  for (std::size_t i = 0; i < m; ++i) {
    auto id = std::to_string(i);
    switch (only_kind < 0 ? static_cast<int>(i % 10) : kind_slot[only_kind]) {
      case 0: case 1: case 2: case 3:
        reg.counter("svc_requests_" + id + "_total", {{"method", "GET"}, {"code", "200"}}).add(rng() % 100000);
        break;
      case 4: case 5:
        reg.gauge("svc_level_" + id).set(static_cast<double>(rng() % 1000) / 7.0);
        break;
      case 6:
        reg.updown_counter("svc_inflight_" + id).add(static_cast<std::int64_t>(rng() % 50));
        break;
      default: {
        auto& h = reg.histogram("svc_latency_" + id + "_seconds", {{"path", "/api"}});
        for (int k = 0; k < 2000; ++k)
          h.record(lat(rng));
      }
    }
  }
}

// A snapshot as a monitor publishes it (second tick: rates, quantiles, windows).
metron::report_ptr published(metron::registry& reg) {
  metron::aggregation agg;
  auto raw = reg.snapshot();
  raw.mono_ns = 1'000'000'000;
  agg.tick(raw);
  raw = reg.snapshot();
  raw.mono_ns = 2'000'000'000;
  return agg.tick(std::move(raw));
}

template <class F>
double ms_per_call(F f, int reps) {
  auto t0 = steady::now();
  for (int i = 0; i < reps; ++i)
    f();
  return std::chrono::duration<double, std::milli>(steady::now() - t0).count() / reps;
}

int sizes(std::vector<std::size_t> ms) {
  caf::actor_system_config cfg;
  metron::remote::add_message_types(cfg);
  caf::actor_system sys{cfg};
  std::printf("%8s %8s %12s %12s %10s %10s %10s %12s %14s\n", "metrics", "series", "buckets", "bytes/snap",
              "B/metric", "ser ms", "deser ms", "merge3 ms", "aggregate ms");
  for (auto m : ms) {
    metron::registry reg;
    populate(reg, m, 42);
    auto snap = published(reg);
    std::size_t buckets = 0;
    for (auto& h : snap->raw().histograms)
      buckets += h.data.buckets().size();
    // What BASP puts in a message's payload: the message (type names + snapshot).
    auto msg = caf::make_message(snap);
    std::vector<char> buf;
    int reps = m > 1000 ? 10 : 500;
    double ser = ms_per_call([&] {
      buf.clear();
      caf::binary_serializer sink{sys, buf};
      sink(msg);
    }, reps);
    double deser = ms_per_call([&] {
      caf::message back;
      caf::binary_deserializer source{sys, buf};
      source(back);
    }, reps);
    // Collector side: merge three such nodes (totals + node copies) and aggregate.
    std::vector<metron::remote::cluster_node> nodes;
    for (int n = 0; n < 3; ++n)
      nodes.push_back({"127.0.0.1:" + std::to_string(4000 + n), true, snap->raw_ptr(), {}});
    metron::snapshot merged;
    double merge = ms_per_call([&] { merged = metron::remote::merge_cluster(nodes); }, reps);
    metron::aggregation agg;
    std::int64_t t = 0;
    double aggregate = ms_per_call([&] {
      auto raw = merged;
      raw.mono_ns = (t += 100'000'000);
      agg.tick(std::move(raw));
    }, reps);
    std::printf("%8zu %8zu %12zu %12zu %10.1f %10.3f %10.3f %12.3f %14.3f\n", m, snap->series(), buckets,
                buf.size(), static_cast<double>(buf.size()) / static_cast<double>(m), ser, deser, merge,
                aggregate);
  }
  // Per kind, as published (with rates, quantiles and windows), 1000 metrics each.
  const char* kinds[] = {"counter", "gauge", "updown", "histogram"};
  for (int k = 0; k < 4; ++k) {
    metron::registry reg;
    populate(reg, 1000, 7, k);
    auto msg = caf::make_message(published(reg));
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    sink(msg);
    std::printf("  %-10s %7.1f bytes per series on the wire\n", kinds[k], static_cast<double>(buf.size()) / 1000.0);
  }
  return 0;
}

// Bytes CAF's serializer makes of a message carrying `snap` (what BASP sends): a
// snapshot_ptr or a report_ptr.
template <class Ptr>
std::size_t caf_bytes(caf::actor_system& sys, const Ptr& snap) {
  auto msg = caf::make_message(snap);
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  sink(msg);
  return buf.size();
}

// One tick of a node: a `share` of the metrics (chosen at random) move: counters and
// up/down counters by a few, gauges to a new value, histograms record 20 latencies.
void step(metron::registry& reg, std::size_t m, double share, std::mt19937_64& rng, int only_kind = -1) {
  std::lognormal_distribution<double> lat{std::log(0.002), 0.8};
  std::uniform_real_distribution<double> u{0, 1};
  for (std::size_t i = 0; i < m; ++i) {
    if (u(rng) >= share)
      continue;
    auto id = std::to_string(i);
    switch (only_kind < 0 ? static_cast<int>(i % 10) : kind_slot[only_kind]) {
      case 0: case 1: case 2: case 3:
        reg.counter("svc_requests_" + id + "_total", {{"method", "GET"}, {"code", "200"}}).add(1 + rng() % 100);
        break;
      case 4: case 5:
        reg.gauge("svc_level_" + id).set(static_cast<double>(rng() % 1000) / 7.0);
        break;
      case 6:
        reg.updown_counter("svc_inflight_" + id).add(static_cast<std::int64_t>(rng() % 9) - 4);
        break;
      default: {
        auto& h = reg.histogram("svc_latency_" + id + "_seconds", {{"path", "/api"}});
        for (int k = 0; k < 20; ++k)
          h.record(lat(rng));
      }
    }
  }
}

int delta(std::vector<std::size_t> ms) {
  namespace wire = metron::remote::wire;
  caf::actor_system_config cfg;
  metron::remote::add_message_types(cfg);
  caf::actor_system sys{cfg};
  std::printf("%8s %8s %9s %12s %12s %12s %9s %9s %10s %10s\n", "metrics", "change", "frame B", "B/series",
              "CAF raw B", "CAF pub B", "x raw", "x pub", "encode ms", "decode ms");
  // CAF's serializer and deserializer on the same snapshot, CPU time, for comparison.
  auto caf_times = [&](const metron::snapshot_ptr& snap, int reps) {
    auto msg = caf::make_message(snap);
    std::vector<char> buf;
    timespec a{}, b{}, c{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    for (int i = 0; i < reps; ++i) {
      buf.clear();
      caf::binary_serializer sink{sys, buf};
      sink(msg);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    for (int i = 0; i < reps; ++i) {
      caf::message back;
      caf::binary_deserializer source{sys, buf};
      source(back);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c);
    auto ms = [](const timespec& x, const timespec& y) {
      return (static_cast<double>(y.tv_sec - x.tv_sec) * 1e3 + static_cast<double>(y.tv_nsec - x.tv_nsec) / 1e6);
    };
    std::printf("%8s CAF, raw snapshot (CPU): serialize %.3f ms, deserialize %.3f ms\n", "", ms(a, b) / reps,
                ms(b, c) / reps);
  };
  for (auto m : ms) {
    metron::registry reg;
    populate(reg, m, 42);
    std::mt19937_64 rng{7};
    wire::encoder enc;
    wire::decoder dec;
    // Times are this thread's CPU time (the machine is shared; wall time is not ours).
    auto cpu_ms = [] {
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
    };
    auto exchange = [&](const metron::snapshot_ptr& s, double& enc_ms, double& dec_ms) {
      auto t0 = cpu_ms();
      auto frame = enc.encode(s);
      auto t1 = cpu_ms();
      auto got = dec.apply(frame);
      auto t2 = cpu_ms();
      if (!got || got->series() != s->series()) {
        std::fprintf(stderr, "decode failed\n");
        std::exit(1);
      }
      enc.acknowledged(dec.held());
      enc_ms += t1 - t0;
      dec_ms += t2 - t1;
      return frame.size();
    };
    auto raw = std::make_shared<const metron::snapshot>(reg.snapshot());
    double e0 = 0, d0 = 0;
    auto first = exchange(raw, e0, d0);
    auto caf_raw = caf_bytes(sys, raw);
    auto caf_pub = caf_bytes(sys, published(reg));
    caf_times(raw, m > 1000 ? 3 : 100);
    std::printf("%8zu %8s %9zu %12.2f %12zu %12zu %9.1f %9.1f %10.3f %10.3f\n", m, "full", first,
                static_cast<double>(first) / static_cast<double>(raw->series()), caf_raw, caf_pub,
                static_cast<double>(caf_raw) / static_cast<double>(first),
                static_cast<double>(caf_pub) / static_cast<double>(first), e0, d0);
    for (double share : {0.0, 0.01, 0.1, 1.0}) {
      int ticks = m > 1000 ? 10 : 50;
      std::size_t bytes = 0;
      double e = 0, d = 0;
      for (int t = 0; t < ticks; ++t) {
        step(reg, m, share, rng);
        bytes += exchange(std::make_shared<const metron::snapshot>(reg.snapshot()), e, d);
      }
      double per_frame = static_cast<double>(bytes) / ticks;
      // CAF's bytes for the tick as it is now (histograms gain buckets as they record).
      caf_raw = caf_bytes(sys, std::make_shared<const metron::snapshot>(reg.snapshot()));
      caf_pub = caf_bytes(sys, published(reg));
      char label[16];
      std::snprintf(label, sizeof label, "%g%%", share * 100);
      std::printf("%8zu %8s %9.0f %12.2f %12zu %12zu %9.0f %9.0f %10.3f %10.3f\n", m, label, per_frame,
                  per_frame / static_cast<double>(raw->series()), caf_raw, caf_pub,
                  static_cast<double>(caf_raw) / per_frame, static_cast<double>(caf_pub) / per_frame, e / ticks,
                  d / ticks);
    }
  }
  // Per kind, 1000 series each: the full frame, and a tick where every series moves.
  const char* kinds[] = {"counter", "gauge", "updown", "histogram"};
  for (int k = 0; k < 4; ++k) {
    metron::registry reg;
    populate(reg, 1000, 7, k);
    std::mt19937_64 rng{3};
    wire::encoder enc;
    wire::decoder dec;
    auto send = [&] {
      auto frame = enc.encode(std::make_shared<const metron::snapshot>(reg.snapshot()));
      dec.apply(frame);
      enc.acknowledged(dec.held());
      return static_cast<double>(frame.size()) / 1000.0;
    };
    double full = send();
    step(reg, 1000, 1.0, rng, k);
    double moved = send();
    std::printf("  %-10s full %7.1f B per series, changed %6.1f B per series\n", kinds[k], full, moved);
  }
  return 0;
}

int serve(std::size_t m, long tick_ms) {
  metron::registry reg;
  populate(reg, m, static_cast<std::uint64_t>(getpid()));
  caf::actor_system_config cfg;
  metron::remote::configure(cfg);
  caf::actor_system sys{cfg};
  metron::monitor_config mc;
  mc.interval = std::chrono::milliseconds{tick_ms};
  auto mon = metron::spawn_monitor(sys, reg, mc);
  std::printf("PORT %u\n", static_cast<unsigned>(metron::remote::publish(sys, mon, 0)));
  std::fflush(stdout);
  auto& c = reg.counter("svc_requests_0_total", {{"method", "GET"}, {"code", "200"}});
  for (;;) { // keep one series moving so the snapshots change
    c.add();
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
}

int run(int n, std::size_t m, long tick_ms, double seconds) {
  std::vector<pid_t> pids;
  std::vector<metron::remote::endpoint> eps;
  auto cleanup = [&] {
    for (auto pid : pids)
      kill(pid, SIGKILL);
  };
  for (int i = 0; i < n; ++i) {
    int fds[2];
    if (pipe(fds) != 0)
      return 1;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
        _exit(127);
      dup2(fds[1], STDOUT_FILENO);
      auto ms = std::to_string(m);
      auto ts = std::to_string(tick_ms);
      execl("/proc/self/exe", "metron-remote-wire", "serve", ms.c_str(), ts.c_str(), nullptr);
      _exit(127);
    }
    close(fds[1]);
    pids.push_back(pid);
    FILE* f = fdopen(fds[0], "r");
    unsigned port = 0;
    if (std::fscanf(f, "PORT %u", &port) != 1) {
      std::fprintf(stderr, "node %d did not start\n", i);
      cleanup();
      return 1;
    }
    fclose(f);
    eps.push_back({"127.0.0.1", static_cast<std::uint16_t>(port)});
  }
  int rc = 0;
  {
    caf::actor_system_config cfg;
    metron::remote::configure(cfg);
    caf::actor_system sys{cfg};
    metron::remote::collector_config cc;
    cc.nodes = eps;
    cc.monitor.interval = std::chrono::milliseconds{tick_ms};
    cc.down_timeout = std::chrono::milliseconds{std::max(2000L, 10 * tick_ms)};
    auto col = metron::remote::spawn_collector(sys, cc);
    caf::scoped_actor self{sys};
    auto ask_nodes = [&] {
      std::vector<metron::remote::node_status> xs;
      self->request(col, std::chrono::seconds{30}, metron::remote::nodes_atom::value)
        .receive([&](std::vector<metron::remote::node_status> v) { xs = std::move(v); }, [](caf::error&) {});
      return xs;
    };
    auto ask_view = [&] {
      metron::report_ptr s;
      self->request(col, std::chrono::seconds{30}, metron::get_atom::value)
        .receive([&](metron::report_ptr v) { s = std::move(v); }, [](caf::error&) {});
      return s;
    };
    // Wait until every node is up, then measure.
    auto deadline = steady::now() + std::chrono::seconds{60};
    for (;;) {
      auto xs = ask_nodes();
      std::size_t up = 0;
      for (auto& x : xs)
        up += x.up ? 1 : 0;
      if (up == eps.size())
        break;
      if (steady::now() > deadline) {
        std::fprintf(stderr, "nodes did not come up\n");
        cleanup();
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    rusage r0{};
    getrusage(RUSAGE_SELF, &r0);
    auto before = ask_nodes();
    auto v0 = ask_view();
    auto t0 = steady::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    auto after = ask_nodes();
    auto v1 = ask_view();
    double dt = std::chrono::duration<double>(steady::now() - t0).count();
    rusage r1{};
    getrusage(RUSAGE_SELF, &r1);
    auto cpu = [](const rusage& r) {
      return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec)
             + static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
    };
    std::size_t snap_bytes = 0; // one node snapshot of this shape on the wire
    {
      metron::registry reg;
      populate(reg, m, 1);
      std::vector<char> buf;
      caf::binary_serializer sink{sys, buf};
      auto msg = caf::make_message(published(reg));
      sink(msg);
      snap_bytes = buf.size();
    }
    std::uint64_t got = 0;
    std::size_t up = 0;
    for (std::size_t i = 0; i < after.size(); ++i) {
      got += after[i].snapshots - before[i].snapshots;
      up += after[i].up ? 1 : 0;
    }
    double expected = n * dt * 1000.0 / static_cast<double>(tick_ms);
    double ticks = static_cast<double>(v1->sequence() - v0->sequence());
    std::printf("nodes=%d metrics/node=%zu tick=%ldms: received %.0f%% of node snapshots (%llu of ~%.0f), "
                "collector ticks %.0f%% of schedule, collector CPU %.0f%% of one core, "
                "%.1f MB/s in, merged series %zu, nodes up %zu/%d\n",
                n, m, tick_ms, 100.0 * static_cast<double>(got) / expected, static_cast<unsigned long long>(got),
                expected, 100.0 * ticks / (dt * 1000.0 / static_cast<double>(tick_ms)),
                100.0 * (cpu(r1) - cpu(r0)) / dt,
                static_cast<double>(got) * static_cast<double>(snap_bytes) / dt / 1e6, v1->series(), up, n);
    caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
  }
  cleanup();
  for (auto pid : pids) {
    int st = 0;
    rusage ru{};
    wait4(pid, &st, 0, &ru);
  }
  return rc;
}

} // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "sizes";
  if (mode == "sizes") {
    std::vector<std::size_t> ms;
    for (int i = 2; i < argc; ++i)
      ms.push_back(std::strtoull(argv[i], nullptr, 10));
    if (ms.empty())
      ms = {100, 10000};
    return sizes(ms);
  }
  if (mode == "delta") {
    std::vector<std::size_t> ms;
    for (int i = 2; i < argc; ++i)
      ms.push_back(std::strtoull(argv[i], nullptr, 10));
    if (ms.empty())
      ms = {100, 10000};
    return delta(ms);
  }
  if (mode == "serve" && argc == 4)
    return serve(std::strtoull(argv[2], nullptr, 10), std::strtol(argv[3], nullptr, 10));
  if (mode == "run" && argc == 6)
    return run(std::atoi(argv[2]), std::strtoull(argv[3], nullptr, 10), std::strtol(argv[4], nullptr, 10),
               std::strtod(argv[5], nullptr));
  std::fprintf(stderr, "usage: %s sizes [M...] | delta [M...] | run N M T D | serve M T\n", argv[0]);
  return 2;
}
