// metron/prometheus/report_store.hpp — the latest report, handed between the
// subscriber actor that receives it and the HTTP threads that serve it.
//
// A mutex around one shared_ptr: offer() and get() copy a pointer under the lock, so
// the critical section is a reference-count update, never a render. (std::atomic
// <std::shared_ptr> would do the same; the mutex keeps ThreadSanitizer's view exact.)
// offer() keeps the newer report by sequence number, so a late reply to an initial
// get_atom request cannot replace a newer tick.
//
// Concurrency: all members are thread-safe.
#pragma once

#include <mutex>

#include "metron/report.hpp"

namespace metron::prometheus {

class report_store {
public:
  /// Stores r unless it is null or older (lower sequence) than the stored one.
  void offer(report_ptr r) {
    if (!r)
      return;
    std::lock_guard guard{mutex_};
    if (!latest_ || r->sequence() >= latest_->sequence())
      latest_ = std::move(r);
  }

  /// The stored report; nullptr before the first offer.
  report_ptr get() const {
    std::lock_guard guard{mutex_};
    return latest_;
  }

private:
  mutable std::mutex mutex_;
  report_ptr latest_;
};

} // namespace metron::prometheus
