// Internal (not installed): the delta wire's messages and the node-side encoder actor.
//
// A published monitor's facade (facade.hpp) also understands
//   (wire_subscribe_atom, caf::actor link)
// from a collector's link: it spawns one encoder actor per link (counted against the
// same per-peer and total subscription limits), which subscribes to the monitor
// locally and sends each report's raw snapshot to the link as a request carrying a wire_frame
// (wire_codec.hpp) against the last acknowledged one; the link's answer (a
// std::uint64_t, the seq its decoder holds) is the acknowledgement. One frame is in
// flight at a time; ticks arriving meanwhile are coalesced into the next frame, so a
// slow link costs the node one snapshot, never a queue. Subscribing again (the link's
// staleness check) makes the encoder send a full frame of the latest snapshot.
// A link sees the wire in the facade's interface (wire_monitor_actor); a monitor
// published without a facade (TLS) is served the plain way (report_ptr).
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/deserializer.hpp>
#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>

#include "metron/actors/monitor.hpp"

namespace metron::remote {

using wire_subscribe_atom = caf::atom_constant<caf::atom("wiresub")>;

/// A monitor that also serves the delta wire (what publish() puts on the port).
using wire_monitor_actor = monitor_actor::extend<caf::reacts_to<wire_subscribe_atom, caf::actor>>;

/// One encoded frame (wire_codec.hpp) as a CAF message type.
struct wire_frame {
  std::vector<std::uint8_t> bytes;
  friend bool operator==(const wire_frame&, const wire_frame&) = default;
};

/// Saves the bytes as CAF saves a byte vector (length, then raw bytes). Loading reads
/// them in 64 KiB steps, so a length the payload does not back costs at most one step
/// (CAF's own loader would resize to the announced length, up to 4 GiB, first).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_frame& x) {
  if constexpr (std::is_base_of_v<caf::deserializer, Inspector>) {
    std::size_t n = 0;
    if (auto err = f.begin_sequence(n))
      return err;
    x.bytes.clear();
    while (x.bytes.size() < n) {
      auto at = x.bytes.size();
      auto step = std::min<std::size_t>(n - at, std::size_t{1} << 16);
      x.bytes.resize(at + step);
      if (auto err = f.apply_raw(step, x.bytes.data() + at))
        return err;
    }
    return f.end_sequence();
  } else {
    return f(x.bytes);
  }
}

namespace detail {

/// Spawns the encoder of one link (see the file comment); it terminates when the link
/// or the monitor does. Sending it (wire_subscribe_atom, link) again makes its next
/// frame a full one of the latest snapshot.
caf::actor spawn_wire_encoder(caf::actor_system& sys, monitor_actor target, caf::actor link);

} // namespace detail
} // namespace metron::remote
