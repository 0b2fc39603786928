#include "metron/prometheus/exporter.hpp"

#include <caf/all.hpp>

#include "metron/actors.hpp"

namespace metron::prometheus {

exporter::exporter(caf::actor_system& sys, const monitor_actor& mon, server_config cfg,
                   std::chrono::milliseconds initial_wait)
  : monitor_(mon), store_(std::make_shared<snapshot_store>()) {
  // The server first: if the port cannot be bound, nothing is left subscribed.
  server_ = std::make_unique<http_server>(std::move(cfg), [store = store_] { return store->get(); });
  subscriber_ = sys.spawn([store = store_](caf::event_based_actor*) -> caf::behavior {
    return {
      // Returning acknowledges the snapshot to the fan-out (credit).
      [store](snapshot_ptr s) { store->offer(std::move(s)); },
    };
  });
  caf::anon_send(monitor_, subscribe_atom::value, subscriber_);
  caf::scoped_actor self{sys};
  self->request(monitor_, initial_wait, get_atom::value)
    .receive([&](snapshot_ptr s) { store_->offer(std::move(s)); },
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
