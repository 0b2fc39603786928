// Internal (not installed; tests reach it through the metron_actors_testing target):
// the monitor's failure-injection hook.
//
// inject_failure makes the monitor's current aggregator or fan-out throw from a
// message handler (it terminates with sec::runtime_error), exactly like a bug would;
// the supervisor then restarts it or gives up. The message carries injected_fault, a
// type that has no CAF type name, so it can only be sent from inside the process:
// no peer can deserialize it, and no byte from the network can trigger it.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>

#include "metron/actors/monitor.hpp"

namespace metron::testing {

/// Which child of a monitor inject_failure makes fail.
enum class monitor_part { aggregator, fanout };

/// TEST-ONLY: see the file comment.
void inject_failure(const monitor_actor& mon, monitor_part part);

} // namespace metron::testing

namespace metron::detail {

struct injected_fault {
  testing::monitor_part part;
};

} // namespace metron::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(metron::detail::injected_fault)
