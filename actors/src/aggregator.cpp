// The aggregator: on every tick runs the collectors, snapshots the registry, lets
// the shared aggregation derive rates, quantiles and windows, and hands the
// immutable result to the fan-out. Timer: a delayed tick message to itself,
// tagged with a generation so that changing the interval cancels the old timer.
#include <chrono>
#include <stdexcept>

#include <caf/all.hpp>

#include "internal.hpp"

namespace metron::detail {

monitor_context::monitor_context(registry& r, monitor_config c)
  : reg(r),
    cfg(std::move(c)),
    agg(cfg),
    ticks(r.counter("metron_ticks_total", {}, "Aggregator ticks (snapshots taken)")),
    tick_duration(r.histogram("metron_tick_duration_seconds", {},
                              "Time one aggregator tick took (collectors, snapshot, aggregation)")),
    subscribers(r.gauge("metron_subscribers", {}, "Current snapshot subscribers")),
    dropped(r.counter("metron_dropped_snapshots_total", {},
                      "Snapshots not sent to a subscriber that had no credit left")),
    restarts(r.counter("metron_restarts_total", {}, "Aggregator and fan-out restarts")),
    collector_errors(r.counter("metron_collector_errors_total", {}, "Collectors that threw")),
    refused(r.counter("metron_refused_requests_total", {},
                      "Requests the monitor refused (interval_atom out of range)")) {
}

namespace {

struct aggregator_state {
  context_ptr ctx;
  fanout_actor fan;
  caf::timespan interval{};
  std::uint64_t generation = 0;
  static inline const char* name = "metron.aggregator";
};

using aggregator_pointer = aggregator_actor::stateful_pointer<aggregator_state>;

void run_tick(aggregator_pointer self) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  auto started = std::chrono::steady_clock::now(); // real time: measures the work
  for (auto& collect : ctx.cfg.collectors) {
    try {
      collect();
    } catch (...) {
      ctx.collector_errors.add();
    }
  }
  ctx.ticks.add();
  auto raw = ctx.reg.snapshot();
  raw.mono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  self->clock().now().time_since_epoch())
                  .count();
  auto snap = ctx.agg.tick(std::move(raw));
  if (st.fan)
    self->send(st.fan, publish_atom::value, std::move(snap));
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  ctx.tick_duration.record(took.count());
}

void schedule_tick(aggregator_pointer self) {
  self->delayed_send(self, self->state.interval, tick_atom::value, self->state.generation);
}

aggregator_actor::behavior_type aggregator(aggregator_pointer self, context_ptr ctx, fanout_actor fan,
                                           caf::timespan interval) {
  self->state.ctx = std::move(ctx);
  self->state.fan = std::move(fan);
  self->state.interval = interval;
  // First tick at once: a baseline for rates and windows, and get always has an answer.
  run_tick(self);
  schedule_tick(self);
  return {
    [=](get_atom) -> snapshot_ptr { return self->state.ctx->agg.latest(); },
    [=](tick_atom, std::uint64_t generation) {
      if (generation != self->state.generation)
        return; // a timer of an earlier interval
      run_tick(self);
      schedule_tick(self);
    },
    [=](interval_atom, caf::timespan x) {
      if (!interval_in_range(x))
        return; // the monitor refuses it first; this keeps the timer arithmetic safe
      self->state.interval = x;
      ++self->state.generation;
      schedule_tick(self);
    },
    [=](fanout_atom, fanout_actor f) { self->state.fan = std::move(f); },
    [=](fail_atom) { throw std::runtime_error("metron: injected aggregator failure (test hook)"); },
  };
}

} // namespace

aggregator_actor spawn_aggregator(caf::local_actor* parent, context_ptr ctx, fanout_actor fan,
                                  caf::timespan interval) {
  if (ctx->cfg.detached)
    return parent->spawn<caf::detached>(aggregator, std::move(ctx), std::move(fan), interval);
  return parent->spawn(aggregator, std::move(ctx), std::move(fan), interval);
}

} // namespace metron::detail
