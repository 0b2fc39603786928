// metron/series.hpp — the identity of a series and of a metric family, interned.
//
// A series is a metric name, a label set and a kind; a family is a name, a kind, a
// help text and, for gauges, whether it was declared monotonic (a settable counter).
// The registry creates each identity once, when the series (family) is
// created, as an immutable shared object; every snapshot after that refers to it
// (series_ref, family_ref: a shared_ptr copy), so a tick copies numbers, never
// names or labels. Identities from elsewhere (a snapshot received from another
// process) are made with series_ref::make / family_ref::make.
//
// Equality compares contents (two processes' identities of the same series are
// equal); identical pointers compare equal without reading the strings.
//
// Concurrency: immutable values; copies are safe from any thread (shared_ptr).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>

#include "metron/labels.hpp"

namespace metron {

enum class metric_kind : std::uint8_t { counter, updown_counter, gauge, histogram };

/// "counter", "updown_counter", "gauge" or "histogram".
const char* to_string(metric_kind k) noexcept;

/// What identifies one series.
struct series_info {
  std::string name;
  metron::labels labels; // sorted by key
  metric_kind kind = metric_kind::counter;
  /// When the series was created (system_clock, ns since the epoch; 0: unknown, as
  /// for identities received from elsewhere): OpenMetrics' `_created`. Not part of
  /// equality or of the wire.
  std::int64_t created_ns = 0;
  template <class F> static auto fields(F& f, series_info& x) { return f(x.name, x.labels, x.kind); }
};

/// Name, kind and help text of one metric family.
struct family_info {
  std::string name;
  metric_kind kind = metric_kind::counter;
  std::string help;
  /// Declared monotonic (a settable counter, registry::settable_counter): a gauge
  /// family whose values are totals read from a source that only grows, such as CPU
  /// seconds from /proc. Exporters expose it as a counter and minus() subtracts it;
  /// declared by whoever created the family, never guessed from the name. Always
  /// false for the other kinds (counters are monotonic by kind).
  bool monotonic = false;
  friend bool operator==(const family_info&, const family_info&) = default;
  template <class F> static auto fields(F& f, family_info& x) { return f(x.name, x.kind, x.help, x.monotonic); }
};

namespace detail {

/// A shared, immutable T; the base of series_ref and family_ref.
template <class T>
class interned {
public:
  interned() = default;
  explicit interned(std::shared_ptr<const T> p) noexcept : p_(std::move(p)) {}

  const T* get() const noexcept { return p_.get(); }
  const T& operator*() const noexcept { return p_ ? *p_ : empty(); }
  const T* operator->() const noexcept { return &**this; }
  explicit operator bool() const noexcept { return p_ != nullptr; }

protected:
  /// Serialization (CAF's inspectors and others): a saving inspector (reads_state)
  /// reads the contents; a loading one builds a fresh identity.
  template <class F>
  static auto apply(F& f, interned& x) {
    if constexpr (F::reads_state) {
      return T::fields(f, const_cast<T&>(*x)); // a saving inspector only reads
    } else {
      auto fresh = std::make_shared<T>();
      if constexpr (std::is_void_v<decltype(T::fields(f, *fresh))>) {
        T::fields(f, *fresh);
        x.p_ = std::move(fresh);
      } else {
        auto result = T::fields(f, *fresh);
        x.p_ = std::move(fresh);
        return result;
      }
    }
  }

  static const T& empty() noexcept {
    static const T e{};
    return e;
  }
  std::shared_ptr<const T> p_;
};

} // namespace detail

/// The interned identity of a series.
class series_ref : public detail::interned<series_info> {
public:
  using interned::interned;

  static series_ref make(std::string name, metron::labels ls, metric_kind kind, std::int64_t created_ns = 0) {
    return series_ref{
      std::make_shared<const series_info>(series_info{std::move(name), std::move(ls), kind, created_ns})};
  }

  const std::string& name() const noexcept { return (**this).name; }
  const metron::labels& labels() const noexcept { return (**this).labels; }
  metric_kind kind() const noexcept { return (**this).kind; }
  std::int64_t created_ns() const noexcept { return (**this).created_ns; }

  friend bool operator==(const series_ref& a, const series_ref& b) noexcept {
    return a.get() == b.get()
           || (a.name() == b.name() && a.kind() == b.kind() && a.labels() == b.labels());
  }
  template <class F> friend auto inspect(F& f, series_ref& x) { return apply(f, x); }

  /// Order of samples in a snapshot: by name, then labels.
  friend bool operator<(const series_ref& a, const series_ref& b) noexcept {
    if (a.get() == b.get())
      return false;
    int c = a.name().compare(b.name());
    return c < 0 || (c == 0 && a.labels() < b.labels());
  }
};

/// The interned identity of a family.
class family_ref : public detail::interned<family_info> {
public:
  using interned::interned;

  static family_ref make(std::string name, metric_kind kind, std::string help = {}, bool monotonic = false) {
    return family_ref{
      std::make_shared<const family_info>(family_info{std::move(name), kind, std::move(help), monotonic})};
  }

  const std::string& name() const noexcept { return (**this).name; }
  metric_kind kind() const noexcept { return (**this).kind; }
  const std::string& help() const noexcept { return (**this).help; }
  bool monotonic() const noexcept { return (**this).monotonic; }

  friend bool operator==(const family_ref& a, const family_ref& b) noexcept {
    return a.get() == b.get() || *a == *b;
  }

  template <class F> friend auto inspect(F& f, family_ref& x) { return apply(f, x); }
};

} // namespace metron
