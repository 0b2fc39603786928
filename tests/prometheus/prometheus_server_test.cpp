// The real thing: a Prometheus server (Debian package `prometheus`) on 127.0.0.1
// scrapes a metron exporter every second; the test then asks Prometheus's HTTP API
// and checks that a counter equals what was recorded, that the exported summary's
// p99 is metron's p99 exactly, and that histogram_quantile(0.99, ...) over the
// exported buckets agrees with metron's p99 within one bucket of the ladder.
// Every process the test starts is stopped by PID (SIGTERM, then SIGKILL), on
// failure too; its temp config and data dir are removed.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "metron/actors.hpp"
#include "metron/prometheus.hpp"
#include "raw_http.hpp"

extern char** environ;

using namespace metron;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace prom = metron::prometheus;
namespace t = metron::test;

namespace {

constexpr const char* prometheus_bin = "/usr/bin/prometheus";

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A Prometheus server in a temp dir; the destructor stops it and cleans up.
class prometheus_process {
public:
  prometheus_process(std::uint16_t target_port) {
    char tmpl[] = "/tmp/metron_prometheus_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    port_ = free_port();
    std::ofstream(dir_ / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
         "scrape_configs:\n  - job_name: metron\n    scrape_interval: 1s\n    scrape_timeout: 1s\n"
         "    static_configs:\n      - targets: ['127.0.0.1:" << target_port << "']\n";
    std::vector<std::string> args{prometheus_bin,
                                  "--config.file=" + (dir_ / "prometheus.yml").string(),
                                  "--storage.tsdb.path=" + (dir_ / "data").string(),
                                  "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                  "--log.level=warn"};
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    auto log = (dir_ / "prometheus.log").string();
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawn(&pid_, prometheus_bin, &fa, nullptr, argv.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }

  ~prometheus_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      if (!reaped_within(10s)) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::uint16_t port() const { return port_; }
  std::string log() const {
    std::ifstream in(dir_ / "prometheus.log");
    return {std::istreambuf_iterator<char>(in), {}};
  }

private:
  bool reaped_within(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  fs::path dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-')
      out += static_cast<char>(c);
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// The value of the first sample of an instant query, or NaN (with the reply in why).
double query(std::uint16_t port, const std::string& promql, std::string* why = nullptr) {
  auto r = t::get(port, "/api/v1/query?query=" + url_encode(promql));
  if (why)
    *why = std::to_string(r.status) + " " + r.body;
  auto v = r.body.find("\"value\":[");
  if (r.status != 200 || v == std::string::npos)
    return std::nan("");
  auto q = r.body.find('"', r.body.find(',', v) + 1);
  auto e = r.body.find('"', q + 1);
  return std::stod(r.body.substr(q + 1, e - q - 1));
}

// Polls until query(promql) is a number (and pred holds); bounded.
template <class Pred>
double query_until(std::uint16_t port, const std::string& promql, Pred pred, std::string& why,
                   std::chrono::seconds limit = 60s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  double v = std::nan("");
  while (std::chrono::steady_clock::now() < deadline) {
    v = query(port, promql, &why);
    if (!std::isnan(v) && pred(v))
      return v;
    std::this_thread::sleep_for(200ms);
  }
  return v;
}

} // namespace

TEST(prometheus_server, scrapes_metron_and_agrees_on_counters_and_p99) {
  ASSERT_EQ(::access(prometheus_bin, X_OK), 0)
    << prometheus_bin << " missing: install the Debian package 'prometheus' (scripts/install-deps.sh does)";
  registry reg;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};

  // Static data, recorded before the first snapshot: every scrape sees the same values.
  reg.counter("integration_requests", {{"method", "GET"}}, "Requests.").add(1234);
  auto& h = reg.histogram("integration_latency_seconds", {}, "Latency.");
  std::mt19937_64 rng{7};
  std::lognormal_distribution<double> dist{std::log(0.005), 1.0};
  for (int i = 0; i < 20000; ++i)
    h.record(dist(rng));

  monitor_config mcfg;
  mcfg.interval = 100ms;
  auto mon = spawn_monitor(sys, reg, mcfg);
  prom::exporter ex{sys, mon, {.address = "127.0.0.1", .port = 0}};
  ASSERT_NE(ex.latest(), nullptr);
  auto* hs = ex.latest()->find_histogram_sample("integration_latency_seconds");
  ASSERT_NE(hs, nullptr);
  double metron_p99 = hs->data.quantile(0.99);
  double summary_p99 = std::nan("");
  for (auto& q : hs->quantiles)
    if (q.q == 0.99)
      summary_p99 = q.value;
  ASSERT_FALSE(std::isnan(summary_p99)) << "the monitor computes p99 by default";

  prometheus_process server{ex.port()};
  ASSERT_TRUE(server.running()) << server.log();
  std::string why;

  // Scraped and up.
  double up = query_until(server.port(), "up{job=\"metron\"}", [](double v) { return v == 1; }, why);
  ASSERT_EQ(up, 1) << "Prometheus never scraped the exporter: " << why << "\nlog:\n" << server.log();

  // The counter, exactly.
  double requests = query_until(server.port(), "integration_requests_total{method=\"GET\"}",
                                [](double) { return true; }, why);
  EXPECT_EQ(requests, 1234) << why;

  // The summary's p99 is metron's, exactly (the text format round-trips doubles).
  double p99_summary = query_until(server.port(), "integration_latency_seconds_quantiles{quantile=\"0.99\"}",
                                   [](double) { return true; }, why);
  EXPECT_EQ(p99_summary, summary_p99) << why;

  // histogram_quantile over the exported buckets (raw, the data is static; and over a
  // rate of a range once two scrapes exist it would be NaN here, as nothing changes).
  double p99_buckets = query_until(server.port(), "histogram_quantile(0.99, integration_latency_seconds_bucket)",
                                   [](double) { return true; }, why);
  ASSERT_FALSE(std::isnan(p99_buckets)) << why;
  // Both must lie in the ladder bucket that holds rank ceil(0.99 n), whose width is
  // the resolution of the exported histogram.
  auto ladder = prom::default_buckets();
  auto n = hs->data.count();
  auto rank = static_cast<std::uint64_t>(std::ceil(0.99 * static_cast<double>(n)));
  std::size_t i = 0;
  while (i < ladder.size() && hs->data.count_at_or_below(ladder[i]) < rank)
    ++i;
  ASSERT_LT(i, ladder.size()) << "p99 above the ladder";
  double lo = i == 0 ? 0.0 : ladder[i - 1];
  double hi = ladder[i];
  EXPECT_GE(p99_buckets, lo);
  EXPECT_LE(p99_buckets, hi);
  // metron's p99 is within its 0.78% bucket error of that ladder bucket.
  EXPECT_GE(metron_p99, lo * (1 - bucket_layout::relative_error));
  EXPECT_LE(metron_p99, hi * (1 + bucket_layout::relative_error));
  EXPECT_LE(std::abs(p99_buckets - metron_p99), (hi - lo) * (1 + bucket_layout::relative_error))
    << "Prometheus p99 " << p99_buckets << ", metron p99 " << metron_p99 << ", ladder bucket [" << lo
    << ", " << hi << "]";
  std::printf("prometheus: requests=%g summary_p99=%g histogram_quantile_p99=%g metron_p99=%g bucket=[%g, %g]\n",
              requests, p99_summary, p99_buckets, metron_p99, lo, hi);
}
