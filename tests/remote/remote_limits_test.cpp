// The per-peer bounds of a published node (test_node, its own process), each against
// the attack of issue 11 on 127.0.0.1: idle connections (handshake and idle timeouts),
// frames announced and left unfinished (partial-frame budget), one peer subscribing
// thousands of actors (per-peer subscription limit), a peer changing the interval
// (remote control refused). Every refusal is counted in the node's metrics.
#include <sys/socket.h>

#include <cstdio>

#include "raw_peer.hpp"
#include "remote_fixture.hpp"

namespace {

using namespace metron_test;

// RSS bounds are for the program as built; ThreadSanitizer's shadow and its
// allocator's quarantine make every byte the node touches cost several.
#ifdef __SANITIZE_THREAD__
constexpr long rss_scale = 4;
#else
constexpr long rss_scale = 1;
#endif

std::uint64_t refusals(const metron::report_ptr& s, const char* reason) {
  auto* c = s ? s->find_counter("metron_remote_refusals_total", {{"reason", reason}}) : nullptr;
  return c ? c->value() : 0;
}

struct limits : remote_fixture {
  metron::remote::connect_options quick() {
    metron::remote::connect_options o;
    o.timeout = std::chrono::milliseconds{1000};
    return o;
  }

  // The node's snapshot over a fresh connection, or nullptr if it cannot be had.
  metron::report_ptr fetch(std::uint16_t port) {
    auto mon = metron::remote::connect(*sys, "127.0.0.1", port, quick());
    return mon ? get(*mon) : nullptr;
  }

  bytes client_handshake() {
    return capture_client_handshake(
      [&](std::uint16_t p) { (void) metron::remote::connect(*sys, "127.0.0.1", p, quick()); });
  }

  // Opens n connections and sends `b` on each; the sockets stay open. With `hello`,
  // each connection first sends it as a handshake of a node of its own.
  std::vector<int> open_and_send(std::uint16_t port, std::size_t n, const bytes& b, const bytes& hello = {}) {
    std::vector<int> fds;
    for (std::size_t i = 0; i < n; ++i) {
      int fd = connect_loopback(port);
      EXPECT_GE(fd, 0);
      if (fd < 0)
        break;
      send_all(fd, (hello.empty() ? bytes{} : as_other_node(hello, 1000 + port + i)) + b);
      fds.push_back(fd);
    }
    return fds;
  }
};

TEST_F(limits, idle_connections_are_closed_after_the_handshake_timeout_and_peers_get_in_again) {
  test_node node{1, 100, 0, 50, 0, {"--handshake-timeout-ms", "2000"}};
  // 256 connections (max_connections) that never say anything, and one more.
  auto fds = open_and_send(node.port, 257, {});
  ASSERT_EQ(fds.size(), 257u);
  for (int fd : fds)
    EXPECT_TRUE(closed_by_peer(fd, 20s)) << "an idle connection was kept";
  for (int fd : fds)
    close(fd);
  metron::report_ptr s;
  ASSERT_TRUE(eventually([&] { return refusals(s = fetch(node.port), "handshake_timeout") == 256u; }, 20s))
    << "served: " << (s != nullptr) << ", handshake_timeout refusals: " << refusals(s, "handshake_timeout");
  EXPECT_EQ(s->find_counter("work_items_total", {{"kind", "a"}})->value(), 100u);
  EXPECT_EQ(refusals(s, "connection_limit"), 1u);
}

TEST_F(limits, a_peer_silent_after_its_handshake_is_closed_and_a_subscriber_is_not) {
  test_node node{2, 200, 0, 50, 0, {"--idle-timeout-ms", "500"}};
  auto mon = metron::remote::connect(*sys, "127.0.0.1", node.port, quick());
  ASSERT_TRUE(mon);
  auto log = std::make_shared<received_log>();
  auto sub = spawn_subscriber(*sys, log);
  caf::anon_send(*mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
  auto silent = open_and_send(node.port, 1, {}, client_handshake());
  ASSERT_EQ(silent.size(), 1u);
  EXPECT_TRUE(closed_by_peer(silent[0], 20s));
  close(silent[0]);
  // The subscriber acks every snapshot (traffic): it kept its connection meanwhile.
  auto before = log->size();
  ASSERT_TRUE(eventually([&] { return log->size() >= before + 3; }, 20s));
  metron::report_ptr s;
  EXPECT_TRUE(eventually([&] { return refusals(s = get(*mon), "idle_timeout") == 1u; }, 20s));
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

TEST_F(limits, frames_announced_and_left_unfinished_cost_what_arrived_within_the_budget) {
  test_node node{3, 300, 0, 50, 0, {"--handshake-timeout-ms", "30000", "--max-connections", "512"}};
  auto hello = client_handshake();
  auto before = rss_kib(node.proc->pid());
  // Issue 11: 256 connections each announcing a 1 MiB frame, then silent.
  auto announce = basp_header(2, 0, 1u << 20, 1, 1, 7);
  auto idle = open_and_send(node.port, 256, announce, hello);
  ASSERT_EQ(idle.size(), 256u);
  ASSERT_NE(fetch(node.port), nullptr); // processed, and serving
  auto announced = rss_kib(node.proc->pid());
  // Worse: 64 connections sending all but the last byte of their 1 MiB frame.
  auto filled = announce + bytes((1u << 20) - 1, 'x');
  auto full = open_and_send(node.port, 64, filled, hello);
  metron::report_ptr s;
  ASSERT_TRUE(eventually([&] { return refusals(s = fetch(node.port), "memory_budget") >= 64u - 32u; }, 20s))
    << "served: " << (s != nullptr) << ", memory_budget refusals: " << refusals(s, "memory_budget") << ", bad_frame: " << refusals(s, "bad_frame") << ", RSS " << rss_kib(node.proc->pid());
  auto after = rss_kib(node.proc->pid());
  std::printf("node RSS: %ld KiB at rest, %ld KiB with 256 x 1 MiB announced, %ld KiB with 64 x 1 MiB "
              "nearly sent (memory_budget refusals: %llu)\n",
              before, announced, after, static_cast<unsigned long long>(refusals(s, "memory_budget")));
  EXPECT_LT(announced - before, rss_scale * 16 * 1024) << "announced frames cost memory";
  // The budget is 16 MiB of partial frames (2x for vector growth at most).
  EXPECT_LT(after - before, rss_scale * 64 * 1024) << "partial frames grew beyond the budget";
  EXPECT_EQ(s->find_counter("work_items_total", {{"kind", "a"}})->value(), 300u);
  for (int fd : idle)
    close(fd);
  for (int fd : full)
    close(fd);
}

TEST_F(limits, one_peer_subscribing_thousands_of_actors_gets_its_per_peer_share_only) {
  test_node node{4, 400, 0, 50};
  auto before = rss_kib(node.proc->pid());
  child_process watcher{{METRON_TEST_NODE, "--watch", std::to_string(node.port), "--subscribers", "8000"}};
  metron::report_ptr s;
  ASSERT_TRUE(eventually([&] {
    s = fetch(node.port);
    return refusals(s, "subscription_limit") == 8000u - 16u;
  }, 30s)) << "refused: " << refusals(s, "subscription_limit");
  ASSERT_TRUE(eventually([&] {
    s = fetch(node.port);
    auto* g = s ? s->find_gauge("metron_subscribers") : nullptr;
    return g && g->value() == 16.0;
  }, 20s));
  // The peer stops reading (stopped process); the node keeps ticking.
  watcher.signal(SIGSTOP);
  auto ticks = [&] {
    auto* c = s ? s->find_counter("metron_ticks_total") : nullptr;
    return c ? c->value() : 0;
  };
  auto t0 = ticks();
  ASSERT_TRUE(eventually([&] { return (s = fetch(node.port)) && ticks() >= t0 + 40; }, 30s));
  auto after = rss_kib(node.proc->pid());
  std::printf("node RSS: %ld KiB before, %ld KiB with 8000 subscriptions asked by one stopped peer\n", before,
              after);
  EXPECT_LT(after - before, rss_scale * 64 * 1024);
  watcher.signal(SIGCONT);
}

TEST_F(limits, a_subscriber_that_stops_reading_is_disconnected_when_its_backlog_passes_the_bound) {
  // ~0.35 MB snapshots (2,000 counters) to 16 subscribers of a peer that stops
  // reading: up to 16 x credit 16 x 0.35 MB = 90 MB unread, past the 1 MiB bound once
  // the loopback socket buffers (about 10 MB) are full, even if the peer had read (not
  // yet acked) several snapshots per subscriber when it stopped. While it reads, every
  // tick's burst (16 x 0.35 MB) is above the bound too.
  test_node node{6, 10, 0, 300, 0, {"--metrics", "2000", "--max-backlog", "1048576", "--credit", "16"}};
  child_process watcher{{METRON_TEST_NODE, "--watch", std::to_string(node.port), "--subscribers", "16"}};
  // While it reads, it keeps its connection: three snapshots, no refusal.
  for (int i = 0; i < 3; ++i) {
    auto line = watcher.read_line(30s);
    ASSERT_TRUE(line && line->rfind("TOTAL ", 0) == 0) << line.value_or("<nothing>");
  }
  ASSERT_EQ(refusals(fetch(node.port), "backlog"), 0u);
  watcher.signal(SIGSTOP);
  metron::report_ptr s;
  EXPECT_TRUE(eventually([&] { return refusals(s = fetch(node.port), "backlog") == 1u; }, 40s))
    << "served: " << (s != nullptr) << ", backlog refusals: " << refusals(s, "backlog");
  watcher.signal(SIGCONT);
}

TEST_F(limits, a_remote_interval_change_is_refused_and_counted) {
  test_node node{5, 500, 0, 50};
  auto mon = metron::remote::connect(*sys, "127.0.0.1", node.port, quick());
  ASSERT_TRUE(mon);
  caf::anon_send(*mon, metron::interval_atom::value, caf::timespan{std::chrono::hours{1}});
  metron::report_ptr s;
  ASSERT_TRUE(eventually([&] { return refusals(s = get(*mon), "control") == 1u; }, 20s));
  // Still ticking at 50 ms: snapshots keep coming.
  auto seq = s->sequence();
  EXPECT_TRUE(eventually([&] { return (s = get(*mon)) && s->sequence() >= seq + 5; }, 20s));
}

} // namespace
