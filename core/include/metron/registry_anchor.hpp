// metron/registry_anchor.hpp — a handle that outlives its registry and knows
// whether the registry is still there.
//
// Whatever reads a registry from another thread (the monitor's ticks, an exporter)
// may outlive it: in a main that declares the registry after the actor system, the
// registry is destroyed first while a tick may be reading it. Such a reader keeps
// the shared_ptr<registry_anchor> from registry::anchor() instead of a bare
// reference, and reads through with():
//
//   auto anchor = reg.anchor();
//   ...on any thread, any time later...
//   bool ran = anchor->with([](metron::registry& r) { auto s = r.snapshot(); ... });
//
// with(f) runs f(reg) while holding the registry alive and returns true, or returns
// false without calling f once the registry's destruction has begun. ~registry()
// marks the anchor dead first (no with() starts after that, so a stream of readers
// cannot starve it) and waits for every with() in progress to return, so no
// declaration order can make a reader touch a destroyed registry. References to the
// registry's metrics are covered the same way: use them only inside with().
//
// Costs: with() takes a shared lock (uncontended: two atomic operations); the
// destructor takes it exclusively, once.
//
// Concurrency: with() and alive() are thread-safe, and many with() may run at once.
// Inside f, do not destroy the registry and do not call with() on the same anchor
// again (a shared lock taken twice by one thread may deadlock against a waiting
// destructor); both would wait for themselves.
#pragma once

#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <utility>

namespace metron {

class registry;

class registry_anchor {
public:
  registry_anchor(const registry_anchor&) = delete;
  registry_anchor& operator=(const registry_anchor&) = delete;

  /// Runs f(registry&) if the registry is alive, keeping it alive until f returns;
  /// returns whether f ran. An exception from f propagates (the lock is released).
  template <class F>
  bool with(F&& f) {
    // A reader-preferring shared_mutex would starve the destructor behind a stream of
    // readers; this flag lets it in. reg_, read under the lock, decides.
    if (dying_.load(std::memory_order_relaxed)) // relaxed: only a hint, the lock orders
      return false;
    std::shared_lock lock{mutex_};
    if (reg_ == nullptr)
      return false;
    std::forward<F>(f)(*reg_);
    return true;
  }

  /// Whether the registry is alive now (a hint: it may be destroyed right after).
  bool alive() const {
    std::shared_lock lock{mutex_};
    return reg_ != nullptr;
  }

private:
  friend class registry;
  explicit registry_anchor(registry* r) noexcept : reg_(r) {}

  /// Called by ~registry(): waits for the with() in progress, then ends them all.
  void retire() noexcept {
    dying_.store(true, std::memory_order_relaxed); // relaxed: the hint read in with()
    std::unique_lock lock{mutex_};
    reg_ = nullptr;
  }

  mutable std::shared_mutex mutex_;
  registry* reg_; // guarded by mutex_
  std::atomic<bool> dying_{false}; // set when ~registry() starts: no new with() begins
};

} // namespace metron
