// metron/remote_write/writer.hpp — a monitor's reports pushed to a Prometheus
// remote-write receiver: for short-lived jobs and nodes nobody can scrape.
//
//   metron::remote_write::config cfg;
//   cfg.url = "http://127.0.0.1:9090/api/v1/write";
//   cfg.external_labels = {{"job", "batch"}, {"instance", "node-7"}};
//   metron::remote_write::writer w{sys, mon, cfg};
//   ...
//   w.flush(std::chrono::seconds{5});   // before a short-lived job exits
//
// The writer spawns a subscriber actor in `sys`, detached (a thread of its own, so
// encoding never holds a scheduler worker), that subscribes to the monitor (with its
// credit, like any subscriber). For each report at least push_interval after the
// last one it pushed (and with a later millisecond timestamp), the actor encodes it
// (encoder.hpp) and hands the requests to the sender (sender.hpp), whose own thread
// does the HTTP; the actor never waits for the network. Encoding costs about 1 µs
// per series (docs/remote-write.md).
//
// Memory: the sender's bound (queue_capacity + 1 encoded requests, sender.hpp) and
// the report being encoded; two threads (the actor's and the sender's).
//
// Lifetime: destroy the writer before its actor system (declare it after). stop()
// (idempotent, also run by the destructor) unsubscribes, ends the actor, then stops
// the sender (what is still queued is dropped and counted; flush() first to send it).
//
// Configuration from CAF (add_options before parsing, config_from after), in
// caf-application.ini under [metron.remote-write] or as --metron.remote-write.<key>=...:
//   url (string, required to push), push-interval (timespan, 10s), queue-capacity (64),
//   max-samples-per-request (2000), min-backoff (100ms), max-backoff (5s),
//   connect-timeout (5s), request-timeout (10s), external-labels (list of "key=value").
// config_from leaves absent keys at config's defaults; the writer validates the rest.
//
// Concurrency: stats(), flush() and stop() are thread-safe. Do not call flush() or
// construct a writer from inside a message handler of the same actor system (both
// wait for an actor's reply).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "metron/actors/monitor.hpp"
#include "metron/remote_write/config.hpp"
#include "metron/remote_write/sender.hpp"

namespace metron::remote_write {

class writer {
public:
  /// Validates cfg (throws std::invalid_argument, see config.hpp), starts the sender
  /// and subscribes to `mon`.
  writer(caf::actor_system& sys, const monitor_actor& mon, config cfg);
  ~writer();

  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  /// Pushes the first report the monitor takes from now on (at most one tick
  /// later; whatever push_interval says), so what was recorded before the call is
  /// in it, then waits until the queue is empty; at most `limit` in all. True if
  /// everything queued was sent or dropped in time (stats() tells which); false also
  /// when no report came (the monitor is gone) or after stop().
  bool flush(std::chrono::milliseconds limit);

  /// The sender's counters.
  sender_stats stats() const { return sender_->stats(); }

  /// Leaves the monitor and stops the sender; idempotent.
  void stop() noexcept;

private:
  caf::actor_system& sys_;
  std::mutex stop_mutex_;
  monitor_actor monitor_;
  std::shared_ptr<sender> sender_;
  caf::actor actor_;
};

/// Declares the metron.remote-write.* options (see the file comment).
void add_options(caf::actor_system_config& cfg);

/// A config from the metron.remote-write.* options; absent keys keep the defaults.
/// Throws std::invalid_argument for an external label that is not "key=value" or a
/// negative duration (the writer's constructor checks everything else).
config config_from(const caf::actor_system_config& cfg);

} // namespace metron::remote_write
