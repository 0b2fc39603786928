// The aggregator: on every tick takes the source's raw snapshot (a registry runs
// its own collectors in it), adds the monitor's own metrics, lets the shared aggregation derive the
// report (rates, quantiles, windows) and hands it to the fan-out. Timer: a tick message
// to itself at a fixed rate (due times first tick + k x interval, so the time a tick
// takes does not push the next one back; a tick later than a whole interval skips the
// missed due times instead of running them back to back), tagged with a generation so
// that changing the interval cancels the old timer and starts a new grid.
#include <chrono>
#include <optional>
#include <stdexcept>

#include <caf/all.hpp>

#include "internal.hpp"

namespace metron::detail {

monitor_context::monitor_context(source_ptr src, monitor_config c)
  : source(std::move(src)),
    cfg(std::move(c)),
    agg(cfg.aggregation()),
    self(cfg.metrics ? cfg.metrics : std::make_shared<registry>()),
    ticks(self->counter("metron_ticks_total", {}, "Aggregator ticks (snapshots taken)")),
    tick_duration(self->histogram("metron_tick_duration_seconds", {},
                              "Time one aggregator tick took (source snapshot, aggregation)")),
    subscribers(self->gauge("metron_subscribers", {}, "Current snapshot subscribers")),
    dropped(self->counter("metron_dropped_snapshots_total", {},
                      "Snapshots not sent to a subscriber that had no credit left")),
    restarts(self->counter("metron_restarts_total", {}, "Aggregator and fan-out restarts")),
    refused(self->counter("metron_refused_requests_total", {},
                      "Requests the monitor refused (interval_atom out of range)")) {
}

namespace {

struct aggregator_state {
  context_ptr ctx;
  fanout_actor fan;
  caf::timespan interval{};
  std::uint64_t generation = 0;
  caf::actor_clock::time_point next_due{}; // of the tick scheduled last
  static inline const char* name = "metron.aggregator";
};

using aggregator_pointer = aggregator_actor::stateful_pointer<aggregator_state>;

// Returns false (after quitting) when the source is gone for good.
bool run_tick(aggregator_pointer self) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  auto started = std::chrono::steady_clock::now(); // real time: measures the work
  auto taken = ctx.source->take();
  if (!taken) {
    ctx.source_gone = true; // the monitor stops instead of restarting us
    self->quit();
    return false;
  }
  ctx.ticks.add();
  auto raw = std::move(*taken);
  try {
    raw.merge(ctx.self->snapshot());
  } catch (const std::invalid_argument&) {
    // The source has a metron_* series of another kind: its own data wins.
  }
  // After the merge (which keeps the later of two clocks): the actor system's clock.
  raw.mono_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  self->clock().now().time_since_epoch())
                  .count();
  auto rep = ctx.agg.tick(std::move(raw));
  if (st.fan)
    self->send(st.fan, publish_atom::value, std::move(rep));
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  ctx.tick_duration.record(took.count());
  return true;
}

using time_point = caf::actor_clock::time_point;

// Schedules the next tick: a new grid one interval after `start` (the first tick's
// start, an interval change), or the next due time of the grid still ahead.
void schedule_tick(aggregator_pointer self, std::optional<time_point> start) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (start) {
    st.next_due = *start + st.interval;
  } else {
    st.next_due += st.interval;
    if (st.next_due <= now) // behind by a whole interval or more: skip the missed ones
      st.next_due += ((now - st.next_due) / st.interval + 1) * st.interval;
  }
  self->scheduled_send(self, st.next_due, tick_atom::value, st.generation);
}

aggregator_actor::behavior_type aggregator(aggregator_pointer self, context_ptr ctx, fanout_actor fan,
                                           caf::timespan interval) {
  self->state.ctx = std::move(ctx);
  self->state.fan = std::move(fan);
  self->state.interval = interval;
  // First tick at once: a baseline for rates and windows, and get always has an answer.
  auto first = self->clock().now();
  if (run_tick(self))
    schedule_tick(self, first);
  return {
    [=](get_atom) -> report_ptr { return self->state.ctx->agg.latest(); },
    [=](tick_atom, std::uint64_t generation) {
      if (generation != self->state.generation)
        return; // a timer of an earlier interval
      if (run_tick(self))
        schedule_tick(self, std::nullopt);
    },
    [=](interval_atom, caf::timespan x) {
      if (!interval_in_range(x))
        return; // the monitor refuses it first; this keeps the timer arithmetic safe
      self->state.interval = x;
      ++self->state.generation;
      schedule_tick(self, self->clock().now());
    },
    [=](fanout_atom, fanout_actor f) { self->state.fan = std::move(f); },
    [=](injected_fault) { throw std::runtime_error("metron: injected aggregator failure (test hook)"); },
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
