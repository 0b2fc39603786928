// metron/actors/message_types.hpp — makes snapshot_ptr a CAF 0.17 message type.
//
// CAF 0.17 accepts a type in a message when it is inspectable (or whitelisted with
// CAF_ALLOW_UNSAFE_MESSAGE_TYPE). snapshot_ptr (std::shared_ptr<const snapshot>)
// gets an inspect overload here that forwards to snapshot's own inspect friend, so
// it is a regular, serializable message type: locally the pointer is shared (never
// copied), and a module that sends snapshots to other processes only has to call
// cfg.add_message_type<metron::snapshot_ptr>("metron::snapshot_ptr").
// A null snapshot_ptr serializes as an empty snapshot.
//
// Every translation unit that puts a snapshot_ptr into a CAF message must include
// this header (metron/actors.hpp does), so all of them agree on the type's traits.
//
// Concurrency: serializing reads the (immutable) snapshot; safe from any thread.
#pragma once

#include <memory>
#include <type_traits>

#include "metron/snapshot.hpp"

namespace metron {

/// Serializes / deserializes the pointed-to snapshot (found by ADL: snapshot_ptr's
/// template argument lives in namespace metron).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_ptr& x) {
  if constexpr (Inspector::reads_state) {
    if (!x) {
      snapshot empty;
      return f(empty);
    }
    // Reading state only: the inspector does not write through the reference.
    return f(const_cast<snapshot&>(*x));
  } else {
    auto fresh = std::make_shared<snapshot>();
    if constexpr (std::is_void_v<typename Inspector::result_type>) {
      f(*fresh);
      x = std::move(fresh);
    } else {
      auto result = f(*fresh);
      x = std::move(fresh);
      return result;
    }
  }
}

} // namespace metron
