// The monitor: supervisor of the aggregator and the fan-out, and the typed facade.
//
// Restart intensity: the times of recent restarts are kept; on a child's down
// message those older than restart_period are forgotten, and if max_restarts remain
// the monitor gives up (quits with restart_limit_exceeded), otherwise it respawns
// the child. The monitor keeps the subscriber list (it also monitors subscribers,
// with high priority, so dead ones are forgotten promptly and not restored) and
// hands it to every new fan-out.
#include <deque>
#include <map>
#include <stdexcept>

#include <caf/all.hpp>

#include "internal.hpp"
#include "metron/actors/monitor.hpp"
#include "subscribers.hpp"
#include "testing.hpp"

namespace metron {

std::string to_string(monitor_errc x) {
  switch (x) {
    case monitor_errc::restart_limit_exceeded:
      return "restart_limit_exceeded";
    case monitor_errc::interval_out_of_range:
      return "interval_out_of_range";
  }
  return "unknown";
}

namespace detail {
namespace {

struct monitor_state {
  context_ptr ctx;
  aggregator_actor agg;
  fanout_actor fan;
  caf::timespan interval{};
  std::map<caf::actor_addr, std::pair<subscriber_actor, std::string>> subs;
  std::deque<caf::actor_clock::time_point> restarts;
  static inline const char* name = "metron.monitor";

  ~monitor_state() {
    // Runs when the monitor terminates for any reason: its children go with it.
    if (agg)
      caf::anon_send_exit(agg, caf::exit_reason::user_shutdown);
    if (fan)
      caf::anon_send_exit(fan, caf::exit_reason::user_shutdown);
  }
};

using monitor_pointer = monitor_actor::stateful_pointer<monitor_state>;

void start_fanout(monitor_pointer self) {
  auto& st = self->state;
  st.fan = spawn_fanout(self, st.ctx); // detached like the monitor, if configured
  self->monitor(st.fan);
  for (auto& [addr, sub] : st.subs)
    self->send(st.fan, subscribe_atom::value, sub.first, sub.second);
}

void start_aggregator(monitor_pointer self) {
  auto& st = self->state;
  st.agg = spawn_aggregator(self, st.ctx, st.fan, st.interval);
  self->monitor(st.agg);
}

// Returns false (after quitting) when the restart limit is exceeded.
bool admit_restart(monitor_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto period = std::chrono::duration_cast<caf::actor_clock::duration_type>(st.ctx->cfg.restart_period);
  while (!st.restarts.empty() && st.restarts.front() <= now - period)
    st.restarts.pop_front();
  if (st.restarts.size() >= st.ctx->cfg.max_restarts) {
    self->quit(caf::make_error(monitor_errc::restart_limit_exceeded));
    return false;
  }
  st.restarts.push_back(now);
  st.ctx->restarts.add();
  return true;
}

void subscribe(monitor_pointer self, subscriber_actor who, std::string prefix) {
  if (!who || has_terminated(who))
    return; // dead already (churn): nothing to keep, nothing to tell the fan-out
  auto& st = self->state;
  auto [i, added] = st.subs.try_emplace(who.address(), who, prefix);
  if (added)
    self->monitor<caf::message_priority::high>(who); // the down overtakes queued work
  else
    i->second.second = prefix;
  self->send(st.fan, subscribe_atom::value, std::move(who), std::move(prefix));
}

void unsubscribe(monitor_pointer self, subscriber_actor who) {
  if (!who)
    return;
  if (self->state.subs.erase(who.address()) > 0)
    self->demonitor(who.address());
  self->send(self->state.fan, unsubscribe_atom::value, std::move(who));
}

monitor_actor::behavior_type monitor(monitor_pointer self, context_ptr ctx) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.interval = std::chrono::duration_cast<caf::timespan>(st.ctx->cfg.interval);
  start_fanout(self);
  start_aggregator(self);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.agg && dm.source == st.agg.address()) {
      st.agg = nullptr;
      if (st.ctx->source_gone) {
        self->quit(); // the source is gone for good (its registry was destroyed)
        return;
      }
      if (admit_restart(self))
        start_aggregator(self);
    } else if (st.fan && dm.source == st.fan.address()) {
      st.fan = nullptr;
      if (admit_restart(self)) {
        start_fanout(self);
        self->send(st.agg, fanout_atom::value, st.fan);
      }
    } else {
      st.subs.erase(dm.source); // a subscriber terminated
    }
  });
  // Test-only failure injection (testing.hpp), outside the typed interface; its
  // message type cannot come from another process.
  self->set_default_handler(
    [=](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      auto& xs = x.content();
      if (xs.match_elements<injected_fault>()) {
        auto fault = xs.get_as<injected_fault>(0);
        if (fault.part == testing::monitor_part::aggregator && self->state.agg)
          self->send(self->state.agg, fault);
        else if (fault.part == testing::monitor_part::fanout && self->state.fan)
          self->send(self->state.fan, fault);
        return caf::message{};
      }
      return caf::sec::unexpected_message;
    });
  return {
    [=](get_atom) -> caf::result<report_ptr> {
      if (!self->state.agg)
        return caf::make_error(caf::sec::request_receiver_down);
      return self->delegate(self->state.agg, get_atom::value);
    },
    [=](subscribe_atom, subscriber_actor who) { subscribe(self, std::move(who), std::string{}); },
    [=](subscribe_atom, subscriber_actor who, std::string prefix) {
      subscribe(self, std::move(who), std::move(prefix));
    },
    [=](unsubscribe_atom, subscriber_actor who) { unsubscribe(self, std::move(who)); },
    [=](subscribe_atom, caf::actor who) {
      subscribe(self, caf::actor_cast<subscriber_actor>(std::move(who)), std::string{});
    },
    [=](subscribe_atom, caf::actor who, std::string prefix) {
      subscribe(self, caf::actor_cast<subscriber_actor>(std::move(who)), std::move(prefix));
    },
    [=](unsubscribe_atom, caf::actor who) { unsubscribe(self, caf::actor_cast<subscriber_actor>(std::move(who))); },
    [=](interval_atom, caf::timespan x) -> caf::result<void> {
      if (!interval_in_range(x)) {
        self->state.ctx->refused.add();
        // Only a request gets the error: CAF would deliver it to an asynchronous
        // sender as a message, and an event-based actor's default error handler
        // terminates it.
        if (self->current_mailbox_element()->mid.is_request())
          return caf::make_error(monitor_errc::interval_out_of_range, x);
        return caf::unit;
      }
      self->state.interval = x;
      self->send(self->state.agg, interval_atom::value, x);
      return caf::unit;
    },
  };
}

} // namespace
} // namespace detail

monitor_actor spawn_monitor(caf::actor_system& sys, source_ptr src, monitor_config cfg) {
  if (!src)
    throw std::invalid_argument("metron: spawn_monitor needs a source");
  validate(cfg);
  bool detached = cfg.detached;
  auto ctx = std::make_shared<detail::monitor_context>(std::move(src), std::move(cfg));
  if (detached)
    return sys.spawn<caf::detached>(detail::monitor, std::move(ctx));
  return sys.spawn(detail::monitor, std::move(ctx));
}

monitor_actor spawn_monitor(caf::actor_system& sys, registry& reg, monitor_config cfg) {
  if (cfg.metrics.get() == &reg)
    throw std::invalid_argument("metron: monitor_config::metrics must not be the monitored registry");
  return spawn_monitor(sys, registry_source(reg), std::move(cfg));
}

monitor_actor spawn_monitor(caf::actor_system& sys, std::shared_ptr<registry> reg, monitor_config cfg) {
  if (!reg)
    throw std::invalid_argument("metron: spawn_monitor needs a registry");
  if (cfg.metrics == reg)
    throw std::invalid_argument("metron: monitor_config::metrics must not be the monitored registry");
  return spawn_monitor(sys, registry_source(std::move(reg)), std::move(cfg));
}

namespace testing {

void inject_failure(const monitor_actor& mon, monitor_part part) {
  caf::anon_send(caf::actor_cast<caf::actor>(mon), detail::injected_fault{part});
}

} // namespace testing
} // namespace metron
