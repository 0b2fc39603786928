// metron/detail/locked.hpp — the "traditional" collectors: one mutex per metric.
//
// These are the stores a metric records into when its registry is switched to
// locked mode (registry::set_lock_free(false)), and the baseline every benchmark
// compares the lock-free path with. Each metric always sums its lock-free shards and
// its locked store, so a record lands in one of them whatever the mode and nothing
// is lost when the mode changes.
//
// Concurrency: every member is thread-safe; writers take the metric's mutex, readers
// of a count or of an untouched histogram do not (a snapshot walks every metric).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include <new>

#include "metron/detail/histogram_shard.hpp"

namespace metron::detail {

template <class T>
class locked_integer {
public:
  void add(T n) noexcept {
    std::lock_guard<std::mutex> guard{mutex_};
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); // relaxed: the mutex orders writers
  }
  /// Reads without the lock (a snapshot walks every metric; writers still serialise).
  T read() const noexcept {
    return value_.load(std::memory_order_relaxed); // relaxed: a pure count
  }

private:
  std::mutex mutex_;
  std::atomic<T> value_{0};
};

/// A histogram shard (sparse blocks, count/sum/min/max) behind one mutex,
/// allocated on the first record.
class locked_histogram {
public:
  locked_histogram() = default;
  ~locked_histogram() { delete shard_.load(std::memory_order_relaxed); } // relaxed: no concurrent use at destruction
  locked_histogram(const locked_histogram&) = delete;
  locked_histogram& operator=(const locked_histogram&) = delete;

  /// Records a validated value (finite, >= 0) with bits `bits`; false if out of
  /// memory (the caller counts it as rejected).
  bool record(double v, std::uint64_t bits) noexcept {
    return with_shard([&](histogram_shard& s) { return s.record<true>(v, bits); }); // the mutex makes this the only writer
  }

  /// Calls f(histogram_shard&) under the lock, the shard allocated if need be, and
  /// returns its result; false if out of memory.
  template <class F>
  bool with_shard(F&& f) noexcept {
    std::lock_guard<std::mutex> guard{mutex_};
    auto* s = shard_.load(std::memory_order_relaxed); // relaxed: the mutex orders writers
    if (s == nullptr) [[unlikely]] {
      s = new (std::nothrow) histogram_shard;
      if (s == nullptr)
        return false;
      shard_.store(s, std::memory_order_release); // release: read() may skip the lock while it is null
    }
    return f(*s);
  }

  /// Calls f(const histogram_shard&) under the lock if anything was ever recorded
  /// (without taking the lock when nothing was).
  template <class F>
  void read(F&& f) const {
    if (shard_.load(std::memory_order_acquire) == nullptr) // acquire: pairs with record's release
      return;
    std::lock_guard<std::mutex> guard{mutex_};
    f(*shard_.load(std::memory_order_relaxed)); // relaxed: the mutex orders it
  }

  /// Bytes of the shard (0 before the first locked record).
  std::size_t bytes() const noexcept {
    std::lock_guard<std::mutex> guard{mutex_};
    auto* s = shard_.load(std::memory_order_relaxed); // relaxed: the mutex orders it
    return s ? s->bytes() : 0;
  }

private:
  mutable std::mutex mutex_;
  std::atomic<histogram_shard*> shard_{nullptr};
};

} // namespace metron::detail
