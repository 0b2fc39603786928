// metron/actors/instrument.hpp — metrics for a user's actor (CAF 0.17's actor
// profiler is compiled out of Debian's build, so metron measures actors itself).
//
//   caf::behavior worker(caf::event_based_actor* self, metron::registry& reg) {
//     return metron::instrument(reg, "worker", caf::behavior{
//       [](int x) { return x * 2; },
//     });
//   }
//
// Every message the wrapped behavior handles (a handler matched; skipped and
// unmatched messages are not counted) adds one to
//   metron_actor_messages_total{actor="<name>"}
// and records its handling time, in seconds of steady_clock, into the histogram
//   metron_actor_message_duration_seconds{actor="<name>"}.
// The handling time is the synchronous part of the handler (a handler that returns
// a response promise or delegates is measured until it returns). A handler that
// throws is neither counted nor timed. Timeouts of the behavior are forwarded.
// Actors sharing a name share the series.
//
// Concurrency: instrument() may be called from any thread (it looks up the metrics
// in the registry); the wrapped behavior records lock-free from whatever thread
// runs the actor. The registry must outlive the actor.
#pragma once

#include <string>

#include <caf/behavior.hpp>
#include <caf/typed_behavior.hpp>

#include "metron/registry.hpp"

namespace metron {

/// Wraps `bhvr` so each handled message is counted and timed (see the file comment).
caf::behavior instrument(registry& reg, const std::string& actor_name, caf::behavior bhvr);

/// The same for a typed behavior (typed actors).
template <class... Sigs>
caf::typed_behavior<Sigs...> instrument(registry& reg, const std::string& actor_name,
                                        caf::typed_behavior<Sigs...> bhvr) {
  using result = caf::typed_behavior<Sigs...>;
  return result{typename result::unsafe_init{}, instrument(reg, actor_name, std::move(bhvr.unbox()))};
}

} // namespace metron
