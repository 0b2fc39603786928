// bench/scaling.cpp — metron_scaling: 2-thread scaling measured in paired rounds,
// beside controls that share nothing, so the host's part of the figure can be seen.
//
// Why it exists: the sweep in metron_bench judges "scaling efficiency" from medians
// of separate, randomly interleaved 1- and 2-thread runs. On a shared 2-vCPU VM the
// host's placement of the two vCPUs (two hyperthreads of one core, or beside another
// tenant's work) can change from one second to the next, and with it any 2-thread
// figure, whatever the code does. This program measures each
// workload's 1- and 2-thread throughput back to back, round after round, together
// with `floor/alu_throughput` (six independent register operations per iteration: no
// memory at all, so nothing the two threads could share but the host's cores) and
// `floor/private_fetch_add`. Per round it prints each workload's scaling
// ops/s(2 threads) / (2 x ops/s(1 thread)); at the end the median, quartiles and
// range over the rounds, and each workload's correlation with the ALU control.
//
// The same pairing for "recording while the aggregator ticks": each round, 2 pinned
// workers record (counter.add + histogram.record per op) into the 10,000-metric
// registry of the tick benchmark (populated_registry.hpp) for about a second, once
// with a thread snapshotting it every 100 ms (ticker.hpp) and once without, in
// random order; the ratio is ops/s with ÷ ops/s without.
//
// Threads: two workers created once, pinned one per CPU (bench_support.hpp, thread i
// on CPU i % ncpu), kept for the whole run, so no run pays a thread's first record.
//
// Usage: metron_scaling [ROUNDS=20] [MS_PER_RUN=100] [--rounds]  (--rounds: print every round;
//        a ticking pair runs 10 x MS_PER_RUN per side, so it sees ~10 ticks)
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <metron/metron.hpp>

#include "bench_support.hpp"
#include "populated_registry.hpp"
#include "ticker.hpp"

namespace {

using namespace metron_bench;
using clock_type = std::chrono::steady_clock;

const auto& values = latencies();

struct alignas(64) private_line {
  std::atomic<std::uint64_t> value{0};
};
private_line private_lines[2]; // one per worker

metron::registry& registry() {
  static metron::registry reg;
  return reg;
}
metron::histogram& bench_histogram() {
  static metron::histogram& h = registry().histogram("scaling_latency_seconds");
  return h;
}
metron::counter& bench_counter() {
  static metron::counter& c = registry().counter("scaling_requests_total");
  return c;
}

// The scaling workloads, then the ticking one (not a scaling row), then "stop".
enum workload : int { alu, floor_fetch_add, counter_add, histogram_record, workload_count, tick_record = workload_count,
                      stop };
const char* const names[workload_count] = {"floor/alu_throughput", "floor/private_fetch_add", "metron/counter.add",
                                           "metron/histogram.record"};

/// The tick benchmark's registry: 10,000 metrics, built once, before any timing.
populated_registry& tick_registry() { return registry_of(10000); }

/// Runs n iterations of workload w on worker `index`; returns the seconds it took.
/// Each case is its own loop (no call per iteration), as in the recording sweep.
double run_loop(workload w, int index, std::uint64_t n) {
  std::uint64_t i = static_cast<std::uint64_t>(index) * 1031;
  const auto t0 = clock_type::now();
  switch (w) {
  case alu:
    alu_loop(n, i);
    break;
  case floor_fetch_add: {
    auto& line = private_lines[index].value;
    for (std::uint64_t k = 0; k < n; ++k)
      line.fetch_add(1, std::memory_order_relaxed); // relaxed: a private count, read by nobody
    break;
  }
  case counter_add: {
    auto& c = bench_counter();
    for (std::uint64_t k = 0; k < n; ++k)
      c.add();
    break;
  }
  case histogram_record: {
    auto& h = bench_histogram();
    for (std::uint64_t k = 0; k < n; ++k, ++i)
      h.record(values[i & value_mask]);
    break;
  }
  case tick_record: {
    auto& c = *tick_registry().hot_counter;
    auto& h = *tick_registry().hot_histogram;
    for (std::uint64_t k = 0; k < n; ++k, ++i) {
      c.add();
      h.record(values[i & value_mask]);
    }
    break;
  }
  case stop:
    break;
  }
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// Two pinned workers that run one job at a time: main publishes the job, all three
/// meet at the barrier, the workers run, all three meet again.
class workers {
public:
  workers() {
    for (int t = 0; t < 2; ++t)
      threads_.emplace_back([this, t] { loop(t); });
  }
  ~workers() {
    job_ = {stop, 0, 0};
    start_.arrive_and_wait();
    for (auto& t : threads_)
      t.join();
  }
  workers(const workers&) = delete;
  workers& operator=(const workers&) = delete;

  /// Total ops/s of `threads` workers each running n iterations of w.
  double run(workload w, int threads, std::uint64_t n) {
    job_ = {w, threads, n};
    start_.arrive_and_wait();
    done_.arrive_and_wait();
    double ops = 0;
    for (int t = 0; t < threads; ++t)
      ops += static_cast<double>(n) / seconds_[t];
    return ops;
  }

private:
  struct job {
    workload what;
    int threads;
    std::uint64_t n;
  };

  void loop(int index) {
    pin_this_thread(index);
    for (;;) {
      start_.arrive_and_wait(); // the barrier orders job_ and seconds_ between the threads
      const job j = job_;
      if (j.what == stop)
        return;
      if (index < j.threads)
        seconds_[index] = run_loop(j.what, index, j.n);
      done_.arrive_and_wait();
    }
  }

  std::barrier<> start_{3};
  std::barrier<> done_{3};
  job job_{alu, 0, 0};
  double seconds_[2] = {0, 0};
  std::vector<std::thread> threads_;
};

double quantile(std::vector<double> v, double q) { // linear interpolation
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}
double median(const std::vector<double>& v) { return quantile(v, 0.5); }
double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    mx += x[k];
    my += y[k];
  }
  mx /= static_cast<double>(x.size());
  my /= static_cast<double>(y.size());
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
    syy += (y[k] - my) * (y[k] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

} // namespace

int main(int argc, char** argv) {
  int rounds = 20;
  double ms_per_run = 100;
  bool print_rounds = false;
  int positional = 0;
  for (int a = 1; a < argc; ++a) {
    if (std::strcmp(argv[a], "--rounds") == 0) {
      print_rounds = true;
    } else if (positional == 0) {
      rounds = std::atoi(argv[a]);
      ++positional;
    } else {
      ms_per_run = std::atof(argv[a]);
      ++positional;
    }
  }
  if (rounds < 2 || ms_per_run <= 0) {
    std::fprintf(stderr, "usage: metron_scaling [ROUNDS>=2] [MS_PER_RUN>0] [--rounds]\n");
    return 2;
  }

  workers pool;
  // Calibrate: iterations per run so one thread takes about ms_per_run (the first
  // pass also gives both workers their slab and histogram blocks).
  std::uint64_t n[workload_count];
  for (int w = 0; w < workload_count; ++w) {
    const auto wl = static_cast<workload>(w);
    pool.run(wl, 2, 1'000'000);
    const double ops = pool.run(wl, 1, 4'000'000);
    n[w] = static_cast<std::uint64_t>(ops * ms_per_run / 1e3);
  }

  std::mt19937 rng{20261201};
  std::vector<double> scaling[workload_count], one[workload_count];
  if (print_rounds) {
    std::printf("round");
    for (const char* name : names)
      std::printf("  %s", name);
    std::printf("\n");
  }
  for (int r = 0; r < rounds; ++r) {
    int order[workload_count] = {0, 1, 2, 3};
    std::shuffle(std::begin(order), std::end(order), rng);
    double s[workload_count];
    for (int w : order) {
      const auto wl = static_cast<workload>(w);
      double ops1, ops2; // total ops/s at 1 and 2 threads
      if (rng() & 1) {
        ops1 = pool.run(wl, 1, n[w]);
        ops2 = pool.run(wl, 2, n[w]);
      } else {
        ops2 = pool.run(wl, 2, n[w]);
        ops1 = pool.run(wl, 1, n[w]);
      }
      s[w] = ops2 / (2 * ops1);
      scaling[w].push_back(s[w]);
      one[w].push_back(1e9 / ops1);
    }
    if (print_rounds) {
      std::printf("%5d", r);
      for (int w = 0; w < workload_count; ++w)
        std::printf("  %*.3f", static_cast<int>(std::strlen(names[w])), s[w]);
      std::printf("\n");
    }
  }

  // Recording while a thread snapshots the registry every 100 ms, against none.
  tick_registry();
  pool.run(tick_record, 2, 1'000'000);
  const auto n_tick = static_cast<std::uint64_t>(pool.run(tick_record, 1, 4'000'000) * 10 * ms_per_run / 1e3);
  std::vector<double> tick_ratio, tick_ms, tick_one;
  for (int r = 0; r < rounds; ++r) {
    const bool ticking_first = rng() & 1;
    double with = 0, without = 0;
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == ticking_first) {
        ticker t{tick_registry().reg, std::chrono::milliseconds{100}};
        with = pool.run(tick_record, 2, n_tick);
        t.stop();
        tick_ms.push_back(t.ticks() ? 1e3 * t.busy_seconds() / static_cast<double>(t.ticks()) : 0.0);
      } else {
        without = pool.run(tick_record, 2, n_tick);
      }
    }
    tick_ratio.push_back(with / without);
    tick_one.push_back(2e9 / without); // ns per op per thread, without the ticker
    if (print_rounds)
      std::printf("ticking round %2d: with ÷ without %.3f (snapshot %.2f ms)\n", r, tick_ratio.back(), tick_ms.back());
  }

  std::printf("# 2-thread scaling in %d paired rounds, %.0f ms per run, workers pinned one per CPU\n", rounds,
              ms_per_run);
  std::printf("# workload  ns/op(1 thread, median)  scaling: median  q1  q3  min  max  corr(alu_throughput)\n");
  for (int w = 0; w < workload_count; ++w)
    std::printf("scaling %s %.2f %.3f %.3f %.3f %.3f %.3f %.2f\n", names[w], median(one[w]), median(scaling[w]),
                quantile(scaling[w], 0.25), quantile(scaling[w], 0.75),
                *std::min_element(scaling[w].begin(), scaling[w].end()),
                *std::max_element(scaling[w].begin(), scaling[w].end()), correlation(scaling[w], scaling[alu]));
  std::printf("# recording while a thread snapshots the 10,000-metric registry every 100 ms, %d paired rounds of "
              "%.0f ms per side; snapshot %.2f ms (median)\n",
              rounds, 10 * ms_per_run, median(tick_ms));
  std::printf("# ns/op per thread without the ticker (median)  with ÷ without: median  q1  q3  min  max\n");
  std::printf("ticking metron/counter.add+histogram.record %.2f %.3f %.3f %.3f %.3f %.3f\n", median(tick_one),
              median(tick_ratio), quantile(tick_ratio, 0.25), quantile(tick_ratio, 0.75),
              *std::min_element(tick_ratio.begin(), tick_ratio.end()),
              *std::max_element(tick_ratio.begin(), tick_ratio.end()));
  return 0;
}
