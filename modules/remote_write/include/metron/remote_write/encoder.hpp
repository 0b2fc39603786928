// metron/remote_write/encoder.hpp — a report as Prometheus remote-write 1.0 requests:
// protobuf WriteRequest messages, snappy-compressed (block format, not framed).
//
// Series: exactly those of the /metrics exposition of the same report with the same
// text_options (metron/prometheus/text_format.hpp): counters as <name>_total,
// gauges, settable counters, histograms as cumulative <name>_bucket{le="..."} for the
// configured ladder plus le="+Inf", <name>_sum and <name>_count, and the quantile
// summary family when enabled. The encoder obtains them by rendering the report with
// render_text and reading its sample lines back, so the two outputs cannot drift
// apart (and a family the exposition skips is skipped here too). Each series gets the
// label __name__, its own labels, and the external labels whose keys it lacks, sorted
// by name as the specification requires; one sample, the report's wall time in ms. An
// empty label value counts as no label (Prometheus's rule). A series that, with the
// external labels added, would equal one that has them itself is left out (a
// request carrying one series twice at one timestamp is refused whole).
//
// Errors: invalid options (see config.hpp) throw std::invalid_argument from the
// constructor; encoding a report does not fail (an empty report gives no request).
//
// Cost: a render of the report to text, a parse of it, one protobuf message and one
// snappy compression per request; allocates. Measured in docs/remote-write.md.
//
// Concurrency: encode() is const and touches no shared state; one encoder may be used
// from many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "metron/remote_write/config.hpp"
#include "metron/report.hpp"

namespace metron::remote_write {

/// One request body, ready to POST.
struct encoded_batch {
  std::string body;          // snappy(WriteRequest)
  std::size_t samples = 0;   // samples (= series) in it
  std::size_t raw_bytes = 0; // size of the protobuf before compression
  std::int64_t timestamp_ms = 0;
};

/// A series of the exposition: its name and labels (without __name__) and its value.
struct exposed_sample {
  std::string name;
  metron::labels labels;
  double value = 0;
};

class encoder {
public:
  /// Validates cfg's encoding fields (external_labels, max_samples_per_request,
  /// exposition.buckets); throws std::invalid_argument.
  explicit encoder(const config& cfg);

  /// The requests for r, each with at most max_samples_per_request samples.
  std::vector<encoded_batch> encode(const report& r) const;

private:
  prometheus::text_options exposition_;
  labels external_;
  std::size_t max_samples_;
};

/// The sample lines of a 0.0.4 exposition written by render_text (comments skipped,
/// label values unescaped). Only for render_text's own output: a line it does not
/// understand is skipped.
std::vector<exposed_sample> read_exposition(std::string_view text);

} // namespace metron::remote_write
