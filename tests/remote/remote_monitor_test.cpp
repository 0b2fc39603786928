// A monitor published by another process (test_node), used from this one exactly
// like a local monitor: get, subscribe, credit-based flow control across the wire;
// and a published port survives random bytes.
#include <random>

#include "raw_peer.hpp"
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
  EXPECT_FALSE(s->find_histogram_figures("work_latency_seconds")->quantiles.empty());

  auto log = std::make_shared<received_log>();
  auto sub = spawn_subscriber(*sys, log);
  caf::anon_send(*mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
  ASSERT_TRUE(eventually([&] { return log->size() >= 3; }, 20s));
  auto last = log->last();
  EXPECT_EQ(last->find_counter("work_items_total", {{"kind", "a"}})->value(), 1234u);
  // Prefix filters work remotely too.
  auto flog = std::make_shared<received_log>();
  auto fsub = spawn_subscriber(*sys, flog);
  caf::anon_send(*mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(fsub), std::string{"work_queue"});
  ASSERT_TRUE(eventually([&] { return flog->size() >= 1; }, 20s));
  EXPECT_EQ(flog->last()->series(), 1u);
  caf::anon_send(*mon, metron::unsubscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
  caf::anon_send(*mon, metron::unsubscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(fsub));
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
      [=](metron::report_ptr s) -> caf::result<void> {
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
  caf::anon_send(*mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(slow));
  const std::size_t credit = metron::monitor_config{}.credit;
  ASSERT_TRUE(eventually([&] { return log->size() >= credit; }, 20s));
  // The node keeps ticking (20 ms) and skips the subscriber: drops grow, deliveries don't.
  ASSERT_TRUE(eventually([&] { return dropped() >= before + 10; }, 20s));
  EXPECT_EQ(log->size(), credit);
  // Acknowledge (the replies travel back over the wire): deliveries resume.
  caf::anon_send(slow, metron::get_atom::value);
  EXPECT_TRUE(eventually([&] { return log->size() > credit; }, 20s));
  caf::anon_send(*mon, metron::unsubscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(slow));
  caf::anon_send_exit(slow, caf::exit_reason::user_shutdown);
}

TEST_F(remote_monitor, connecting_to_a_port_without_a_node_fails_with_an_error) {
  auto mon = metron::remote::connect(*sys, "127.0.0.1", metron_test::unused_loopback_port());
  EXPECT_FALSE(mon);
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
    int fd = connect_loopback(node.port);
    ASSERT_GE(fd, 0);
    // server / client handshake (server_handshake needs operation_data != 0 to be valid)
    auto hdr = basp_header(static_cast<std::uint8_t>(i % 2), 0, 0xfffffff0u, i % 2 == 0 ? 1 : 0);
    ASSERT_EQ(::send(fd, hdr.data(), hdr.size(), MSG_NOSIGNAL), static_cast<ssize_t>(hdr.size()));
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
    bytes garbage(n);
    for (auto& b : garbage)
      b = static_cast<char>(rng());
    if (round % 5 == 1 && n >= 8) {
      // A BASP-looking header: a valid operation, zero padding/flags and a 64 MiB
      // payload length (big-endian), then random bytes. (CAF 0.17 sizes its read
      // buffer from that field before it sees any payload; see the module's notes.)
      garbage[0] = static_cast<char>(round % 7);
      garbage[1] = garbage[2] = garbage[3] = 0;
      garbage[4] = 0x04, garbage[5] = garbage[6] = garbage[7] = 0;
    }
    ASSERT_TRUE(send_raw(node.port, garbage)) << "round " << round << ": the node stopped listening";
    ASSERT_TRUE(node.proc->alive()) << "round " << round << ": the node died";
  }
  ASSERT_TRUE(node.proc->alive());
  auto mon = metron::remote::connect(*sys, "127.0.0.1", node.port);
  ASSERT_TRUE(mon) << sys->render(mon.error());
  auto log = std::make_shared<received_log>();
  auto sub = spawn_subscriber(*sys, log);
  caf::anon_send(*mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
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

namespace {

// A process that used connect() ends while the node it watched runs on: its actor
// system's shutdown must not wait for the node to close the connection (the node's
// idle timeout is 60 s, and a subscription's traffic would keep it open forever).
TEST_F(remote_monitor, a_subscribers_process_shuts_down_while_the_node_runs_on) {
  test_node node{3, 100};
  caf::actor_system_config watcher_cfg;
  metron::remote::configure(watcher_cfg);
  auto watcher = std::make_unique<caf::actor_system>(watcher_cfg);
  auto mon = metron::remote::connect(*watcher, "127.0.0.1", node.port);
  ASSERT_TRUE(mon) << watcher->render(mon.error());
  auto log = std::make_shared<received_log>();
  auto sub = spawn_subscriber(*watcher, log);
  caf::anon_send(*mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
  ASSERT_TRUE(eventually([&] { return log->size() >= 2; }, 20s));
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
  mon = caf::error{};
  auto t0 = clock_type::now();
  watcher.reset();
  EXPECT_LT(clock_type::now() - t0, 20s) << "the shutdown waited for the node to close the connection";
  // The node is unharmed: another process connects and reads it.
  auto again = metron::remote::connect(*sys, "127.0.0.1", node.port);
  ASSERT_TRUE(again) << sys->render(again.error());
  auto s = get(*again);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->find_counter("work_items_total", {{"kind", "a"}})->value(), 100u);
}

} // namespace
