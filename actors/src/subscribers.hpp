// Internal (not installed): the subscriber table behind the monitor's fan-out —
// credit per subscriber, prefix filters, drop counting. Every monitor (of a
// registry or of a cluster) fans out through it, so the rules exist once:
// - publish() sends a report to each subscriber as a request from the owning
//   actor; the subscriber's reply (or an error) is the acknowledgement;
// - a subscriber with `credit` unacknowledged reports is skipped, and the skip is
//   counted (publish returns how many), so nobody waits and nothing queues;
// - subscribers with the same prefix share one filtered report per publish, built
//   only if one of them has credit;
// - acknowledgements carry a subscription id, so a late reply to an earlier
//   subscription of the same actor does not return credit to a new one.
// The owner monitors subscribers (add() says when a subscriber is new) and calls
// remove() from its down handler.
//
// Dead subscribers (subscriber churn): a subscriber's down message can sit behind a
// backlog in the owner's mailbox (publish replies, subscribes), and while it waits
// every publish would send the dead actor a request whose error reply adds to the
// backlog — a feedback loop that kept tens of thousands of dead subscribers listed
// for a minute under churn. So add() refuses an actor that has already terminated,
// publish() drops subscribers that have terminated instead of sending to them, and
// owners should monitor subscribers with high priority
// (self->monitor<caf::message_priority::high>(who)) so that down messages overtake
// the backlog. A subscriber dropped by publish() is no longer in the set; its later
// down message finds nothing to remove. "Terminated" is CAF's own flag on the actor
// (set when it has finished, also on proxies of dead remote actors); reading it
// stale only delays the removal until the down message.
//
// Concurrency: not thread-safe; lives in one actor's state and is used from its
// handlers only (response handlers run in the same actor).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <caf/abstract_actor.hpp>
#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/actor_cast.hpp>
#include <caf/error.hpp>

#include "metron/actors/message_types.hpp"
#include "metron/actors/monitor.hpp"
#include "metron/report.hpp"

namespace metron {

/// True if `who` has terminated (a local actor that finished, or the proxy of a
/// remote actor known to be dead). False for a null handle. A cheap flag read: CAF
/// stores the flags in an atomic and reads them relaxed; a stale "alive" is harmless
/// (the down message follows).
template <class Handle>
bool has_terminated(const Handle& who) noexcept {
  auto* ctrl = caf::actor_cast<caf::actor_control_block*>(who);
  return ctrl != nullptr && ctrl->get()->getf(caf::abstract_actor::is_terminated_flag);
}

class subscriber_set {
public:
  explicit subscriber_set(std::size_t credit = 4) : credit_(credit) {}

  /// Adds `who` with a name-prefix filter ("" = everything), or replaces the filter
  /// of an existing subscriber. Returns true if `who` is new (monitor it then).
  /// An actor that has already terminated is not added (returns false).
  bool add(const subscriber_actor& who, std::string prefix) {
    if (has_terminated(who))
      return false;
    auto [i, added] = subs_.try_emplace(who.address());
    i->second.prefix = std::move(prefix);
    if (added) {
      i->second.hdl = who;
      i->second.id = next_id_++;
    }
    return added;
  }

  /// Removes a subscriber; returns true if it was there.
  bool remove(const caf::actor_addr& who) { return subs_.erase(who) > 0; }

  std::size_t size() const noexcept { return subs_.size(); }

  /// Subscribers as (actor, prefix), e.g. to hand them to a restarted fan-out.
  template <class F>
  void for_each(F f) const {
    for (auto& [addr, sub] : subs_)
      f(sub.hdl, sub.prefix);
  }

  /// Sends `snap` (filtered per prefix) to every subscriber that has credit, as a
  /// request from `self`; returns the number of subscribers skipped for lack of credit.
  /// Subscribers that have terminated are removed instead (size() tells).
  template <class Self>
  std::size_t publish(Self* self, const report_ptr& snap) {
    std::size_t skipped = 0;
    std::map<std::string, report_ptr, std::less<>> filtered; // one per prefix and publish
    for (auto it = subs_.begin(); it != subs_.end();) {
      auto& [addr, sub] = *it;
      if (has_terminated(sub.hdl)) {
        it = subs_.erase(it);
        continue;
      }
      ++it;
      if (sub.in_flight >= credit_) {
        ++skipped;
        continue;
      }
      report_ptr msg = snap;
      if (!sub.prefix.empty()) {
        auto& f = filtered[sub.prefix];
        if (!f)
          f = std::make_shared<const report>(snap->filtered(sub.prefix));
        msg = f;
      }
      ++sub.in_flight;
      auto who = addr;
      auto id = sub.id;
      // `this` lives in the actor's state, which outlives the actor's response handlers.
      self->request(sub.hdl, caf::infinite, std::move(msg))
        .then([this, who, id]() { acknowledge(who, id); },
              [this, who, id](caf::error&) { acknowledge(who, id); });
    }
    return skipped;
  }

private:
  struct subscription {
    subscriber_actor hdl;
    std::string prefix;
    std::uint64_t id = 0;      // tells acks of an earlier subscription apart
    std::size_t in_flight = 0; // unacknowledged reports
  };

  void acknowledge(const caf::actor_addr& who, std::uint64_t id) {
    auto i = subs_.find(who);
    if (i != subs_.end() && i->second.id == id && i->second.in_flight > 0)
      --i->second.in_flight;
  }

  std::size_t credit_;
  std::map<caf::actor_addr, subscription> subs_;
  std::uint64_t next_id_ = 1;
};

} // namespace metron
