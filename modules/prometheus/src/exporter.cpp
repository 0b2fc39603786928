#include "metron/prometheus/exporter.hpp"

#include <caf/all.hpp>

#include "metron/actors.hpp"

namespace metron::prometheus {

exporter::exporter(caf::actor_system& sys, const monitor_actor& mon, server_config cfg,
                   std::chrono::milliseconds initial_wait)
  : monitor_(mon), store_(std::make_shared<report_store>()) {
  // The server first: if the port cannot be bound, nothing is left subscribed.
  server_ = std::make_unique<http_server>(std::move(cfg), [store = store_] { return store->get(); });
  subscriber_ = sys.spawn([store = store_]() -> subscriber_actor::behavior_type {
    return {
      // Returning acknowledges the report to the fan-out (credit).
      [store](report_ptr r) { store->offer(std::move(r)); },
    };
  });
  caf::anon_send(monitor_, subscribe_atom::value, subscriber_);
  caf::scoped_actor self{sys};
  self->request(monitor_, initial_wait, get_atom::value)
    .receive([&](report_ptr r) { store_->offer(std::move(r)); },
             [](const caf::error&) { /* no answer in time: the first tick will come */ });
}

exporter::~exporter() {
  stop();
}

void exporter::stop() noexcept {
  std::lock_guard guard{stop_mutex_};
  server_->stop();
  if (subscriber_) {
    caf::anon_send(monitor_, unsubscribe_atom::value, subscriber_);
    caf::anon_send_exit(subscriber_, caf::exit_reason::user_shutdown);
    subscriber_ = nullptr;
  }
}

} // namespace metron::prometheus
