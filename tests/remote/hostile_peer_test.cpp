// Hostile peers in both directions, on 127.0.0.1: the frames of issue 11 and a frame
// fuzzer (every operation x payload lengths 0 / short / long x random fields and bodies,
// before and after a real handshake, plus random bytes) sent to a published node
// (test_node, its own process) and, from an impostor server, to connect() and to the
// collector in this process. The attacked process must live, keep serving and count.
#include <sys/socket.h>

#include <mutex>

#include "raw_peer.hpp"
#include "remote_fixture.hpp"

namespace {

using namespace metron_test;

std::uint64_t refusals(const metron::report_ptr& s, const char* reason) {
  auto* c = s ? s->find_counter("metron_remote_refusals_total", {{"reason", reason}}) : nullptr;
  return c ? c->value() : 0;
}

// Connects, sends `b`, half-closes and waits until the node closes (so the node has
// read everything before it sees the end). False if the connection was refused.
bool deliver(std::uint16_t port, const bytes& b) {
  int fd = connect_loopback(port);
  if (fd < 0)
    return false;
  send_all(fd, b);
  shutdown(fd, SHUT_WR);
  closed_by_peer(fd, 10s);
  close(fd);
  return true;
}

struct hostile : remote_fixture {
  // A node's snapshot, fetched over a fresh connection (the node keeps serving).
  metron::report_ptr fetch(std::uint16_t port) {
    auto mon = metron::remote::connect(*sys, "127.0.0.1", port);
    return mon ? get(*mon) : nullptr;
  }

  metron::remote::connect_options quick(std::shared_ptr<metron::remote::remote_stats> stats = nullptr) {
    metron::remote::connect_options o;
    o.timeout = std::chrono::milliseconds{1000};
    o.stats = std::move(stats);
    return o;
  }

  bytes client_handshake() {
    return capture_client_handshake([&](std::uint16_t p) { (void) metron::remote::connect(*sys, "127.0.0.1", p, quick()); });
  }
};

const bytes handshake_without_payload = basp_header(1, 0, 0);          // 0x01 + 31 zero bytes
const bytes server_handshake_without_payload = basp_header(0, 0, 0, 3); // operation data 3

TEST_F(hostile, the_frames_of_issue_11_sent_to_a_published_port_are_refused_and_counted) {
  test_node node{1, 100};
  for (auto& frame : {handshake_without_payload, server_handshake_without_payload}) {
    ASSERT_TRUE(deliver(node.port, frame));
    ASSERT_TRUE(node.proc->alive());
  }
  // (The node's snapshot is taken on its tick: wait for the one that counts both.)
  metron::report_ptr s;
  ASSERT_TRUE(eventually([&] { return refusals(s = fetch(node.port), "bad_frame") == 2u; }, 20s))
    << "bad_frame refusals: " << refusals(s, "bad_frame");
  EXPECT_EQ(s->find_counter("work_items_total", {{"kind", "a"}})->value(), 100u);
}

TEST_F(hostile, a_node_lives_and_serves_through_fuzzed_frames_before_and_after_a_handshake) {
  test_node node{2, 200};
  auto hello = client_handshake();
  auto cases = frame_fuzzer{0x11}.run(hello, [&](const bytes& b) {
    ASSERT_TRUE(deliver(node.port, b)) << "the node stopped listening";
    ASSERT_TRUE(node.proc->alive());
  });
  ASSERT_TRUE(node.proc->alive());
  metron::report_ptr s;
  ASSERT_TRUE(eventually([&] { return refusals(s = fetch(node.port), "bad_frame") > cases / 2; }, 20s))
    << "after " << cases << " fuzz cases: served " << (s != nullptr) << ", bad_frame refusals "
    << refusals(s, "bad_frame");
  EXPECT_EQ(s->find_counter("work_items_total", {{"kind", "a"}})->value(), 200u);
}

// An impostor: answers every connection with the frame the test sets, then waits for
// the client to close.
struct impostor {
  std::mutex mtx;
  bytes reply;
  hostile_server srv{[this](int fd) {
    bytes b;
    {
      std::lock_guard<std::mutex> guard{mtx};
      b = reply;
    }
    send_all(fd, b);
    shutdown(fd, SHUT_WR);
    closed_by_peer(fd, 5s);
  }};

  void set(bytes b) {
    std::lock_guard<std::mutex> guard{mtx};
    reply = std::move(b);
  }
};

TEST_F(hostile, connect_refuses_an_impostor_that_answers_with_the_frames_of_issue_11) {
  impostor bad;
  auto stats = std::make_shared<metron::remote::remote_stats>();
  for (auto& frame : {handshake_without_payload, server_handshake_without_payload}) {
    bad.set(frame);
    auto mon = metron::remote::connect(*sys, "127.0.0.1", bad.srv.port(), quick(stats));
    EXPECT_FALSE(mon);
  }
  EXPECT_EQ(stats->refused(metron::remote::refusal::bad_frame), 2u);
  test_node real{3, 300};
  auto s = fetch(real.port);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->find_counter("work_items_total", {{"kind", "a"}})->value(), 300u);
}

TEST_F(hostile, connect_lives_through_an_impostor_sending_fuzzed_frames_before_and_after_its_handshake) {
  bytes hello;
  {
    test_node donor{4, 1}; // whose handshake the impostor replays (then gone)
    hello = capture_server_handshake(donor.port);
  }
  impostor bad;
  auto stats = std::make_shared<metron::remote::remote_stats>();
  auto cases = frame_fuzzer{0x22}.run(hello, [&](const bytes& b) {
    bad.set(b);
    (void) metron::remote::connect(*sys, "127.0.0.1", bad.srv.port(), quick(stats));
  });
  EXPECT_GT(stats->refused(metron::remote::refusal::bad_frame), cases / 2);
  // Still here, and still a working client.
  test_node real{5, 500};
  auto s = fetch(real.port);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->find_counter("work_items_total", {{"kind", "a"}})->value(), 500u);
}

TEST_F(hostile, the_collector_serves_its_real_nodes_while_an_impostor_answers_with_a_crashing_frame) {
  impostor bad;
  bad.set(server_handshake_without_payload);
  test_node real{6, 600};
  metron::remote::collector_config cc;
  cc.nodes = {{"127.0.0.1", bad.srv.port()}, {"127.0.0.1", real.port}};
  cc.monitor.interval = std::chrono::milliseconds{50};
  cc.connect_timeout = std::chrono::milliseconds{1000};
  cc.reconnect_min = std::chrono::milliseconds{20};
  cc.reconnect_max = std::chrono::milliseconds{100};
  auto col = metron::remote::spawn_collector(*sys, cc);
  metron::report_ptr s;
  ASSERT_TRUE(eventually([&] {
    s = get(col);
    auto* c = s ? s->find_counter("work_items_total", {{"kind", "a"}}) : nullptr;
    return c && c->value() == 600u && refusals(s, "bad_frame") >= 3;
  }, 30s)) << "bad_frame refusals: " << refusals(s, "bad_frame");
  auto nodes = this->nodes(col);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_FALSE(nodes[0].up);
  EXPECT_TRUE(nodes[1].up);
  caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
}

} // namespace
