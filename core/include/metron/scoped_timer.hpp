// metron/scoped_timer.hpp — records the time a scope took, in seconds.
//
//   { metron::scoped_timer t{latency}; handle(request); } // records on exit
//
// Uses std::chrono::steady_clock (a vDSO call on Linux, no system call). Not
// thread-safe itself (it lives on one thread's stack); the histogram it records
// into is.
#pragma once

#include <chrono>

#include "metron/histogram.hpp"

namespace metron {

class scoped_timer {
public:
  explicit scoped_timer(metron::histogram& h) noexcept
    : histogram_(&h), start_(std::chrono::steady_clock::now()) {}
  scoped_timer(const scoped_timer&) = delete;
  scoped_timer& operator=(const scoped_timer&) = delete;

  ~scoped_timer() { stop(); }

  /// Records now instead of at scope exit; later calls and the destructor do nothing.
  void stop() noexcept {
    if (histogram_ == nullptr)
      return;
    histogram_->record(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    histogram_ = nullptr;
  }

  /// Drops the measurement: nothing is recorded.
  void cancel() noexcept { histogram_ = nullptr; }

private:
  metron::histogram* histogram_;
  std::chrono::steady_clock::time_point start_;
};

} // namespace metron
