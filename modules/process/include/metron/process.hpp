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
// All are gauges in the registry, set on each refresh. process_cpu_seconds_total only
// ever grows; it is a gauge because it is set from /proc (a metron counter can only be
// added to, in whole units), and the Prometheus exporter exposes gauges named *_total
// as TYPE counter (text_format.hpp), which is what rate() expects.
//
// Refreshing: install(reg, cfg) registers the gauges, refreshes them once, and adds a
// collector to cfg.collectors, so the monitor's aggregator refreshes them right before
// each tick's snapshot (one read of three small /proc files and one directory).
//
// Concurrency: read() is thread-safe. A collector's refresh() may run on any thread
// but not concurrently with itself (the aggregator runs collectors one at a time);
// the gauges it sets are ordinary thread-safe gauges.
#pragma once

#include <memory>
#include <string>

#include "metron/actors/config.hpp"
#include "metron/gauge.hpp"
#include "metron/registry.hpp"

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

/// The gauges of one registry and their refresh.
class collector {
public:
  /// Registers (gets or creates) the process_* gauges in reg.
  explicit collector(registry& reg);

  /// Reads /proc/self and sets the gauges; on a read error leaves them unchanged and
  /// rethrows (the aggregator counts it in metron_collector_errors_total).
  void refresh();

private:
  gauge& cpu_;
  gauge& resident_;
  gauge& virtual_;
  gauge& open_fds_;
  gauge& max_fds_;
  gauge& threads_;
  gauge& start_time_;
};

/// Registers the gauges in reg, refreshes them once and adds their refresh to
/// cfg.collectors (see the file comment). reg must outlive the monitor.
void install(registry& reg, monitor_config& cfg);

} // namespace metron::process
