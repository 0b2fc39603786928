// A monitor published by another process (test_node), used from this one exactly
// like a local monitor: get, subscribe, credit-based flow control across the wire;
// and a published port survives random bytes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <random>

#include "remote_fixture.hpp"

namespace {

using namespace metron_test;

struct remote_monitor : remote_fixture {};

TEST_F(remote_monitor, answers_get_and_delivers_subscribed_snapshots_like_a_local_one) {
  test_node node{7, 1234};
  auto mon = metron::remote::connect(*sys, "127.0.0.1", node.port);
  ASSERT_TRUE(mon) << sys->render(mon.error());
  auto s = get(*mon);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->find_counter("work_items_total", {{"kind", "a"}})->value(), 1234u);
  EXPECT_EQ(s->find_histogram("work_latency_seconds")->count(), 1234u);
  EXPECT_EQ(s->find_gauge("work_queue_depth")->value(), 7.0);
  EXPECT_FALSE(s->find_histogram_sample("work_latency_seconds")->quantiles.empty());

  auto log = std::make_shared<received_log>();
  auto sub = spawn_subscriber(*sys, log);
  caf::anon_send(*mon, metron::subscribe_atom::value, sub);
  ASSERT_TRUE(eventually([&] { return log->size() >= 3; }, 20s));
  auto last = log->last();
  EXPECT_EQ(last->find_counter("work_items_total", {{"kind", "a"}})->value(), 1234u);
  // Prefix filters work remotely too.
  auto flog = std::make_shared<received_log>();
  auto fsub = spawn_subscriber(*sys, flog);
  caf::anon_send(*mon, metron::subscribe_atom::value, fsub, std::string{"work_queue"});
  ASSERT_TRUE(eventually([&] { return flog->size() >= 1; }, 20s));
  EXPECT_EQ(flog->last()->series(), 1u);
  caf::anon_send(*mon, metron::unsubscribe_atom::value, sub);
  caf::anon_send(*mon, metron::unsubscribe_atom::value, fsub);
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(fsub, caf::exit_reason::user_shutdown);
}

TEST_F(remote_monitor, credit_applies_across_the_wire_and_replies_are_the_acks) {
  test_node node{3, 10, 0, 20};
  auto mon = metron::remote::connect(*sys, "127.0.0.1", node.port);
  ASSERT_TRUE(mon) << sys->render(mon.error());
  // A subscriber that holds every snapshot's response promise: nothing is acked.
  struct held_state {
    std::vector<caf::response_promise> promises;
  };
  auto log = std::make_shared<received_log>();
  auto slow = sys->spawn([log](caf::stateful_actor<held_state>* self) -> caf::behavior {
    return {
      [=](metron::snapshot_ptr s) -> caf::result<void> {
        {
          std::lock_guard<std::mutex> guard{log->mtx};
          log->snaps.push_back(std::move(s));
        }
        self->state.promises.push_back(self->make_response_promise());
        return caf::delegated<void>{};
      },
      [=](metron::get_atom) { // test hook: acknowledge everything held
        for (auto& rp : self->state.promises)
          rp.deliver(caf::unit);
        self->state.promises.clear();
      },
    };
  });
  auto dropped = [&] {
    auto s = get(*mon);
    auto* c = s ? s->find_counter("metron_dropped_snapshots_total") : nullptr;
    return c ? c->value() : 0;
  };
  auto before = dropped();
  caf::anon_send(*mon, metron::subscribe_atom::value, slow);
  const std::size_t credit = metron::monitor_config{}.credit;
  ASSERT_TRUE(eventually([&] { return log->size() >= credit; }, 20s));
  // The node keeps ticking (20 ms) and skips the subscriber: drops grow, deliveries don't.
  ASSERT_TRUE(eventually([&] { return dropped() >= before + 10; }, 20s));
  EXPECT_EQ(log->size(), credit);
  // Acknowledge (the replies travel back over the wire): deliveries resume.
  caf::anon_send(slow, metron::get_atom::value);
  EXPECT_TRUE(eventually([&] { return log->size() > credit; }, 20s));
  caf::anon_send(*mon, metron::unsubscribe_atom::value, slow);
  caf::anon_send_exit(slow, caf::exit_reason::user_shutdown);
}

TEST_F(remote_monitor, connecting_to_a_port_without_a_node_fails_with_an_error) {
  auto mon = metron::remote::connect(*sys, "127.0.0.1", metron_test::unused_loopback_port());
  EXPECT_FALSE(mon);
}

// Connects, writes `bytes`, closes. Returns false if the connection was refused.
bool send_raw(std::uint16_t port, const std::vector<char>& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return false;
  }
  std::size_t off = 0;
  while (off < bytes.size()) {
    auto n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      break; // the node closed the connection: fine
    off += static_cast<std::size_t>(n);
  }
  close(fd);
  return true;
}

// Resident memory of a process, in KiB (VmRSS).
long rss_kib(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f)
    return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  std::fclose(f);
  return kib;
}

// True once the peer has closed `fd` (EOF or reset) within `timeout`.
bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
  return eventually([&] {
    char tmp[4096];
    auto n = ::recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }, timeout, 10ms);
}

TEST_F(remote_monitor, headers_announcing_huge_payloads_are_refused_before_the_node_allocates) {
  test_node node{6, 100};
  auto before = rss_kib(node.proc->pid());
  ASSERT_GT(before, 0);
  // BASP headers (32 bytes, network byte order): client_handshake and server_handshake
  // announcing ~4 GiB of payload. Unguarded, CAF 0.17 allocates and zeroes that much
  // for each connection before reading a payload byte.
  std::vector<int> fds;
  for (int i = 0; i < 8; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(node.port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    unsigned char hdr[32] = {};
    hdr[0] = static_cast<unsigned char>(i % 2);          // server / client handshake
    hdr[4] = 0xff, hdr[5] = 0xff, hdr[6] = 0xff, hdr[7] = 0xf0; // payload_len
    if (i % 2 == 0)
      hdr[15] = 1; // server_handshake needs operation_data != 0 to be valid
    ASSERT_EQ(::send(fd, hdr, sizeof hdr, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof hdr));
    fds.push_back(fd);
  }
  for (int fd : fds)
    EXPECT_TRUE(closed_by_peer(fd, 10s)) << "the node kept a connection that announced 4 GiB";
  auto after = rss_kib(node.proc->pid());
  for (int fd : fds)
    close(fd);
  EXPECT_LT(after - before, 256 * 1024) << "RSS grew from " << before << " to " << after << " KiB";
  ASSERT_TRUE(node.proc->alive());
  auto mon = metron::remote::connect(*sys, "127.0.0.1", node.port);
  ASSERT_TRUE(mon) << sys->render(mon.error());
  auto s = get(*mon);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->find_counter("work_items_total", {{"kind", "a"}})->value(), 100u);
}

TEST_F(remote_monitor, random_bytes_sent_to_a_published_port_leave_the_node_serving) {
  test_node node{5, 500};
  std::mt19937_64 rng{20240601};
  for (int round = 0; round < 40; ++round) {
    std::size_t n = std::uniform_int_distribution<std::size_t>{1, round % 4 == 0 ? std::size_t{1} << 16 : 256}(rng);
    std::vector<char> bytes(n);
    for (auto& b : bytes)
      b = static_cast<char>(rng());
    if (round % 5 == 1 && n >= 8) {
      // A BASP-looking header: a valid operation, zero padding/flags and a 64 MiB
      // payload length (big-endian), then random bytes. (CAF 0.17 sizes its read
      // buffer from that field before it sees any payload; see the module's notes.)
      bytes[0] = static_cast<char>(round % 7);
      bytes[1] = bytes[2] = bytes[3] = 0;
      bytes[4] = 0x04, bytes[5] = bytes[6] = bytes[7] = 0;
    }
    ASSERT_TRUE(send_raw(node.port, bytes)) << "round " << round << ": the node stopped listening";
    ASSERT_TRUE(node.proc->alive()) << "round " << round << ": the node died";
  }
  ASSERT_TRUE(node.proc->alive());
  auto mon = metron::remote::connect(*sys, "127.0.0.1", node.port);
  ASSERT_TRUE(mon) << sys->render(mon.error());
  auto log = std::make_shared<received_log>();
  auto sub = spawn_subscriber(*sys, log);
  caf::anon_send(*mon, metron::subscribe_atom::value, sub);
  ASSERT_TRUE(eventually([&] { return log->size() >= 2; }, 20s));
  EXPECT_EQ(log->last()->find_counter("work_items_total", {{"kind", "a"}})->value(), 500u);
  EXPECT_TRUE(node.proc->alive());
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

} // namespace

namespace {

TEST_F(remote_monitor, a_node_shuts_down_cleanly_after_its_subscribers_left) {
  // Each node serves 2 s; a subscriber process (test_node --watch) subscribes through
  // the published port and is killed before the node exits its monitor and returns
  // from main. The node's shutdown must complete (the guard closes its port).
  std::vector<std::unique_ptr<test_node>> nodes;
  for (std::uint64_t i = 0; i < 4; ++i)
    nodes.push_back(std::make_unique<test_node>(i + 1, 10, 0, 20, 2000));
  {
    std::vector<std::unique_ptr<child_process>> watchers;
    for (auto& n : nodes)
      watchers.push_back(std::make_unique<child_process>(
        std::vector<std::string>{METRON_TEST_NODE, "--watch", std::to_string(n->port)}));
    for (auto& w : watchers) {
      auto line = w->read_line(20s);
      ASSERT_TRUE(line && line->rfind("TOTAL ", 0) == 0) << line.value_or("<nothing>");
    }
  } // watchers killed here, their connections drop
  for (auto& n : nodes) {
    auto code = n->proc->wait_exit(30s);
    ASSERT_TRUE(code) << "a node did not finish its shutdown";
    EXPECT_EQ(*code, 0);
  }
}

} // namespace
