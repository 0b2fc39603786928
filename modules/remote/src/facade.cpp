#include "facade.hpp"

#include <map>
#include <set>
#include <string>

#include <caf/all.hpp>

namespace metron::remote::detail {
namespace {

struct facade_state {
  monitor_actor target;
  facade_limits limits;
  std::map<caf::node_id, std::set<caf::actor_addr>> subs; // subscribers per node
  std::size_t total = 0;
  static inline const char* name = "metron.remote.facade";
};

using facade_pointer = monitor_actor::stateful_pointer<facade_state>;

void refused(facade_pointer self, refusal r) {
  if (self->state.limits.stats)
    self->state.limits.stats->count(r);
}

void subscribe(facade_pointer self, const subscriber_actor& who, std::string prefix) {
  auto& st = self->state;
  if (!who)
    return;
  auto& mine = st.subs[who.node()];
  if (mine.count(who.address()) == 0) {
    if (mine.size() >= st.limits.max_per_peer || st.total >= st.limits.max_total) {
      if (mine.empty())
        st.subs.erase(who.node());
      return refused(self, refusal::subscription_limit);
    }
    mine.insert(who.address());
    ++st.total;
    self->monitor(who);
  }
  self->send(st.target, subscribe_atom::value, who, std::move(prefix));
}

void forget(facade_pointer self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto i = st.subs.find(who.node());
  if (i == st.subs.end() || i->second.erase(who) == 0)
    return;
  --st.total;
  if (i->second.empty())
    st.subs.erase(i);
}

monitor_actor::behavior_type facade(facade_pointer self, monitor_actor target, facade_limits limits) {
  self->state.target = target;
  self->state.limits = std::move(limits);
  self->monitor(target);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.target.address())
      self->quit(dm.reason);
    else
      forget(self, dm.source);
  });
  return {
    [=](get_atom) -> caf::delegated<report_ptr> { return self->delegate(self->state.target, get_atom::value); },
    [=](subscribe_atom, subscriber_actor who) { subscribe(self, who, std::string{}); },
    [=](subscribe_atom, subscriber_actor who, std::string prefix) { subscribe(self, who, std::move(prefix)); },
    [=](unsubscribe_atom, subscriber_actor who) {
      if (!who)
        return;
      forget(self, who.address());
      self->demonitor(who.address());
      self->send(self->state.target, unsubscribe_atom::value, who);
    },
    [=](interval_atom, caf::timespan x) {
      if (!self->state.limits.allow_control)
        return refused(self, refusal::control);
      self->send(self->state.target, interval_atom::value, x);
    },
  };
}

} // namespace

monitor_actor spawn_facade(caf::actor_system& sys, monitor_actor target, facade_limits limits) {
  return sys.spawn(facade, std::move(target), std::move(limits));
}

} // namespace metron::remote::detail
