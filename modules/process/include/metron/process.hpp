// metron/process.hpp — process metrics from /proc, named as Prometheus client
// libraries name them:
//   process_cpu_seconds_total      user + system CPU time, seconds   (utime+stime of /proc/self/stat)
//   process_resident_memory_bytes  resident set size                 (rss * page size)
//   process_virtual_memory_bytes   virtual memory size               (vsize)
//   process_open_fds               open file descriptors             (entries of /proc/self/fd)
//   process_max_fds                soft limit of open files          (/proc/self/limits)
//   process_threads                threads of the process            (num_threads)
//   process_start_time_seconds     start time, seconds since the epoch (btime of /proc/stat
//                                                                     + starttime / clock ticks)
// Kinds are declared: process_cpu_seconds_total is a settable counter (a monotonic
// total read from /proc, fractional; registry::settable_counter), so exporters expose
// it as a counter and rate() applies; the others are gauges.
//
// Refreshing: install(reg) registers the metrics and one registry collector
// (registry::add_collector), so every reg.snapshot() — each monitor tick, each direct
// call — refreshes them first with one read of three small /proc files and one
// directory. No actor system is needed. A failed read leaves the values as they were
// and counts in reg.collector_errors() (metron_collector_errors_total).
//
// Concurrency: read() is thread-safe. refresh() may run on any thread; the registry
// runs its collectors one at a time, and the metrics it sets are thread-safe.
#pragma once

#include <string>

#include "metron/gauge.hpp"
#include "metron/registry.hpp"
#include "metron/settable_counter.hpp"

namespace metron::process {

/// One reading of the process's figures.
struct stats {
  double cpu_seconds = 0;
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double open_fds = 0;
  double max_fds = 0; // 0 when unlimited or unknown
  double threads = 0;
  double start_time_seconds = 0;
};

/// Reads the figures from proc_self (a /proc/<pid> directory) and proc_stat (for
/// the boot time). Throws std::runtime_error if stat cannot be read or parsed.
stats read(const std::string& proc_self = "/proc/self", const std::string& proc_stat = "/proc/stat");

/// The process metrics of one registry and their refresh.
class collector {
public:
  /// Registers (gets or creates) the process_* metrics in reg.
  explicit collector(registry& reg);

  /// Reads /proc/self and sets the metrics; on a read error leaves them unchanged and
  /// rethrows (a registry collector's throw is counted in metron_collector_errors_total).
  void refresh();

private:
  settable_counter& cpu_;
  gauge& resident_;
  gauge& virtual_;
  gauge& open_fds_;
  gauge& max_fds_;
  gauge& threads_;
  gauge& start_time_;
};

/// Registers the metrics in reg and their refresh as one of reg's collectors (see the
/// file comment). Returns the collector's id: reg.remove_collector(id) stops the
/// refresh (the metrics stay, with their last values). Each call adds a collector.
collector_id install(registry& reg);

} // namespace metron::process
