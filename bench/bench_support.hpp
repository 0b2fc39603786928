// bench/bench_support.hpp — what every metron benchmark shares: thread pinning,
// the precomputed latency values, and the per-run counters the report reads.
//
// Pinning: on this project's 2-vCPU machines the kernel often leaves two benchmark
// threads on one CPU, which makes every 2-thread figure meaningless. So benchmark
// thread i is pinned to the i-th CPU of the process's original affinity mask
// (i % ncpu; 4 threads on 2 CPUs are oversubscribed on purpose). METRON_BENCH_PIN=0
// disables it.
//
// Values: 4096 latencies in seconds, log-normal around 2 ms (sigma 0.5) with a 3%
// tail around 25 ms (sigma 0.8), generated once from a fixed seed, so a benchmark
// records varied values (branch predictors and caches are not flattered by one
// constant) and every run records the same ones.
#pragma once

#include <benchmark/benchmark.h>

#include <pthread.h>
#include <sched.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace metron_bench {

// -- CPUs and pinning ------------------------------------------------------------

/// The CPUs this process may run on, read once before any thread is pinned.
inline const std::vector<int>& allowed_cpus() {
  static const std::vector<int> cpus = [] {
    std::vector<int> out;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
      for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set))
          out.push_back(c);
    if (out.empty())
      out.push_back(0);
    return out;
  }();
  return cpus;
}

// Read the mask during static initialisation, before main() pins anything.
inline const bool cpus_read_early = (allowed_cpus(), true);

inline bool pinning_enabled() {
  static const bool on = [] {
    const char* env = std::getenv("METRON_BENCH_PIN");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }();
  return on;
}

/// Pins the calling thread to CPU (index % ncpu) of the original mask; no-op when
/// METRON_BENCH_PIN=0. Returns the CPU, or -1 when not pinned.
inline int pin_this_thread(int index) {
  if (!pinning_enabled())
    return -1;
  const auto& cpus = allowed_cpus();
  int cpu = cpus[static_cast<std::size_t>(index) % cpus.size()];
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0 ? cpu : -1;
}

/// Puts the calling thread back on every CPU of the original mask.
inline void unpin_this_thread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : allowed_cpus())
    CPU_SET(c, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

// -- recorded values -------------------------------------------------------------

inline constexpr std::size_t value_count = 4096;
inline constexpr std::size_t value_mask = value_count - 1;

/// 4096 realistic latencies in seconds (see the file comment).
inline const std::array<double, value_count>& latencies() {
  static const std::array<double, value_count> values = [] {
    std::array<double, value_count> v{};
    std::mt19937_64 rng{20240601};
    std::lognormal_distribution<double> body{std::log(0.002), 0.5};
    std::lognormal_distribution<double> tail{std::log(0.025), 0.8};
    std::bernoulli_distribution in_tail{0.03};
    for (auto& x : v)
      x = in_tail(rng) ? tail(rng) : body(rng);
    return v;
  }();
  return values;
}

// -- the share-nothing control ------------------------------------------------------

/// n iterations of floor/alu_throughput from value i (returns the next i): six
/// independent register operations per iteration and no memory, so two threads
/// running it share nothing but the host's cores. The registers are locals of this
/// loop: kept in a struct across Google Benchmark iterations, GCC 12 left them in
/// memory (1.2-1.4 instead of 0.66-0.73 ns per iteration).
inline std::uint64_t alu_loop(std::uint64_t n, std::uint64_t i) noexcept {
  std::uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
  for (std::uint64_t k = 0; k < n; ++k, ++i) {
    a += i;
    b ^= i;
    c += b;
    d ^= a;
    e += d;
    f ^= c;
    asm volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f)); // keeps every op, adds none
  }
  return i;
}

// -- the loop every throughput benchmark runs ----------------------------------------

/// Sets what the report reads: items_per_second (total ops/s over all threads, the
/// benchmarks use real time) and per_thread_ops (ops/s of an average thread).
inline void finish(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["per_thread_ops"] =
    benchmark::Counter(static_cast<double>(state.iterations()),
                       benchmark::Counter::kIsRate | benchmark::Counter::kAvgThreads);
}

/// Pins the thread, then calls op(i) once per iteration with a varying i (each
/// thread starts at another offset into the value array).
template <class Op>
void run(benchmark::State& state, Op&& op) {
  pin_this_thread(state.thread_index());
  std::uint64_t i = static_cast<std::uint64_t>(state.thread_index()) * 1031;
  for (auto _ : state) {
    op(i);
    ++i;
  }
  finish(state);
}

/// Registers a throughput benchmark at 1, 2 and 4 threads, timed in real time.
template <class Fn>
benchmark::internal::Benchmark* sweep(const char* name, Fn&& fn) {
  return benchmark::RegisterBenchmark(name, std::forward<Fn>(fn))
    ->Threads(1)->Threads(2)->Threads(4)->UseRealTime();
}

} // namespace metron_bench
