// bench/ticker.hpp — a background thread that snapshots a registry every period,
// as the aggregator does every tick; the benchmarks compare recording with and
// without it (snapshot_bench.cpp, scaling.cpp).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include <benchmark/benchmark.h>

#include <metron/metron.hpp>

namespace metron_bench {

/// Snapshots `reg` every `period` until stopped; waits on a condition variable, so
/// it sleeps between ticks and wakes at once when stopped.
class ticker {
public:
  ticker(metron::registry& reg, std::chrono::milliseconds period)
    : thread_([this, &reg, period] { loop(reg, period); }) {}

  ~ticker() { stop(); }

  void stop() {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }

  std::uint64_t ticks() const { return ticks_; }
  double busy_seconds() const { return busy_; }

private:
  void loop(metron::registry& reg, std::chrono::milliseconds period) {
    auto next = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock{mutex_};
    while (!stopping_) {
      lock.unlock();
      auto t0 = std::chrono::steady_clock::now();
      metron::snapshot s = reg.snapshot();
      benchmark::DoNotOptimize(s);
      busy_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ++ticks_;
      next += period;
      lock.lock();
      cv_.wait_until(lock, next, [this] { return stopping_; });
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::uint64_t ticks_ = 0; // written by the ticker, read after join
  double busy_ = 0;
  std::thread thread_;
};

} // namespace metron_bench
