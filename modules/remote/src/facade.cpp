#include "facade.hpp"

#include <map>
#include <set>
#include <string>

#include <caf/all.hpp>

#include "wire_messages.hpp"

namespace metron::remote::detail {
namespace {

struct facade_state {
  monitor_actor target;
  facade_limits limits;
  std::map<caf::node_id, std::set<caf::actor_addr>> subs; // subscribers per node
  std::size_t total = 0;
  std::map<caf::actor_addr, caf::actor> encoders; // per wire link (wire_messages.hpp)
  static inline const char* name = "metron.remote.facade";
};

using facade_pointer = wire_monitor_actor::stateful_pointer<facade_state>;

void refused(facade_pointer self, refusal r) {
  if (self->state.limits.stats)
    self->state.limits.stats->count(r);
}

// Counts a new subscriber against the limits (false: refused, counted).
template <class Handle>
bool admit(facade_pointer self, const Handle& who) {
  auto& st = self->state;
  if (!who)
    return false;
  auto& mine = st.subs[who.node()];
  if (mine.count(who.address()) == 0) {
    if (mine.size() >= st.limits.max_per_peer || st.total >= st.limits.max_total) {
      if (mine.empty())
        st.subs.erase(who.node());
      refused(self, refusal::subscription_limit);
      return false;
    }
    mine.insert(who.address());
    ++st.total;
    self->monitor(who);
  }
  return true;
}

void subscribe(facade_pointer self, const subscriber_actor& who, std::string prefix) {
  if (admit(self, who))
    self->send(self->state.target, subscribe_atom::value, who, std::move(prefix));
}

// A collector's link asks for the delta wire: one encoder per link; asking again
// resyncs it.
void wire_subscribe(facade_pointer self, const caf::actor& link) {
  if (!admit(self, link))
    return;
  auto& enc = self->state.encoders[link.address()];
  if (enc) {
    caf::anon_send(enc, wire_subscribe_atom::value, link); // (a typed actor sends to untyped ones anonymously)
    return;
  }
  enc = detail::spawn_wire_encoder(self->system(), self->state.target, link);
  self->monitor(enc);
}

// A link or an encoder went away: its encoder entry goes (the encoder watches its
// link and ends by itself).
void forget_encoder(facade_pointer self, const caf::actor_addr& who) {
  auto& encs = self->state.encoders;
  if (encs.erase(who) != 0)
    return;
  for (auto i = encs.begin(); i != encs.end(); ++i)
    if (i->second.address() == who) {
      encs.erase(i);
      return;
    }
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

void unsubscribe(facade_pointer self, const subscriber_actor& who) {
  if (!who)
    return;
  forget(self, who.address());
  self->demonitor(who.address());
  self->send(self->state.target, unsubscribe_atom::value, who);
  auto enc = self->state.encoders.find(who.address());
  if (enc != self->state.encoders.end()) {
    self->send_exit(enc->second, caf::exit_reason::user_shutdown);
    self->state.encoders.erase(enc);
  }
}

wire_monitor_actor::behavior_type facade(facade_pointer self, monitor_actor target, facade_limits limits) {
  self->state.target = target;
  self->state.limits = std::move(limits);
  self->monitor(target);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.target.address())
      self->quit(dm.reason);
    else {
      forget(self, dm.source);
      forget_encoder(self, dm.source);
    }
  });
  return {
    [=](get_atom) -> caf::delegated<report_ptr> { return self->delegate(self->state.target, get_atom::value); },
    [=](subscribe_atom, subscriber_actor who) { subscribe(self, who, std::string{}); },
    [=](subscribe_atom, subscriber_actor who, std::string prefix) { subscribe(self, who, std::move(prefix)); },
    [=](unsubscribe_atom, subscriber_actor who) { unsubscribe(self, who); },
    [=](subscribe_atom, caf::actor who) { subscribe(self, caf::actor_cast<subscriber_actor>(who), std::string{}); },
    [=](subscribe_atom, caf::actor who, std::string prefix) {
      subscribe(self, caf::actor_cast<subscriber_actor>(who), std::move(prefix));
    },
    [=](unsubscribe_atom, caf::actor who) { unsubscribe(self, caf::actor_cast<subscriber_actor>(who)); },
    [=](interval_atom, caf::timespan x) {
      if (!self->state.limits.allow_control)
        return refused(self, refusal::control);
      self->send(self->state.target, interval_atom::value, x);
    },
    [=](wire_subscribe_atom, caf::actor link) { wire_subscribe(self, link); },
  };
}

} // namespace

wire_monitor_actor spawn_facade(caf::actor_system& sys, monitor_actor target, facade_limits limits) {
  return sys.spawn(facade, std::move(target), std::move(limits));
}

} // namespace metron::remote::detail
