#include "metron/actors/config.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>
#include <type_traits>

#include <caf/config_option_adder.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/config_option_set.hpp>
#include <caf/settings.hpp>
#include <caf/timestamp.hpp>

namespace metron {
namespace {

// actor_system_config keeps its option set protected; a derived class may name the
// member, and the resulting pointer-to-member applies to any actor_system_config.
struct options_access : caf::actor_system_config {
  static caf::config_option_set& of(caf::actor_system_config& cfg) {
    return cfg.*(&options_access::custom_options_);
  }
};

template <class Duration>
const char* unit_of() {
  if constexpr (std::is_same_v<Duration, std::chrono::milliseconds>)
    return "ms";
  else
    return "s";
}

template <class To>
To to_duration(caf::timespan x) {
  return std::chrono::duration_cast<To>(x);
}

template <class Rep, class Period>
std::string show(std::chrono::duration<Rep, Period> x) {
  return caf::deep_to_string(std::chrono::duration_cast<caf::timespan>(x));
}

std::string show(std::size_t x) {
  return std::to_string(x);
}

std::string show(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

template <class T>
void check_range(const char* knob, T value, T lo, T hi) {
  if (!(value >= lo && value <= hi))
    throw std::invalid_argument("metron: monitor_config." + std::string{knob} + " = " + show(value)
                                + " is outside [" + show(lo) + ", " + show(hi) + "]");
}

// Durations are compared in their own type (milliseconds, seconds): no conversion,
// so a value near the type's limits cannot overflow before it is rejected.
template <class Duration>
void check_duration(const char* knob, Duration value, Duration lo, Duration hi) {
  if (value < lo || value > hi)
    throw std::invalid_argument("metron: monitor_config." + std::string{knob} + " = "
                                + std::to_string(value.count()) + " " + unit_of<Duration>()
                                + " is outside [" + show(lo) + ", " + show(hi) + "]");
}

} // namespace

void validate(const monitor_config& cfg) {
  using lim = monitor_limits;
  check_duration("interval", cfg.interval, lim::min_interval, lim::max_interval);
  check_range("quantiles.size()", cfg.quantiles.size(), std::size_t{0}, lim::max_quantiles);
  for (double q : cfg.quantiles)
    check_range("quantiles[i]", q, 0.0, 1.0);
  check_range("windows.size()", cfg.windows.size(), std::size_t{0}, lim::max_windows);
  for (auto w : cfg.windows)
    check_duration("windows[i]", w, lim::min_window, lim::max_window);
  check_range("credit", cfg.credit, lim::min_credit, lim::max_credit);
  check_range("max_restarts", cfg.max_restarts, std::size_t{0}, lim::max_max_restarts);
  check_duration("restart_period", cfg.restart_period, lim::min_restart_period, lim::max_restart_period);
  check_range("slowest", cfg.slowest, std::size_t{0}, lim::max_slowest);
}

bool interval_in_range(caf::timespan x) noexcept {
  // timespan (int64 ns) holds both limits exactly; comparing converts the limits, not x.
  return x >= monitor_limits::min_interval && x <= monitor_limits::max_interval;
}

caf::config_option_adder option_adder(caf::actor_system_config& cfg, caf::string_view category) {
  return caf::config_option_adder{options_access::of(cfg), category};
}

void add_monitor_options(caf::actor_system_config& cfg) {
  option_adder(cfg, "metron")
    .add<caf::timespan>("interval", "tick interval (default 100ms)")
    .add<std::vector<double>>("quantiles", "quantiles computed for histograms")
    .add<std::vector<caf::timespan>>("windows", "sliding windows (default [60s, 300s])")
    .add<size_t>("credit", "unacknowledged snapshots per subscriber (default 4)")
    .add<size_t>("max-restarts", "restarts allowed within restart-period (default 5)")
    .add<caf::timespan>("restart-period", "period of the restart limit (default 10s)")
    .add<bool>("detached", "run the monitor on threads of its own (default false)")
    .add<size_t>("slowest", "slowest exemplars kept per window (default 5)");
  option_adder(cfg, "metron.registry")
    .add<size_t>("max-label-sets", "label sets per metric name (default 1000)")
    .add<size_t>("max-series", "series in the registry (default 100000)")
    .add<caf::timespan>("idle-expiry", "retire a series idle this long (default 0s: never)")
    .add<std::string>("on-limit", "at a limit: \"throw\" (default) or \"overflow\"");
}

caf::actor_system_config& quiet_scheduler(caf::actor_system_config& cfg, caf::timespan relaxed_sleep) {
  if (relaxed_sleep <= caf::timespan{0})
    throw std::invalid_argument{"metron::quiet_scheduler: relaxed_sleep must be positive"};
  cfg.set("work-stealing.moderate-poll-attempts", std::size_t{0});
  cfg.set("work-stealing.relaxed-sleep-duration", relaxed_sleep);
  return cfg;
}

registry_config registry_config_from(const caf::actor_system_config& cfg) {
  registry_config r;
  if (auto x = caf::get_if<size_t>(&cfg, "metron.registry.max-label-sets")) {
    if (*x == 0)
      throw std::invalid_argument("metron: metron.registry.max-label-sets = 0; at least 1");
    r.max_label_sets = *x;
  }
  if (auto x = caf::get_if<size_t>(&cfg, "metron.registry.max-series")) {
    if (*x == 0)
      throw std::invalid_argument("metron: metron.registry.max-series = 0; at least 1");
    r.max_series = *x;
  }
  if (auto x = caf::get_if<caf::timespan>(&cfg, "metron.registry.idle-expiry")) {
    if (x->count() < 0)
      throw std::invalid_argument("metron: metron.registry.idle-expiry = " + show(*x) + " is negative");
    r.idle_expiry = std::chrono::duration_cast<std::chrono::nanoseconds>(*x);
  }
  if (auto x = caf::get_if<std::string>(&cfg, "metron.registry.on-limit")) {
    if (*x == "throw")
      r.label_set_limit_action = on_limit::throw_error;
    else if (*x == "overflow")
      r.label_set_limit_action = on_limit::overflow;
    else
      throw std::invalid_argument("metron: metron.registry.on-limit = \"" + *x
                                  + "\"; expected \"throw\" or \"overflow\"");
  }
  return r;
}

monitor_config monitor_config::from(const caf::actor_system_config& cfg) {
  monitor_config r;
  if (auto x = caf::get_if<caf::timespan>(&cfg, "metron.interval"))
    r.interval = to_duration<std::chrono::milliseconds>(*x);
  if (auto x = caf::get_if<std::vector<double>>(&cfg, "metron.quantiles"))
    r.quantiles = *x;
  if (auto x = caf::get_if<std::vector<caf::timespan>>(&cfg, "metron.windows")) {
    r.windows.clear();
    for (auto w : *x)
      r.windows.push_back(to_duration<std::chrono::seconds>(w));
  }
  if (auto x = caf::get_if<size_t>(&cfg, "metron.credit"))
    r.credit = *x;
  if (auto x = caf::get_if<size_t>(&cfg, "metron.max-restarts"))
    r.max_restarts = *x;
  if (auto x = caf::get_if<caf::timespan>(&cfg, "metron.restart-period"))
    r.restart_period = to_duration<std::chrono::seconds>(*x);
  if (auto x = caf::get_if<bool>(&cfg, "metron.detached"))
    r.detached = *x;
  if (auto x = caf::get_if<size_t>(&cfg, "metron.slowest"))
    r.slowest = *x;
  return r;
}

} // namespace metron
