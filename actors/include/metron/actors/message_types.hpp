// metron/actors/message_types.hpp — makes snapshot_ptr and report_ptr CAF 0.17
// message types.
//
// CAF 0.17 accepts a type in a message when it is inspectable (or whitelisted with
// CAF_ALLOW_UNSAFE_MESSAGE_TYPE). snapshot_ptr and report_ptr (shared_ptrs to const)
// get inspect overloads here that forward to the pointee's own inspect friend, so
// they are regular, serializable message types: locally the pointer is shared (never
// copied), and a module that sends them to other processes only has to call
// cfg.add_message_type<metron::report_ptr>("metron::report_ptr") (the remote module's
// configure() does). A null pointer serializes as an empty snapshot / report.
//
// Every translation unit that puts one into a CAF message must include this header
// (metron/actors.hpp does), so all of them agree on the type's traits.
//
// Concurrency: serializing reads the (immutable) snapshot; safe from any thread.
#pragma once

#include <memory>
#include <type_traits>

#include "metron/report.hpp"
#include "metron/snapshot.hpp"

namespace metron {

namespace detail {

/// Serializes / deserializes what a shared_ptr<const T> points to.
template <class T, class Inspector>
typename Inspector::result_type inspect_shared(Inspector& f, std::shared_ptr<const T>& x) {
  if constexpr (Inspector::reads_state) {
    if (!x) {
      T empty;
      return f(empty);
    }
    // Reading state only: the inspector does not write through the reference.
    return f(const_cast<T&>(*x));
  } else {
    auto fresh = std::make_shared<T>();
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

} // namespace detail

/// Found by ADL (the pointees live in namespace metron).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_ptr& x) {
  return detail::inspect_shared(f, x);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, report_ptr& x) {
  return detail::inspect_shared(f, x);
}

} // namespace metron
