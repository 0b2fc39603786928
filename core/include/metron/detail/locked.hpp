// metron/detail/locked.hpp — the "traditional" collectors: one mutex per metric.
//
// These are the stores a metric records into when its registry is switched to
// locked mode (registry::set_lock_free(false)), and the baseline every benchmark
// compares the lock-free path with. Each metric always sums its lock-free shards and
// its locked store, so a record lands in one of them whatever the mode and nothing
// is lost when the mode changes.
//
// Concurrency: every member is thread-safe; each call takes the metric's mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

#include "metron/bucket_layout.hpp"

namespace metron::detail {

template <class T>
class locked_integer {
public:
  void add(T n) noexcept {
    std::lock_guard<std::mutex> guard{mutex_};
    value_ += n;
  }
  T read() const noexcept {
    std::lock_guard<std::mutex> guard{mutex_};
    return value_;
  }

private:
  mutable std::mutex mutex_;
  T value_ = 0;
};

/// Dense buckets plus count/sum/min/max behind one mutex (allocated on first record).
class locked_histogram {
public:
  struct state {
    std::uint64_t buckets[bucket_layout::size] = {};
    std::uint64_t used_blocks[bucket_layout::block_words] = {}; // blocks with a count
    std::uint64_t count = 0;
    double sum = 0;
    double min = 0;
    double max = 0;
  };

  /// Records a validated value (finite, >= 0).
  void record(double v) noexcept {
    std::lock_guard<std::mutex> guard{mutex_};
    if (!state_) [[unlikely]] {
      state_.reset(new (std::nothrow) state);
      if (!state_)
        return; // out of memory: histogram::record counts this as rejected beforehand
    }
    auto& s = *state_;
    auto i = bucket_layout::index(v);
    s.buckets[i] += 1;
    s.used_blocks[(i >> bucket_layout::block_bits) / 64] |= std::uint64_t{1} << ((i >> bucket_layout::block_bits) % 64);
    s.min = s.count == 0 || v < s.min ? v : s.min;
    s.max = s.count == 0 || v > s.max ? v : s.max;
    s.count += 1;
    s.sum += v;
  }

  /// Calls f(const state&) under the lock if anything was ever recorded.
  template <class F>
  void read(F&& f) const {
    std::lock_guard<std::mutex> guard{mutex_};
    if (state_)
      f(*state_);
  }

  bool allocated() const noexcept {
    std::lock_guard<std::mutex> guard{mutex_};
    return state_ != nullptr;
  }

private:
  mutable std::mutex mutex_;
  std::unique_ptr<state> state_;
};

} // namespace metron::detail
