// The fan-out: sends each published snapshot to every subscriber as a request,
// within the subscriber's credit.
//
// Credit: a subscriber has at most cfg.credit snapshots in flight (sent, not yet
// acknowledged by a response or an error). A snapshot arriving while the credit is
// used up is skipped for that subscriber and counted (metron_dropped_snapshots_total),
// so the fan-out never waits and never queues per subscriber.
// Filters: subscribers with the same prefix share one filtered snapshot per tick,
// built only if at least one of them has credit.
// Dead subscribers: monitored; the down message removes them.
#include <map>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "internal.hpp"
#include "metron/actors/filter.hpp"

namespace metron::detail {
namespace {

struct subscription {
  caf::actor hdl;
  std::string prefix;
  std::uint64_t id = 0;        // tells acks of an earlier subscription apart
  std::size_t in_flight = 0;   // unacknowledged snapshots
};

struct fanout_state {
  context_ptr ctx;
  std::map<caf::actor_addr, subscription> subs;
  std::uint64_t next_id = 1;
  static inline const char* name = "metron.fanout";

  void update_gauge() { ctx->subscribers.set(static_cast<double>(subs.size())); }
};

using fanout_pointer = fanout_actor::stateful_pointer<fanout_state>;

void acknowledge(fanout_pointer self, const caf::actor_addr& who, std::uint64_t id) {
  auto i = self->state.subs.find(who);
  if (i != self->state.subs.end() && i->second.id == id && i->second.in_flight > 0)
    --i->second.in_flight;
}

void publish(fanout_pointer self, const snapshot_ptr& snap) {
  auto& st = self->state;
  const std::size_t credit = st.ctx->cfg.credit;
  std::map<std::string, snapshot_ptr, std::less<>> filtered; // one per prefix and tick
  for (auto& [addr, sub] : st.subs) {
    if (sub.in_flight >= credit) {
      st.ctx->dropped.add();
      continue;
    }
    snapshot_ptr msg = snap;
    if (!sub.prefix.empty()) {
      auto& f = filtered[sub.prefix];
      if (!f)
        f = std::make_shared<const snapshot>(filter_by_prefix(*snap, sub.prefix));
      msg = f;
    }
    ++sub.in_flight;
    auto who = addr;
    auto id = sub.id;
    self->request(sub.hdl, caf::infinite, std::move(msg))
      .then([=]() { acknowledge(self, who, id); },
            [=](caf::error&) { acknowledge(self, who, id); });
  }
}

fanout_actor::behavior_type fanout(fanout_pointer self, context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (self->state.subs.erase(dm.source) > 0)
      self->state.update_gauge();
  });
  return {
    [=](publish_atom, const snapshot_ptr& snap) {
      if (snap)
        publish(self, snap);
    },
    [=](subscribe_atom, caf::actor who, std::string prefix) {
      if (!who)
        return;
      auto& st = self->state;
      auto [i, added] = st.subs.try_emplace(who.address());
      i->second.prefix = std::move(prefix);
      if (added) {
        i->second.hdl = who;
        i->second.id = st.next_id++;
        self->monitor(who);
        st.update_gauge();
      }
    },
    [=](unsubscribe_atom, caf::actor who) {
      if (!who)
        return;
      if (self->state.subs.erase(who.address()) > 0) {
        self->demonitor(who);
        self->state.update_gauge();
      }
    },
    [=](fail_atom) { throw std::runtime_error("metron: injected fan-out failure (test hook)"); },
  };
}

} // namespace

fanout_actor spawn_fanout(caf::local_actor* parent, context_ptr ctx) {
  return parent->spawn(fanout, std::move(ctx));
}

} // namespace metron::detail
