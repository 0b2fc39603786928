// metron/remote_write/config.hpp — what a remote writer is told: where to push, how
// often, how much it may buffer, how it retries, and the labels it adds.
//
// A plain struct, read once by the constructors (encoder, sender, writer); nothing
// here is a CAF config key. Bad values (an URL that is not http://host[:port]/path, a
// zero queue, backoff bounds out of order, an invalid external label) make the
// constructors throw std::invalid_argument naming the field.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "metron/labels.hpp"
#include "metron/prometheus/text_format.hpp"

namespace metron {
class registry;
} // namespace metron

namespace metron::remote_write {

struct config {
  // -- where --------------------------------------------------------------------------
  /// The receiver, e.g. "http://127.0.0.1:9090/api/v1/write". http only (no TLS);
  /// the port defaults to 80.
  std::string url;
  /// Sent as User-Agent.
  std::string user_agent = "metron-remote-write/0.1";

  // -- what -----------------------------------------------------------------------------
  /// The series mapping: buckets and quantile summaries as the /metrics exposition
  /// (metron/prometheus/text_format.hpp) with the same options.
  prometheus::text_options exposition;
  /// Added to every series (job, instance, ...) unless the series has the key already.
  /// Keys must be valid label keys and distinct.
  labels external_labels;
  /// A report with more samples is split into several requests of at most this many.
  std::size_t max_samples_per_request = 2000;

  // -- when -----------------------------------------------------------------------------
  /// The writer pushes a report when at least this much wall time has passed since the
  /// last report it pushed (the monitor ticks faster; the reports between are
  /// acknowledged and skipped). Zero: every report.
  std::chrono::milliseconds push_interval{10'000};

  // -- buffering and retries ------------------------------------------------------------
  /// Encoded requests waiting to be sent, at most; when full, the oldest is dropped
  /// and counted (reason "queue_full"). One more may be in the sender's hands.
  std::size_t queue_capacity = 64;
  /// Retry delay after the n-th failed attempt of a request: min_backoff * 2^(n-1),
  /// capped at max_backoff, times a random factor in [0.5, 1] (jitter).
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5'000};
  /// Resolving and connecting, together.
  std::chrono::milliseconds connect_timeout{5'000};
  /// Writing a request and reading its whole response.
  std::chrono::milliseconds request_timeout{10'000};
  /// A response's body is read up to this many bytes (a larger one is a bad
  /// response); its header up to 8 KiB.
  std::size_t max_response_bytes = 64 * 1024;

  // -- self-metrics ---------------------------------------------------------------------
  /// Where the sender's counters live (metron_remote_write_*; see sender.hpp), so they
  /// appear on /metrics. Null: a registry the sender owns (read them with stats()).
  /// Must outlive the sender.
  registry* metrics = nullptr;
};

} // namespace metron::remote_write
