// Child processes for the multi-process tests: started with fork/exec, stdout read
// through a pipe with deadlines, and always stopped by PID (SIGKILL + waitpid) when
// the guard goes out of scope — also when a test fails. PR_SET_PDEATHSIG makes a
// child die with the test process even if the test itself is killed.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace metron_test {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// Polls `pred` until it is true or `timeout` passes; returns its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout, std::chrono::milliseconds step = 20ms) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(step);
  }
}

class child_process {
public:
  explicit child_process(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
        _exit(127);
      dup2(fds[1], STDOUT_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }

  ~child_process() {
    stop();
    if (out_ >= 0)
      close(out_);
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  /// The next line of the child's stdout, or nullopt at EOF or after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        auto line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
      if (left.count() <= 0)
        return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0)
        continue;
      char tmp[256];
      auto n = read(out_, tmp, sizeof tmp);
      if (n <= 0)
        return std::nullopt;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

  /// Sends a signal (e.g. SIGSTOP / SIGCONT) without reaping.
  void signal(int sig) {
    if (pid_ > 0)
      ::kill(pid_, sig);
  }

  /// True while the child has not exited.
  bool alive() {
    if (pid_ <= 0)
      return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  /// The exit status once the child has exited by itself within `timeout` (then it
  /// is reaped), nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    std::optional<int> code;
    eventually([&] {
      int status = 0;
      if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      return code.has_value();
    }, timeout);
    return code;
  }

  /// SIGKILL and reap (idempotent).
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buf_;
};

/// Starts test_node and reads its port; throws if it does not print one in time.
struct test_node {
  std::unique_ptr<child_process> proc;
  std::uint16_t port = 0;

  test_node(std::uint64_t seed, std::size_t count, std::uint16_t want_port = 0, long interval_ms = 50,
            long linger_ms = 0, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
      METRON_TEST_NODE, "--seed", std::to_string(seed), "--count", std::to_string(count), "--port",
      std::to_string(want_port), "--interval-ms", std::to_string(interval_ms), "--linger-ms",
      std::to_string(linger_ms)};
    args.insert(args.end(), extra.begin(), extra.end());
    proc = std::make_unique<child_process>(std::move(args));
    auto line = proc->read_line(30s);
    if (!line || line->rfind("PORT ", 0) != 0)
      throw std::runtime_error("test_node did not print its port: " + line.value_or("<eof/timeout>"));
    port = static_cast<std::uint16_t>(std::stoul(line->substr(5)));
  }
};

/// A loopback port nobody listens on: bound to an ephemeral port, then closed.
inline std::uint16_t unused_loopback_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("unused_loopback_port: bind failed");
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

} // namespace metron_test
