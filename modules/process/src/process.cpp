#include "metron/process.hpp"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace metron::process {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("metron::process: cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Entries of a /proc/<pid>/fd directory, not counting the descriptor used to read it.
double count_fds(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return 0;
  int own = ::dirfd(d);
  double n = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..")
      continue;
    if (name == std::to_string(own) && dir == "/proc/self/fd")
      continue;
    ++n;
  }
  ::closedir(d);
  return n;
}

// The soft "Max open files" limit, 0 when unlimited or absent.
double max_open_files(const std::string& limits_path) {
  std::ifstream in(limits_path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream s(line.substr(14));
      std::string soft;
      s >> soft;
      if (soft == "unlimited")
        return 0;
      try {
        return std::stod(soft);
      } catch (...) {
        return 0;
      }
    }
  }
  return 0;
}

double boot_time(const std::string& proc_stat) {
  std::istringstream in(slurp(proc_stat));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("btime ", 0) == 0)
      return std::stod(line.substr(6));
  throw std::runtime_error("metron::process: no btime in " + proc_stat);
}

} // namespace

stats read(const std::string& proc_self, const std::string& proc_stat) {
  std::string stat = slurp(proc_self + "/stat");
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields
  // start after the last ')'. Field k (1-based, as in proc(5)) is fields[k - 3].
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    throw std::runtime_error("metron::process: cannot parse " + proc_self + "/stat");
  std::istringstream in(stat.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; in >> f;)
    fields.push_back(f);
  if (fields.size() < 22)
    throw std::runtime_error("metron::process: short " + proc_self + "/stat");
  auto field = [&](int k) { return std::stod(fields[static_cast<std::size_t>(k - 3)]); };
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  static const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  stats s;
  s.cpu_seconds = (field(14) + field(15)) / ticks;
  s.threads = field(20);
  s.start_time_seconds = boot_time(proc_stat) + field(22) / ticks;
  s.virtual_memory_bytes = field(23);
  s.resident_memory_bytes = field(24) * page;
  s.open_fds = count_fds(proc_self + "/fd");
  s.max_fds = max_open_files(proc_self + "/limits");
  return s;
}

collector::collector(registry& reg)
  : cpu_(reg.settable_counter("process_cpu_seconds_total", {}, "Total user and system CPU time spent in seconds.")),
    resident_(reg.gauge("process_resident_memory_bytes", {}, "Resident memory size in bytes.")),
    virtual_(reg.gauge("process_virtual_memory_bytes", {}, "Virtual memory size in bytes.")),
    open_fds_(reg.gauge("process_open_fds", {}, "Number of open file descriptors.")),
    max_fds_(reg.gauge("process_max_fds", {}, "Maximum number of open file descriptors.")),
    threads_(reg.gauge("process_threads", {}, "Number of OS threads in the process.")),
    start_time_(reg.gauge("process_start_time_seconds", {},
                          "Start time of the process since unix epoch in seconds.")) {}

void collector::refresh() {
  auto s = read();
  cpu_.set(s.cpu_seconds);
  resident_.set(s.resident_memory_bytes);
  virtual_.set(s.virtual_memory_bytes);
  open_fds_.set(s.open_fds);
  max_fds_.set(s.max_fds);
  threads_.set(s.threads);
  start_time_.set(s.start_time_seconds);
}

collector_id install(registry& reg) {
  // The collector holds references into reg and reg owns the collector: no lifetime to manage.
  return reg.add_collector([c = collector{reg}]() mutable { c.refresh(); });
}

} // namespace metron::process
