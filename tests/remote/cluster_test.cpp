// Three node processes (test_node) and a cluster collector in this process, on
// 127.0.0.1: exact merged totals and quantiles, node labels, node_up, SIGKILL and
// restart on the same port, a stopped (SIGSTOP) node going stale and coming back.
#include <algorithm>
#include <cmath>

#include <metron/bucket_layout.hpp>

#include "remote_fixture.hpp"
#include "workload.hpp"

namespace {

using namespace metron_test;
using metron::remote::collector_actor;
using metron::remote::node_status;

constexpr std::uint64_t seeds[] = {11, 22, 33};
constexpr std::size_t counts[] = {3000, 5000, 7000};
constexpr std::size_t total_count = 15000;
constexpr auto down_timeout = std::chrono::milliseconds{1000};

struct cluster : remote_fixture {
  std::vector<std::unique_ptr<test_node>> procs;
  collector_actor col;

  void start(std::size_t n = 3) {
    metron::remote::collector_config cc;
    for (std::size_t i = 0; i < n; ++i) {
      procs.push_back(std::make_unique<test_node>(seeds[i], counts[i]));
      cc.nodes.push_back({"127.0.0.1", procs.back()->port});
    }
    cc.monitor.interval = std::chrono::milliseconds{50};
    cc.per_node_series = true; // the tests check each node's copy beside the totals
    cc.down_timeout = down_timeout;
    cc.connect_timeout = std::chrono::milliseconds{2000};
    cc.reconnect_min = std::chrono::milliseconds{50};
    cc.reconnect_max = std::chrono::milliseconds{400};
    col = metron::remote::spawn_collector(*sys, cc);
  }

  ~cluster() override {
    if (col)
      caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
  }

  std::string name(std::size_t i) { return "127.0.0.1:" + std::to_string(procs[i]->port); }

  metron::labels with_node(std::size_t i, metron::labels ls = {}) {
    ls.emplace_back("node", name(i));
    return metron::normalized(std::move(ls));
  }

  double gauge(const metron::report_ptr& s, const char* n, const metron::labels& ls = {}) {
    auto* g = s ? s->find_gauge(n, ls) : nullptr;
    return g ? g->value() : -1.0;
  }

  std::uint64_t counter(const metron::report_ptr& s, const char* n, const metron::labels& ls = {}) {
    auto* c = s ? s->find_counter(n, ls) : nullptr;
    return c ? c->value() : 0;
  }

  // Polls the merged view until pred(snapshot) holds.
  template <class Pred>
  metron::report_ptr wait_view(Pred pred, std::chrono::milliseconds timeout = 30s) {
    metron::report_ptr s;
    eventually([&] { return (s = get(col)) && pred(s); }, timeout);
    return s;
  }
};

TEST_F(cluster, merged_totals_and_quantiles_are_exact_over_three_node_processes) {
  start();
  auto s = wait_view([&](auto& s) {
    auto* h = s->find_histogram("work_latency_seconds");
    return gauge(s, "metron_cluster_nodes_up") == 3 && h && h->count() == total_count;
  });
  ASSERT_NE(s, nullptr);
  ASSERT_EQ(gauge(s, "metron_cluster_nodes_up"), 3.0);
  EXPECT_EQ(gauge(s, "metron_cluster_nodes"), 3.0);
  EXPECT_EQ(counter(s, "work_items_total", {{"kind", "a"}}), total_count);
  EXPECT_EQ(counter(s, "work_items_total", {{"kind", "b"}}), 11u + 22u + 33u);
  EXPECT_EQ(gauge(s, "work_queue_depth"), 66.0);
  EXPECT_EQ(s->find_updown_counter("work_inflight")->value(), 6);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(counter(s, "work_items_total", with_node(i, {{"kind", "a"}})), counts[i]);
    EXPECT_EQ(gauge(s, "work_queue_depth", with_node(i)), static_cast<double>(seeds[i]));
    EXPECT_EQ(gauge(s, "metron_cluster_node_up", with_node(i)), 1.0);
    EXPECT_EQ(s->find_histogram("work_latency_seconds", with_node(i))->count(), counts[i]);
  }
  // Merged histogram == a histogram of all samples together; its quantiles (computed
  // by the collector's aggregation) agree with it exactly and with the exact order
  // statistics of the union within the layout's relative error.
  metron::registry all;
  auto& h = all.histogram("work_latency_seconds");
  std::vector<double> samples;
  for (std::size_t i = 0; i < 3; ++i)
    for (double x : node_samples(seeds[i], counts[i])) {
      h.record(x);
      samples.push_back(x);
    }
  std::sort(samples.begin(), samples.end());
  auto expect = all.snapshot();
  auto* want = expect.find_histogram("work_latency_seconds");
  auto* got = s->find_histogram_sample("work_latency_seconds");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->data.buckets(), want->buckets());
  EXPECT_EQ(got->data.min(), samples.front());
  EXPECT_EQ(got->data.max(), samples.back());
  EXPECT_NEAR(got->data.sum(), want->sum(), 1e-9 * want->sum());
  ASSERT_EQ(s->figures(*got).quantiles.size(), metron::monitor_config{}.quantiles.size());
  for (auto& qv : s->figures(*got).quantiles) {
    EXPECT_EQ(qv.value, want->quantile(qv.q)) << "q=" << qv.q;
    auto rank = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(qv.q * samples.size())));
    double exact = samples[rank - 1];
    EXPECT_LE(std::abs(qv.value - exact), metron::bucket_layout::relative_error * exact) << "q=" << qv.q;
  }
  // The collector is a monitor: a subscriber receives the same merged view.
  metron::monitor_actor as_monitor = col;
  auto log = std::make_shared<received_log>();
  auto sub = spawn_subscriber(*sys, log);
  caf::anon_send(as_monitor, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
  ASSERT_TRUE(eventually([&] { return log->size() >= 2; }, 20s));
  EXPECT_EQ(counter(log->last(), "work_items_total", {{"kind", "a"}}), total_count);
  EXPECT_GT(log->last()->sequence(), 1u);
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

TEST_F(cluster, the_published_collector_serves_a_subscriber_in_another_process) {
  start();
  ASSERT_NE(wait_view([&](auto& s) { return counter(s, "work_items_total", {{"kind", "a"}}) == total_count; }),
            nullptr);
  auto port = metron::remote::publish(*sys, col, 0); // a collector is a monitor_actor
  child_process watcher{{METRON_TEST_NODE, "--watch", std::to_string(port)}};
  bool seen = false;
  auto deadline = clock_type::now() + 30s;
  while (!seen && clock_type::now() < deadline) {
    auto line = watcher.read_line(5s);
    ASSERT_TRUE(line) << "the watcher stopped printing";
    ASSERT_EQ(line->rfind("TOTAL ", 0), 0u) << *line;
    seen = std::stoull(line->substr(6)) == total_count;
  }
  EXPECT_TRUE(seen) << "the remote subscriber never saw the merged total";
}

// A tree: a root collector (its own actor system, as on another machine) whose one
// node is the leaf collector, published. The root's totals are the leaf's, exactly;
// the leaf's per-node copies pass through (their node label as exported_node); the leaf's
// metron_cluster_* series stay at the leaf (the root has its own).
TEST_F(cluster, a_collector_of_collectors_keeps_totals_exact_over_two_levels) {
  start();
  ASSERT_NE(wait_view([&](auto& s) {
              auto* h = s->find_histogram("work_latency_seconds");
              return gauge(s, "metron_cluster_nodes_up") == 3 && h && h->count() == total_count;
            }),
            nullptr);
  auto port = metron::remote::publish(*sys, col, 0);
  caf::actor_system_config root_cfg;
  metron::remote::configure(root_cfg);
  auto root_sys_owner = std::make_unique<caf::actor_system>(root_cfg);
  auto& root_sys = *root_sys_owner;
  metron::remote::collector_config rc;
  rc.nodes.push_back({"127.0.0.1", port});
  rc.monitor.interval = std::chrono::milliseconds{50};
  rc.down_timeout = down_timeout;
  auto root = metron::remote::spawn_collector(root_sys, rc);
  auto root_view = [&] {
    metron::report_ptr out;
    caf::scoped_actor self{root_sys};
    self->request(root, std::chrono::seconds{5}, metron::get_atom::value)
      .receive([&](metron::report_ptr r) { out = std::move(r); }, [](caf::error&) {});
    return out;
  };
  metron::report_ptr top;
  ASSERT_TRUE(eventually(
    [&] {
      top = root_view();
      auto* h = top ? top->find_histogram("work_latency_seconds") : nullptr;
      return h && h->count() == total_count && gauge(top, "metron_cluster_nodes_up") == 1;
    },
    30s))
    << "the root never saw the leaf's totals";
  auto leaf = get(col);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(top->find_histogram("work_latency_seconds")->buckets(),
            leaf->find_histogram("work_latency_seconds")->buckets());
  EXPECT_EQ(counter(top, "work_items_total", {{"kind", "a"}}), total_count);
  EXPECT_EQ(counter(top, "work_items_total", {{"kind", "b"}}), 11u + 22u + 33u);
  EXPECT_EQ(gauge(top, "work_queue_depth"), 66.0);
  // (as series of their own: their node label is kept as exported_node)
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(counter(top, "work_items_total", {{"exported_node", name(i)}, {"kind", "a"}}), counts[i]);
  EXPECT_EQ(gauge(top, "metron_cluster_nodes"), 1.0);
  EXPECT_EQ(gauge(top, "metron_cluster_node_up", with_node(0)), -1.0) << "a leaf's cluster series reached the root";
  // The root's quantiles are computed from the merged buckets, as the leaf's are.
  auto* hs = top->find_histogram_sample("work_latency_seconds");
  auto* ls = leaf->find_histogram_sample("work_latency_seconds");
  ASSERT_TRUE(hs && ls);
  ASSERT_EQ(top->figures(*hs).quantiles.size(), leaf->figures(*ls).quantiles.size());
  for (std::size_t k = 0; k < top->figures(*hs).quantiles.size(); ++k)
    EXPECT_EQ(top->figures(*hs).quantiles[k].value, leaf->figures(*ls).quantiles[k].value);
  // The root's process ends while the leaf runs on: its links close their connections
  // (the system's shutdown used to wait for the leaf's 60 s idle timeout).
  caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  auto t0 = clock_type::now();
  root_sys_owner.reset();
  EXPECT_LT(clock_type::now() - t0, 30s) << "the root's actor system waited for the leaf to close";
}

TEST_F(cluster, a_killed_node_is_marked_down_and_picked_up_again_when_it_restarts) {
  start();
  ASSERT_NE(wait_view([&](auto& s) { return gauge(s, "metron_cluster_nodes_up") == 3; }), nullptr);
  auto port = procs[1]->port;
  auto killed_at = clock_type::now();
  procs[1]->proc->stop(); // SIGKILL + waitpid
  ASSERT_TRUE(eventually([&] {
    auto ns = nodes(col);
    return ns.size() == 3 && !ns[1].up && !ns[1].connected;
  }, 30s));
  auto took = clock_type::now() - killed_at;
  EXPECT_LT(took, down_timeout) << "a broken connection is detected at once, not by the timeout";
  // The collector keeps serving: the node is marked down, its counters and histogram
  // stay in the totals (they never go backwards), its levels are gone.
  auto s = wait_view([&](auto& s) { return gauge(s, "metron_cluster_node_up", with_node(1)) == 0; });
  ASSERT_EQ(gauge(s, "metron_cluster_node_up", with_node(1)), 0.0);
  EXPECT_EQ(gauge(s, "metron_cluster_nodes_up"), 2.0);
  EXPECT_EQ(counter(s, "work_items_total", {{"kind", "a"}}), total_count);
  EXPECT_EQ(counter(s, "work_items_total", with_node(1, {{"kind", "a"}})), counts[1]);
  EXPECT_EQ(s->find_histogram("work_latency_seconds")->count(), total_count);
  EXPECT_EQ(gauge(s, "work_queue_depth"), 11.0 + 33.0);
  EXPECT_EQ(s->find_gauge("work_queue_depth", with_node(1)), nullptr);
  // Reconnect attempts fail (nothing listens) and back off.
  ASSERT_TRUE(eventually([&] { return nodes(col)[1].connect_failures >= 2; }, 30s));

  // Restart on the same port: picked up again, counted as a restart; the old
  // process's totals are retired and the new one's add on top.
  procs[1] = std::make_unique<test_node>(seeds[1], counts[1], port);
  ASSERT_EQ(procs[1]->port, port);
  s = wait_view([&](auto& s) {
    return gauge(s, "metron_cluster_nodes_up") == 3
           && counter(s, "work_items_total", {{"kind", "a"}}) == total_count + counts[1];
  });
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(gauge(s, "metron_cluster_node_up", with_node(1)), 1.0);
  EXPECT_EQ(counter(s, "work_items_total", {{"kind", "a"}}), total_count + counts[1]);
  EXPECT_EQ(counter(s, "work_items_total", with_node(1, {{"kind", "a"}})), 2 * counts[1]);
  EXPECT_EQ(s->find_histogram("work_latency_seconds")->count(), total_count + counts[1]);
  EXPECT_EQ(gauge(s, "work_queue_depth"), 66.0);
  EXPECT_EQ(counter(s, "metron_cluster_node_restarts_total", with_node(1)), 1u);
  auto ns = nodes(col);
  EXPECT_TRUE(ns[1].up);
  EXPECT_EQ(ns[1].restarts, 1u);
  EXPECT_EQ(ns[1].connects, 2u);
}

TEST_F(cluster, a_node_that_stops_answering_goes_stale_within_the_timeout_and_comes_back) {
  start(2);
  ASSERT_NE(wait_view([&](auto& s) { return gauge(s, "metron_cluster_nodes_up") == 2; }), nullptr);
  auto stopped_at = clock_type::now();
  procs[0]->proc->signal(SIGSTOP); // connection stays open, snapshots stop
  ASSERT_TRUE(eventually([&] { return !nodes(col)[0].up; }, 30s));
  auto took = clock_type::now() - stopped_at;
  EXPECT_GE(took, down_timeout / 2); // not before the timeout (the last snapshot may be older)
  EXPECT_LT(took, down_timeout + 3s);
  auto ns = nodes(col);
  EXPECT_TRUE(ns[0].connected);
  EXPECT_NE(ns[0].last_error.find("stale"), std::string::npos) << ns[0].last_error;
  auto s = wait_view([&](auto& s) { return gauge(s, "metron_cluster_node_up", with_node(0)) == 0; });
  EXPECT_EQ(gauge(s, "metron_cluster_node_up", with_node(0)), 0.0);
  EXPECT_EQ(counter(s, "work_items_total", {{"kind", "a"}}), counts[0] + counts[1]);
  procs[0]->proc->signal(SIGCONT);
  ASSERT_TRUE(eventually([&] { return nodes(col)[0].up; }, 30s));
  EXPECT_EQ(nodes(col)[0].restarts, 0u); // the same process: nothing retired
  s = wait_view([&](auto& s) { return gauge(s, "metron_cluster_nodes_up") == 2; });
  EXPECT_EQ(counter(s, "work_items_total", {{"kind", "a"}}), counts[0] + counts[1]);
}

TEST_F(cluster, an_unreachable_node_is_retried_with_bounded_backoff_and_others_are_served) {
  // Node 1 is a port nobody listens on; node 0 is real.
  procs.push_back(std::make_unique<test_node>(seeds[0], counts[0]));
  metron::remote::collector_config cc;
  cc.nodes = {{"127.0.0.1", procs[0]->port}, {"127.0.0.1", metron_test::unused_loopback_port()}};
  cc.monitor.interval = std::chrono::milliseconds{50};
  cc.reconnect_min = std::chrono::milliseconds{20};
  cc.reconnect_max = std::chrono::milliseconds{160};
  col = metron::remote::spawn_collector(*sys, cc);
  auto s = wait_view([&](auto& s) { return gauge(s, "metron_cluster_nodes_up") == 1; });
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(counter(s, "work_items_total", {{"kind", "a"}}), counts[0]);
  // Backoff 20, 40, 80, 160, 160, ... ms: after 5 failures every retry waits 160 ms.
  ASSERT_TRUE(eventually([&] { return nodes(col)[1].connect_failures >= 5; }, 30s));
  auto t0 = clock_type::now();
  auto f0 = nodes(col)[1].connect_failures;
  ASSERT_TRUE(eventually([&] { return nodes(col)[1].connect_failures >= f0 + 5; }, 30s));
  auto elapsed = clock_type::now() - t0;
  EXPECT_GE(elapsed, 4 * cc.reconnect_max - 50ms) << "retries must not be faster than reconnect_max";
  EXPECT_FALSE(nodes(col)[1].up);
  EXPECT_FALSE(nodes(col)[1].last_error.empty());
}

TEST_F(cluster, the_collector_refuses_intervals_outside_the_monitor_limits_and_bad_configs) {
  start(1);
  caf::scoped_actor self{*sys};
  for (auto bad : {caf::timespan{1}, caf::timespan{0}, caf::timespan::max(), caf::timespan::min()}) {
    caf::error got;
    self->request(col, 5s, metron::interval_atom::value, bad).receive([] {}, [&](caf::error& e) { got = e; });
    EXPECT_EQ(got, caf::make_error(metron::monitor_errc::interval_out_of_range)) << sys->render(got);
  }
  ASSERT_NE(wait_view([&](auto& s) { return gauge(s, "metron_cluster_nodes_up") == 1; }), nullptr); // still ticking
  metron::remote::collector_config cc;
  cc.monitor.interval = std::chrono::hours{48};
  EXPECT_THROW(metron::remote::spawn_collector(*sys, cc), std::invalid_argument);
}

} // namespace
