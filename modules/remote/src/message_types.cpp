#include "metron/remote/message_types.hpp"

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "metron/actors/message_types.hpp"
#include "metron/actors/monitor.hpp"
#include "metron/remote/collector.hpp"
#include "wire_messages.hpp"

namespace metron::remote {

caf::actor_system_config& add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<metron::snapshot_ptr>("metron::snapshot_ptr");
  cfg.add_message_type<metron::snapshot>("metron::snapshot");
  cfg.add_message_type<metron::report_ptr>("metron::report_ptr");
  cfg.add_message_type<metron::report>("metron::report");
  cfg.add_message_type<metron::monitor_actor>("metron::monitor_actor");
  cfg.add_message_type<metron::subscriber_actor>("metron::subscriber_actor");
  cfg.add_message_type<node_status>("metron::remote::node_status");
  cfg.add_message_type<collector_actor>("metron::remote::collector_actor");
  cfg.add_message_type<wire_frame>("metron::remote::wire_frame");
  // (CAF 0.17.6's add_error_category<T> template does not compile; pass a renderer.)
  cfg.add_error_category(caf::atom("metron"), [](std::uint8_t code, caf::atom_value, const caf::message&) {
    return "metron::" + metron::to_string(static_cast<metron::monitor_errc>(code));
  });
  return cfg;
}

caf::actor_system_config& configure(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
  return add_message_types(cfg);
}

} // namespace metron::remote
