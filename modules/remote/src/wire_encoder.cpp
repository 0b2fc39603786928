// The node side of the delta wire: one encoder actor per collector link (see
// wire_messages.hpp for the protocol, wire_codec.hpp for the frames).
#include <chrono>
#include <utility>

#include <caf/all.hpp>

#include "metron/actors/message_types.hpp"
#include "wire_codec.hpp"
#include "wire_messages.hpp"

namespace metron::remote::detail {
namespace {

// How long a frame may wait for its acknowledgement; then the encoder assumes it lost
// (the next frame is full) and goes on with the latest snapshot.
constexpr auto ack_timeout = std::chrono::seconds{30};

// What the monitor publishes (a subscriber's handler and get's answer): a report. Only
// its raw snapshot goes on the wire; the collector derives its own figures.
using published = report_ptr;

snapshot_ptr raw(const published& p) {
  return p ? p->raw_ptr() : nullptr;
}

struct encoder_state {
  monitor_actor target;
  caf::actor link;
  wire::encoder codec;
  snapshot_ptr pending; // the latest snapshot not yet encoded (coalesced)
  bool busy = false;    // a frame is in flight
  static inline const char* name = "metron.remote.wire_encoder";
};

using encoder_pointer = caf::stateful_actor<encoder_state>*;

void send_next(encoder_pointer self) {
  auto& st = self->state;
  if (st.busy || !st.pending)
    return;
  wire_frame frame{st.codec.encode(std::move(st.pending))};
  st.pending = nullptr;
  st.busy = true;
  self->request(st.link, ack_timeout, std::move(frame))
    .then(
      [=](std::uint64_t held) {
        self->state.codec.acknowledged(held);
        self->state.busy = false;
        send_next(self);
      },
      [=](caf::error&) {
        self->state.codec.reset(); // the decoder's state is unknown: resync
        self->state.busy = false;
        send_next(self);
      });
}

void offer(encoder_pointer self, const published& p) {
  if (!raw(p))
    return;
  self->state.pending = raw(p);
  send_next(self);
}

// The latest snapshot at once (a new or resyncing link need not wait for a tick).
void fetch_latest(encoder_pointer self) {
  self->request(self->state.target, ack_timeout, get_atom::value)
    .then([=](published& p) { offer(self, p); }, [](caf::error&) {});
}

caf::behavior wire_encoder(encoder_pointer self, monitor_actor target, caf::actor link) {
  auto& st = self->state;
  st.target = std::move(target);
  st.link = std::move(link);
  self->monitor(st.target);
  self->monitor(st.link);
  self->set_down_handler([=](caf::down_msg&) { self->quit(); }); // the link or the monitor
  self->send(st.target, subscribe_atom::value, caf::actor_cast<subscriber_actor>(self));
  fetch_latest(self);
  return {
    // A tick from the monitor's fan-out; returning acknowledges it at once (the
    // encoder coalesces, so the monitor never sees it slow).
    [=](published& p) { offer(self, p); },
    [=](wire_subscribe_atom, caf::actor&) {
      self->state.codec.reset();
      fetch_latest(self);
    },
  };
}

} // namespace

caf::actor spawn_wire_encoder(caf::actor_system& sys, monitor_actor target, caf::actor link) {
  return sys.spawn(wire_encoder, std::move(target), std::move(link));
}

} // namespace metron::remote::detail
