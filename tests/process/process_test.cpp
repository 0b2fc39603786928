// Process metrics: parsing (a fake /proc with an awkward comm), live readings that
// move as the process does, the collector's metrics and their declared kinds,
// promtool on their exposition, and the refresh by the registry at each snapshot.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "metron/process.hpp"
#include "metron/prometheus/text_format.hpp"

using namespace metron;
namespace fs = std::filesystem;

TEST(process, parses_stat_fields_after_an_awkward_command_name) {
  char tmpl[] = "/tmp/metron_proc_XXXXXX";
  fs::path dir = ::mkdtemp(tmpl);
  fs::create_directories(dir / "self" / "fd");
  for (auto n : {"0", "1", "2", "7"})
    std::ofstream(dir / "self" / "fd" / n) << "";
  // Fields 3.. after "(comm)": state=S ... utime(14)=250 stime(15)=150 threads(20)=9
  // starttime(22)=1000 vsize(23)=123456789 rss(24)=300
  std::ofstream(dir / "self" / "stat")
    << "4242 (a) (b c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 9 0 1000 123456789 300 "
       "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  std::ofstream(dir / "stat") << "cpu  1 2 3\nbtime 1700000000\nprocesses 5\n";
  std::ofstream(dir / "self" / "limits")
    << "Limit                     Soft Limit           Hard Limit           Units     \n"
       "Max open files            1024                 1048576              files     \n";
  auto s = process::read((dir / "self").string(), (dir / "stat").string());
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(s.cpu_seconds, 400 / ticks);
  EXPECT_EQ(s.threads, 9);
  EXPECT_DOUBLE_EQ(s.start_time_seconds, 1700000000 + 1000 / ticks);
  EXPECT_EQ(s.virtual_memory_bytes, 123456789);
  EXPECT_EQ(s.resident_memory_bytes, 300.0 * static_cast<double>(::sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(s.open_fds, 4);
  EXPECT_EQ(s.max_fds, 1024);
  std::ofstream(dir / "self" / "stat") << "garbage";
  EXPECT_THROW(process::read((dir / "self").string(), (dir / "stat").string()), std::runtime_error);
  EXPECT_THROW(process::read((dir / "nothing").string()), std::runtime_error);
  fs::remove_all(dir);
}

TEST(process, live_readings_follow_threads_fds_and_cpu) {
  // A first thread makes ThreadSanitizer start its own background thread; get that
  // out of the way so the count below moves by exactly our thread.
  std::thread([] {}).join();
  auto before = process::read();
  EXPECT_GT(before.resident_memory_bytes, 0);
  EXPECT_GE(before.virtual_memory_bytes, before.resident_memory_bytes);
  EXPECT_GE(before.threads, 1);
  EXPECT_GE(before.open_fds, 3); // stdin, stdout, stderr at least
  auto now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(before.start_time_seconds, now + 1);
  EXPECT_GT(before.start_time_seconds, now - 3600); // started by this test run

  int fd = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::thread extra([&] {
    std::unique_lock lock{m};
    cv.wait(lock, [&] { return release; });
  });
  auto during = process::read();
  EXPECT_EQ(during.open_fds, before.open_fds + 1);
  EXPECT_EQ(during.threads, before.threads + 1);
  {
    std::lock_guard lock{m};
    release = true;
  }
  cv.notify_one();
  extra.join();
  ::close(fd);

  // Burn CPU until the clock-tick counter moves (bounded).
  volatile double x = 0;
  auto start = std::chrono::steady_clock::now();
  while (process::read().cpu_seconds <= before.cpu_seconds &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds{10})
    for (int i = 0; i < 1'000'000; ++i)
      x = x + i;
  EXPECT_GT(process::read().cpu_seconds, before.cpu_seconds);
}

TEST(process, collector_sets_metrics_of_declared_kinds_that_export_as_prometheus_expects) {
  registry reg;
  process::collector c{reg};
  c.refresh();
  auto s = reg.snapshot();
  for (auto name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                    "process_open_fds", "process_max_fds", "process_threads", "process_start_time_seconds"})
    ASSERT_NE(s.find_gauge(name), nullptr) << name;
  EXPECT_GT(s.find_gauge("process_threads")->value(), 0);
  EXPECT_TRUE(s.find_family("process_cpu_seconds_total")->monotonic); // declared, not guessed
  EXPECT_FALSE(s.find_family("process_resident_memory_bytes")->monotonic);
  auto text = prometheus::render_text(s);
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos) << text;
  // promtool accepts it (it rejects a gauge named *_total, so this checks the declared kind).
  ASSERT_EQ(::access("/usr/bin/promtool", X_OK), 0) << "install the Debian package 'prometheus'";
  char path[] = "/tmp/metron_process_XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << text;
  std::string cmd = std::string{"/usr/bin/promtool check metrics < "} + path + " > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << text;
  ::unlink(path);
}

TEST(process, install_refreshes_at_every_snapshot_without_an_actor_system) {
  registry reg;
  auto id = process::install(reg);
  auto first = reg.snapshot(); // the collector ran first
  ASSERT_NE(first.find_gauge("process_threads"), nullptr);
  EXPECT_GT(first.find_gauge("process_threads")->value(), 0);
  EXPECT_GT(first.find_gauge("process_resident_memory_bytes")->value(), 0);
  reg.gauge("process_threads").set(-1); // a marker the next refresh overwrites
  EXPECT_GT(reg.snapshot().find_gauge("process_threads")->value(), 0);
  EXPECT_EQ(reg.collector_errors(), 0u);
  EXPECT_TRUE(reg.remove_collector(id));
  reg.gauge("process_threads").set(-1);
  EXPECT_EQ(reg.snapshot().find_gauge("process_threads")->value(), -1); // no refresh once removed
}
