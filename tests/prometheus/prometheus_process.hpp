// A real Prometheus server (Debian package `prometheus`, 2.42) for the integration
// tests: started on a free 127.0.0.1 port with a config the test writes, asked through
// its HTTP API, stopped by PID (SIGTERM, then SIGKILL) on failure too; its temp config
// and data dir are removed.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "raw_http.hpp"

extern char** environ;

namespace metron::test {

inline constexpr const char* prometheus_bin = "/usr/bin/prometheus";

/// A port nobody listened on a moment ago.
inline std::uint16_t free_port() {
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

/// A scrape_configs entry: job `name` scraping 127.0.0.1:port every second, plus
/// `extra` lines (already indented by four spaces: scheme, basic_auth, tls_config...).
inline std::string scrape_job(const std::string& name, std::uint16_t port, const std::string& extra = {}) {
  return "  - job_name: " + name + "\n    scrape_interval: 1s\n    scrape_timeout: 1s\n" + extra +
         "    static_configs:\n      - targets: ['127.0.0.1:" + std::to_string(port) + "']\n";
}

// A Prometheus server in a temp dir; the destructor stops it and cleans up.
class prometheus_process {
public:
  /// Scrapes one plain-HTTP target, job "metron".
  explicit prometheus_process(std::uint16_t target_port) : prometheus_process(scrape_job("metron", target_port)) {}

  /// Scrapes the jobs given (scrape_job entries, concatenated); `flags` are extra
  /// command-line flags (--enable-feature=exemplar-storage,
  /// --web.enable-remote-write-receiver...). An empty `jobs` scrapes nothing. `port`:
  /// where to listen (0: a free port), for a client that must know it beforehand.
  explicit prometheus_process(const std::string& jobs, const std::vector<std::string>& flags = {},
                              std::uint16_t port = 0) {
    char tmpl[] = "/tmp/metron_prometheus_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    port_ = port != 0 ? port : free_port();
    std::ofstream(dir_ / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << (jobs.empty() ? std::string{} : "scrape_configs:\n" + jobs);
    std::vector<std::string> args{prometheus_bin,
                                  "--config.file=" + (dir_ / "prometheus.yml").string(),
                                  "--storage.tsdb.path=" + (dir_ / "data").string(),
                                  "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                  "--log.level=warn"};
    args.insert(args.end(), flags.begin(), flags.end());
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
      if (!reaped_within(std::chrono::seconds{10})) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  prometheus_process(const prometheus_process&) = delete;
  prometheus_process& operator=(const prometheus_process&) = delete;

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
      std::this_thread::sleep_for(std::chrono::milliseconds{20}); // a child exiting has no event to await here
    }
    return false;
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

inline std::string url_encode(const std::string& s) {
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

/// The value of the first sample of an instant query, or NaN (with the reply in why).
inline double query(std::uint16_t port, const std::string& promql, std::string* why = nullptr) {
  auto r = get(port, "/api/v1/query?query=" + url_encode(promql));
  if (why)
    *why = std::to_string(r.status) + " " + r.body;
  auto v = r.body.find("\"value\":[");
  if (r.status != 200 || v == std::string::npos)
    return std::nan("");
  auto q = r.body.find('"', r.body.find(',', v) + 1);
  auto e = r.body.find('"', q + 1);
  return std::stod(r.body.substr(q + 1, e - q - 1));
}

/// Polls until query(promql) is a number for which pred holds; bounded. (Prometheus
/// offers nothing to await: it is asked again every 200 ms.)
template <class Pred>
double query_until(std::uint16_t port, const std::string& promql, Pred pred, std::string& why,
                   std::chrono::seconds limit = std::chrono::seconds{60}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  double v = std::nan("");
  while (std::chrono::steady_clock::now() < deadline) {
    v = query(port, promql, &why);
    if (!std::isnan(v) && pred(v))
      return v;
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  return v;
}

} // namespace metron::test
