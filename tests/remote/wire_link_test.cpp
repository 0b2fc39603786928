// The delta wire between actors: the node side (the facade's per-link encoder, fed
// by a real monitor) and the collector side (a collector's link, fed by a scripted
// node published on 127.0.0.1). The multi-process cluster tests (cluster_test,
// partition_test) run the whole path with real nodes.
#include <condition_variable>
#include <deque>
#include <mutex>

#include <caf/io/middleman.hpp>

#include "facade.hpp"
#include "remote_fixture.hpp"
#include "wire_codec.hpp"
#include "wire_messages.hpp"

namespace {

using namespace metron_test;
namespace wire = metron::remote::wire;
using metron::remote::wire_frame;
using metron::remote::wire_subscribe_atom;

using release_atom = caf::atom_constant<caf::atom("release")>;
using send_atom = caf::atom_constant<caf::atom("send")>;

// Events written on actor threads, awaited by the test.
template <class T>
struct channel {
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<T> items;

  void push(T x) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      items.push_back(std::move(x));
    }
    cv.notify_all();
  }

  // The next item; fails the test if none comes within 20 s.
  T next() {
    std::unique_lock<std::mutex> lock{mtx};
    bool got = cv.wait_for(lock, std::chrono::seconds{20}, [&] { return !items.empty(); });
    EXPECT_TRUE(got) << "nothing arrived";
    if (!got)
      return T{};
    auto x = std::move(items.front());
    items.pop_front();
    return x;
  }

  std::size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return items.size();
  }
};

// -- node side -------------------------------------------------------------------------

struct frame_seen {
  bool full = false;
  std::uint64_t seq = 0;
  metron::snapshot_ptr decoded; // null: the frame did not decode
};

// A stand-in for a collector's link: decodes each frame and reports it; answers at
// once, or (holding) only when told by (release_atom, answer) — 0 refuses the frame,
// ~0 answers what the decoder holds.
caf::behavior fake_link(caf::stateful_actor<wire::decoder>* self, std::shared_ptr<channel<frame_seen>> seen,
                        bool hold) {
  auto promise = std::make_shared<caf::response_promise>();
  return {
    [=](wire_frame& f) -> caf::result<std::uint64_t> {
      frame_seen x;
      x.full = f.bytes.size() > 2 && (f.bytes[2] & 1) != 0;
      x.decoded = self->state.apply(f.bytes);
      x.seq = self->state.held();
      seen->push(x);
      if (!hold)
        return self->state.held();
      *promise = self->make_response_promise();
      return *promise;
    },
    [=](release_atom, std::uint64_t answer) {
      promise->deliver(answer == ~std::uint64_t{0} ? self->state.held() : answer);
    },
  };
}

struct wire_node : remote_fixture {
  metron::registry reg;
  metron::counter& jobs = reg.counter("jobs_total", {}, "Jobs");
  metron::monitor_actor mon;
  metron::remote::wire_monitor_actor facade;
  std::shared_ptr<metron::remote::remote_stats> stats = std::make_shared<metron::remote::remote_stats>();

  wire_node() {
    metron::monitor_config mc;
    mc.interval = std::chrono::milliseconds{5};
    mon = metron::spawn_monitor(*sys, reg, mc);
    metron::remote::detail::facade_limits fl;
    fl.max_per_peer = 2;
    fl.stats = stats;
    facade = metron::remote::detail::spawn_facade(*sys, mon, fl);
  }

  // The registry must outlive the monitor's actors: the system goes first.
  ~wire_node() override {
    caf::anon_send_exit(mon, caf::exit_reason::user_shutdown);
    mon = nullptr;
    facade = nullptr;
    sys.reset();
  }

  caf::actor link(std::shared_ptr<channel<frame_seen>> seen, bool hold) {
    auto a = sys->spawn(fake_link, std::move(seen), hold);
    caf::anon_send(facade, wire_subscribe_atom::value, a);
    return a;
  }

  static std::uint64_t jobs_in(const frame_seen& f) {
    auto* c = f.decoded ? f.decoded->find_counter("jobs_total") : nullptr;
    return c ? c->value() : ~std::uint64_t{0};
  }
};

TEST_F(wire_node, a_link_gets_a_full_frame_then_deltas_that_rebuild_the_monitors_values_exactly) {
  jobs.add(5);
  auto seen = std::make_shared<channel<frame_seen>>();
  auto a = link(seen, false);
  auto first = seen->next();
  EXPECT_TRUE(first.full);
  ASSERT_TRUE(first.decoded);
  EXPECT_EQ(first.decoded->find_family("jobs_total")->help, "Jobs");
  // Ticks go on (the monitor's own metrics change every tick): deltas only, until the
  // values recorded show (the first frame may be of a tick before them).
  auto until = [&](std::uint64_t n) {
    auto f = first;
    for (int k = 0; k < 10000 && jobs_in(f) != n && !HasFailure(); ++k) {
      f = seen->next();
      EXPECT_TRUE(f.decoded);
      EXPECT_FALSE(f.full);
    }
    EXPECT_EQ(jobs_in(f), n);
    return f;
  };
  until(5);
  jobs.add(3);
  auto f = until(8);
  // Identities are the decoder's, made once: the same object from tick to tick.
  auto g = seen->next();
  ASSERT_TRUE(f.decoded && g.decoded);
  EXPECT_EQ(g.decoded->find_counter("jobs_total")->series.get(), f.decoded->find_counter("jobs_total")->series.get());
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(wire_node, one_frame_is_in_flight_ticks_meanwhile_are_coalesced_and_a_refusal_brings_a_full_frame) {
  auto seen = std::make_shared<channel<frame_seen>>();
  auto a = link(seen, true);
  auto first = seen->next();
  ASSERT_TRUE(first.full && first.decoded);
  // The monitor ticks on (every 5 ms) while the frame is unanswered; the encoder sends
  // nothing more. A local subscriber sees the ticks go by.
  auto log = std::make_shared<received_log>();
  auto sub = spawn_subscriber(*sys, log);
  caf::anon_send(mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
  ASSERT_TRUE(eventually([&] { return log->size() >= 5; }, 20s));
  jobs.add(42);
  auto before = log->size();
  ASSERT_TRUE(eventually([&] { return log->size() >= before + 2; }, 20s)); // a tick with 42 taken
  EXPECT_EQ(seen->size(), 0u);
  caf::anon_send(a, release_atom::value, ~std::uint64_t{0}); // acknowledge
  auto second = seen->next();
  EXPECT_FALSE(second.full); // against the acknowledged base
  EXPECT_EQ(jobs_in(second), 42u); // the latest tick, not the ones in between
  caf::anon_send(a, release_atom::value, std::uint64_t{0}); // refuse it
  auto third = seen->next();
  EXPECT_TRUE(third.full);
  EXPECT_EQ(jobs_in(third), 42u);
  // Subscribing again (a link's staleness check) resyncs too.
  caf::anon_send(a, release_atom::value, ~std::uint64_t{0});
  auto fourth = seen->next();
  EXPECT_FALSE(fourth.full);
  caf::anon_send(facade, wire_subscribe_atom::value, a);
  caf::anon_send(a, release_atom::value, ~std::uint64_t{0});
  frame_seen later;
  for (int k = 0; k < 3 && !later.full; ++k) { // the resync lands within a frame or two
    later = seen->next();
    caf::anon_send(a, release_atom::value, ~std::uint64_t{0});
  }
  EXPECT_TRUE(later.full);
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(wire_node, links_count_against_the_facades_subscription_limit) {
  std::vector<caf::actor> links;
  std::vector<std::shared_ptr<channel<frame_seen>>> seen;
  for (int i = 0; i < 3; ++i) {
    seen.push_back(std::make_shared<channel<frame_seen>>());
    links.push_back(link(seen.back(), false));
  }
  EXPECT_TRUE(seen[0]->next().full);
  EXPECT_TRUE(seen[1]->next().full);
  ASSERT_TRUE(eventually([&] { return stats->refused(metron::remote::refusal::subscription_limit) == 1u; }, 20s));
  EXPECT_EQ(seen[2]->size(), 0u);
  for (auto& a : links)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

// -- collector side ---------------------------------------------------------------------

using scripted_node_actor = metron::remote::wire_monitor_actor::extend<caf::reacts_to<send_atom, wire_frame>>;

// A node that speaks the wire as the test says: it remembers the link that subscribed
// and sends it the frames it is given, reporting each answer.
scripted_node_actor::behavior_type scripted_node(scripted_node_actor::stateful_pointer<caf::actor> self,
                                                 std::shared_ptr<channel<std::uint64_t>> answers,
                                                 std::shared_ptr<channel<bool>> subscribed) {
  return {
    [](metron::get_atom) { return std::make_shared<const metron::report>(); },
    [](metron::subscribe_atom, metron::subscriber_actor) {},
    [](metron::subscribe_atom, metron::subscriber_actor, std::string) {},
    [](metron::unsubscribe_atom, metron::subscriber_actor) {},
    [](metron::subscribe_atom, caf::actor) {},
    [](metron::subscribe_atom, caf::actor, std::string) {},
    [](metron::unsubscribe_atom, caf::actor) {},
    [](metron::interval_atom, caf::timespan) {},
    [=](wire_subscribe_atom, caf::actor link) {
      self->state = link;
      subscribed->push(true);
    },
    [=](send_atom, wire_frame f) {
      self->request(self->state, caf::infinite, std::move(f))
        .then([=](std::uint64_t held) { answers->push(held); }, [=](caf::error&) { answers->push(~std::uint64_t{0}); });
    },
  };
}

struct wire_collector : remote_fixture {
  caf::actor_system_config node_cfg;
  std::unique_ptr<caf::actor_system> node_sys;
  scripted_node_actor node;
  std::shared_ptr<channel<std::uint64_t>> answers = std::make_shared<channel<std::uint64_t>>();
  std::shared_ptr<channel<bool>> subscribed = std::make_shared<channel<bool>>();
  std::shared_ptr<metron::remote::remote_stats> stats = std::make_shared<metron::remote::remote_stats>();
  metron::remote::collector_actor col;
  std::uint16_t port = 0;

  wire_collector() {
    metron::remote::configure(node_cfg);
    node_sys = std::make_unique<caf::actor_system>(node_cfg);
    node = node_sys->spawn(scripted_node, answers, subscribed);
    auto p = node_sys->middleman().publish(node, 0, "127.0.0.1");
    EXPECT_TRUE(p);
    port = p ? *p : 0;
    metron::remote::collector_config cc;
    cc.nodes = {{"127.0.0.1", port}};
    cc.monitor.interval = std::chrono::milliseconds{20};
    cc.stats = stats;
    col = metron::remote::spawn_collector(*sys, cc);
  }

  ~wire_collector() override {
    caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  }

  std::uint64_t send(wire::bytes b) {
    caf::anon_send(node, send_atom::value, wire_frame{std::move(b)});
    return answers->next();
  }

  std::uint64_t total_in_view() {
    auto s = get(col);
    auto* c = s ? s->find_counter("work_items_total") : nullptr;
    return c ? c->value() : 0;
  }
};

metron::snapshot_ptr items(std::uint64_t n) {
  metron::registry reg;
  reg.counter("work_items_total").add(n);
  return std::make_shared<const metron::snapshot>(reg.snapshot());
}

TEST_F(wire_collector, a_link_decodes_frames_into_the_view_and_refuses_and_counts_a_malformed_one) {
  ASSERT_TRUE(subscribed->next()); // the link saw the wire in the node's interface
  wire::encoder enc;
  auto seq = enc.in_flight();
  auto full = enc.encode(items(7));
  seq = enc.in_flight();
  EXPECT_EQ(send(full), seq); // acknowledged: the link holds it
  enc.acknowledged(seq);
  EXPECT_TRUE(eventually([&] { return total_in_view() == 7u; }, 20s));
  auto delta = enc.encode(items(9));
  EXPECT_EQ(send(delta), enc.in_flight());
  enc.acknowledged(enc.in_flight());
  EXPECT_TRUE(eventually([&] { return total_in_view() == 9u; }, 20s));

  // Garbage: refused (answer 0), counted; the link holds nothing now.
  EXPECT_EQ(send({wire::magic, wire::version, 1, 5, 0, 0xFF}), 0u); // a full frame, cut short
  EXPECT_EQ(stats->refused(metron::remote::refusal::wire_frame), 1u);
  // A delta on a base the link no longer holds: refused (0) as a resync, not counted.
  auto stale = enc.encode(items(11));
  EXPECT_EQ(send(stale), 0u);
  enc.acknowledged(0);
  EXPECT_EQ(stats->refused(metron::remote::refusal::wire_frame), 1u);
  // The full frame the encoder sends next restores the link.
  auto again = enc.encode(items(12));
  EXPECT_EQ(send(again), enc.in_flight());
  EXPECT_TRUE(eventually([&] { return total_in_view() == 12u; }, 20s));
}

} // namespace
