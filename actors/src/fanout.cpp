// The fan-out: sends each published report to every subscriber as a request,
// within the subscriber's credit.
//
// The rules (credit, shared prefix filters, acknowledgements) are subscriber_set's
// (subscribers.hpp); skips are counted in
// metron_dropped_snapshots_total. Dead subscribers: monitored with high priority,
// so the down message overtakes queued publish replies and removes them; publish
// also drops any that have terminated meanwhile (see subscribers.hpp).
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "internal.hpp"
#include "subscribers.hpp"

namespace metron::detail {
namespace {

struct fanout_state {
  context_ptr ctx;
  subscriber_set subs;
  static inline const char* name = "metron.fanout";

  void update_gauge() { ctx->subscribers.set(static_cast<double>(subs.size())); }
};

using fanout_pointer = fanout_actor::stateful_pointer<fanout_state>;

fanout_actor::behavior_type fanout(fanout_pointer self, context_ptr ctx) {
  self->state.subs = subscriber_set{ctx->cfg.credit};
  self->state.ctx = std::move(ctx);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (self->state.subs.remove(dm.source))
      self->state.update_gauge();
  });
  return {
    [=](publish_atom, const report_ptr& snap) {
      if (!snap)
        return;
      auto before = self->state.subs.size();
      self->state.ctx->dropped.add(self->state.subs.publish(self, snap));
      if (self->state.subs.size() != before)
        self->state.update_gauge();
    },
    [=](subscribe_atom, subscriber_actor who, std::string prefix) {
      if (!who)
        return;
      if (self->state.subs.add(who, std::move(prefix))) {
        self->monitor<caf::message_priority::high>(who);
        self->state.update_gauge();
      }
    },
    [=](unsubscribe_atom, subscriber_actor who) {
      if (!who)
        return;
      if (self->state.subs.remove(who.address())) {
        self->demonitor(who.address());
        self->state.update_gauge();
      }
    },
    [=](injected_fault) { throw std::runtime_error("metron: injected fan-out failure (test hook)"); },
  };
}

} // namespace

fanout_actor spawn_fanout(caf::local_actor* parent, context_ptr ctx) {
  if (ctx->cfg.detached)
    return parent->spawn<caf::detached>(fanout, std::move(ctx));
  return parent->spawn(fanout, std::move(ctx));
}

} // namespace metron::detail
