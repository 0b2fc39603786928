#include "metron/actors/config.hpp"

#include <string>

#include <caf/config_option_adder.hpp>
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

template <class To>
To to_duration(caf::timespan x) {
  return std::chrono::duration_cast<To>(x);
}

} // namespace

void add_monitor_options(caf::actor_system_config& cfg) {
  caf::config_option_adder{options_access::of(cfg), "metron"}
    .add<caf::timespan>("interval", "tick interval (default 100ms)")
    .add<std::vector<double>>("quantiles", "quantiles computed for histograms")
    .add<std::vector<caf::timespan>>("windows", "sliding windows (default [60s, 300s])")
    .add<size_t>("credit", "unacknowledged snapshots per subscriber (default 4)")
    .add<size_t>("max-restarts", "restarts allowed within restart-period (default 5)")
    .add<caf::timespan>("restart-period", "period of the restart limit (default 10s)");
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
  return r;
}

} // namespace metron
