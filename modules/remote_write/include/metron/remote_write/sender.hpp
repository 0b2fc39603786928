// metron/remote_write/sender.hpp — POSTs encoded requests to a remote-write receiver
// from a thread of its own, through a bounded queue, with retries.
//
//   metron::remote_write::sender s{cfg};   // cfg.url = "http://127.0.0.1:9090/api/v1/write"
//   s.push(batch);                         // never waits for the network
//   s.wait_idle(std::chrono::seconds{5});  // everything queued was sent or dropped
//
// Protocol (remote-write 1.0): HTTP/1.1 POST, Content-Encoding: snappy,
// Content-Type: application/x-protobuf, X-Prometheus-Remote-Write-Version: 0.1.0,
// User-Agent from the config; one keep-alive connection, reopened after any error (a
// request that fails unanswered on a reused connection is sent once more at once on a
// new one: the receiver may have closed it while idle).
// Outcome of an attempt:
//   2xx                          sent (counted in batches/samples/bytes)
//   5xx, 429, network error,     failed attempt; retried after a backoff
//   timeout, unparsable response (config.hpp: exponential from min_backoff, capped at
//   or another status (1xx, 3xx) max_backoff, with jitter), until it is sent or
//                                dropped as the oldest when the queue overflows
//   other 4xx                    dropped at once (reason "rejected"): the receiver
//                                refuses this request and always will
// Requests are sent one at a time in push order, so a series' samples arrive in time
// order (Prometheus rejects an out-of-order sample).
//
// Bounds: queue_capacity waiting requests plus the one on the wire. A request that
// failed waits out its backoff at the front of the queue, so it is the oldest: pushing
// into a full queue drops it first (reason "queue_full"), and so it is when the queue
// filled up while it was on the wire. A response is hostile input: its
// header is read up to 8 KiB, its body up to max_response_bytes, the whole exchange
// within request_timeout; anything else is a failed attempt, never a crash.
//
// Self-metrics (in config::metrics, or a registry of its own), also in stats():
//   metron_remote_write_enqueued_batches_total        pushed
//   metron_remote_write_batches_total, metron_remote_write_samples_total,
//   metron_remote_write_bytes_total                   sent (compressed bytes)
//   metron_remote_write_failed_attempts_total         every attempt that did not succeed
//   metron_remote_write_retries_total                 attempts after the first
//   metron_remote_write_dropped_batches_total{reason} queue_full, rejected, shutdown
//   metron_remote_write_queued_batches                (gauge) waiting now
//
// A host name (not an IPv4 address) is resolved by the system resolver, whose own
// timeout can exceed connect_timeout. IPv6 literals and https are not supported.
//
// Lifetime: stop() (idempotent, also run by the destructor) ends the thread, at most
// one connect_timeout or request_timeout later; what is still queued is dropped
// (reason "shutdown"), and so is a request cut short on the wire, which the receiver
// may have stored all the same. Call wait_idle() first to send it.
//
// Concurrency: push(), stats(), wait_idle() and stop() are thread-safe. push() takes a
// mutex held only for queue operations, never across network I/O.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "metron/counter.hpp"
#include "metron/gauge.hpp"
#include "metron/registry.hpp"
#include "metron/remote_write/config.hpp"
#include "metron/remote_write/encoder.hpp"


namespace metron::remote_write {

/// The sender's counters (see the file comment).
struct sender_stats {
  std::uint64_t enqueued_batches = 0; // pushed; = sent + dropped + queued + the one on the wire
  std::uint64_t sent_batches = 0;
  std::uint64_t sent_samples = 0;
  std::uint64_t sent_bytes = 0;
  std::uint64_t failed_attempts = 0;
  std::uint64_t retries = 0;
  std::uint64_t dropped_queue_full = 0;
  std::uint64_t dropped_rejected = 0;
  std::uint64_t dropped_shutdown = 0;
  std::uint64_t queued = 0;
};

/// The delay before retry number `attempt` (1 for the first retry): min * 2^(attempt-1)
/// capped at max, scaled by `jitter` in [0.5, 1].
std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds min,
                                        std::chrono::milliseconds max, double jitter) noexcept;

class sender {
public:
  /// Validates cfg's sending fields (url, queue_capacity, backoff, timeouts) and starts
  /// the thread; throws std::invalid_argument. Registers its counters in cfg.metrics.
  explicit sender(const config& cfg);
  ~sender();

  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;

  /// Queues b (dropping the oldest when full); never blocks on the network.
  void push(encoded_batch b);

  /// Waits until nothing is queued or being sent, at most `limit`; true if so.
  bool wait_idle(std::chrono::milliseconds limit);

  /// The counters now.
  sender_stats stats() const;

  /// Ends the thread; idempotent.
  void stop() noexcept;

private:
  struct url_parts {
    std::string host, port, target;
  };
  class connection;
  enum class outcome { sent, rejected, retry };

  void run();
  outcome attempt(const encoded_batch& b);
  bool stopping() const;

  config cfg_;
  url_parts url_;
  std::unique_ptr<registry> own_metrics_;
  counter* enqueued_;
  counter* batches_;
  counter* samples_;
  counter* bytes_;
  counter* failed_;
  counter* retries_;
  counter* dropped_full_;
  counter* dropped_rejected_;
  counter* dropped_shutdown_;
  gauge* queued_;

  std::mutex stop_mutex_;          // one stop() at a time
  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the thread: something queued, or stop
  std::condition_variable idle_;  // wait_idle: queue empty and nothing on the wire
  struct queued_request {
    encoded_batch batch;
    unsigned failures = 0; // attempts that failed so far
  };
  std::deque<queued_request> queue_; // oldest first; one waiting out a backoff is at the front
  bool sending_ = false;             // the thread has one out of the queue, on the wire
  bool stop_ = false;
  std::unique_ptr<connection> conn_; // the thread's only
  std::minstd_rand rng_;             // the thread's only
  std::thread thread_;
};

} // namespace metron::remote_write
