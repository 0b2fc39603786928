// A network partition: one node process runs in a network namespace this test
// creates, reached over a veth pair; the link is taken down for longer than the
// collector's staleness limit and brought back. The collector marks the node down,
// keeps serving the other node, marks it up again after the heal, and the merged
// totals are exact afterwards (nothing counted twice, nothing lost).
//
// Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN), which CI has. Cleanup, however the
// test ends: the namespace is an anonymous one held by a child process (unshare),
// not a named one (ip netns add), so no mount of it can outlive the test; the holder
// and the node die with the test process (PR_SET_PDEATHSIG, see process.hpp). The
// kernel then destroys the namespace and the veth pair with it, but only once its
// last socket is gone, and a node killed during the partition leaves orphaned TCP
// sockets retransmitting into the dead link for minutes. So the destructor deletes
// the veth pair itself, and each run first deletes the pairs of earlier runs whose
// process no longer exists (a test killed outright, e.g. by ctest's timeout). Names
// (mtp<pid>h / mtp<pid>n) and the /30 in 10.231.0.0/16 come from the test's PID, so
// concurrent runs do not collide; the traffic only crosses the veth pair and never
// leaves the machine.
#include <net/if.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <regex>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "remote_fixture.hpp"

namespace {

using namespace metron_test;

constexpr auto ip_tool = "/usr/sbin/ip";
constexpr auto nsenter_tool = "/usr/bin/nsenter";
constexpr auto unshare_tool = "/usr/bin/unshare";

/// Runs a command to completion; returns its exit status (-1: still running after 10 s).
int run(std::vector<std::string> args) {
  child_process p{std::move(args)};
  return p.wait_exit(10s).value_or(-1);
}

void must_run(std::vector<std::string> args) {
  std::string line;
  for (auto& a : args)
    line += a + " ";
  if (run(std::move(args)) != 0)
    throw std::runtime_error("command failed: " + line);
}

/// Deletes the veth pairs (mtp<pid>h) of earlier runs whose process is gone (one
/// named after our own PID, before we created ours, is an earlier run's too).
void delete_leftovers_of_dead_runs() {
  static const std::regex name{"mtp([0-9]+)h"};
  // if_nameindex (netlink), not /sys/class/net: a chroot or container may have no /sys.
  std::vector<std::string> names;
  if (auto* list = if_nameindex()) {
    for (auto* i = list; i->if_index != 0; ++i)
      names.emplace_back(i->if_name);
    if_freenameindex(list);
  }
  for (auto& ifname : names) {
    std::smatch m;
    if (!std::regex_match(ifname, m, name))
      continue;
    auto pid = static_cast<pid_t>(std::stol(m[1].str()));
    if (pid == getpid() || (::kill(pid, 0) != 0 && errno == ESRCH))
      run({ip_tool, "link", "del", ifname});
  }
}

/// A network namespace joined to this one by a veth pair, with a /30 of its own.
class isolated_network {
public:
  isolated_network() {
    delete_leftovers_of_dead_runs();
    auto pid = std::to_string(getpid());
    auto n = static_cast<unsigned>(getpid()) % 16384; // one /30 of 10.231.0.0/16 per run
    auto prefix = "10.231." + std::to_string(n / 64) + ".";
    host_ip = prefix + std::to_string(n % 64 * 4 + 1);
    node_ip = prefix + std::to_string(n % 64 * 4 + 2);
    host_if = "mtp" + pid + "h";
    node_if = "mtp" + pid + "n";
    // The holder: a process in a new network namespace (loopback up, which the
    // node's frame guard relays over), alive until this object stops it.
    holder_ = std::make_unique<child_process>(std::vector<std::string>{
      unshare_tool, "--net", "--", "/bin/sh", "-c", "/usr/sbin/ip link set lo up && echo READY && exec sleep 300"});
    auto ready = holder_->read_line(10s);
    if (!ready || *ready != "READY")
      throw std::runtime_error("the namespace holder did not start");
    netns_ = "--net=/proc/" + std::to_string(holder_->pid()) + "/ns/net";
    must_run({ip_tool, "link", "add", host_if, "type", "veth", "peer", "name", node_if, "netns",
              std::to_string(holder_->pid())});
    must_run({ip_tool, "addr", "add", host_ip + "/30", "dev", host_if});
    must_run({ip_tool, "link", "set", host_if, "up"});
    must_run({nsenter_tool, netns_, ip_tool, "addr", "add", node_ip + "/30", "dev", node_if});
    must_run({nsenter_tool, netns_, ip_tool, "link", "set", node_if, "up"});
  }

  ~isolated_network() {
    holder_->stop();
    if (if_nametoindex(host_if.c_str()) != 0)
      run({ip_tool, "link", "del", host_if}); // both ends, wherever the namespace is
  }

  isolated_network(const isolated_network&) = delete;
  isolated_network& operator=(const isolated_network&) = delete;

  /// Starts test_node inside the namespace, published on node_ip.
  std::unique_ptr<child_process> start_node(std::uint64_t seed, std::size_t count, std::uint16_t& port) {
    auto p = std::make_unique<child_process>(std::vector<std::string>{
      nsenter_tool, netns_, METRON_TEST_NODE, "--seed", std::to_string(seed), "--count",
      std::to_string(count), "--interval-ms", "50", "--addr", node_ip});
    auto line = p->read_line(30s);
    if (!line || line->rfind("PORT ", 0) != 0)
      throw std::runtime_error("test_node did not print its port: " + line.value_or("<eof/timeout>"));
    port = static_cast<std::uint16_t>(std::stoul(line->substr(5)));
    return p;
  }

  /// Takes the host end of the link down (partition) or up (heal).
  void set_link(bool up) { must_run({ip_tool, "link", "set", host_if, up ? "up" : "down"}); }

  std::string host_ip, node_ip, host_if, node_if;

private:
  std::unique_ptr<child_process> holder_;
  std::string netns_;
};

struct partition : remote_fixture {
  metron::remote::collector_actor col;

  ~partition() override {
    if (col)
      caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
  }

  std::uint64_t total(const metron::report_ptr& s, metron::labels ls) {
    auto* c = s ? s->find_counter("work_items_total", ls) : nullptr;
    return c ? c->value() : 0;
  }

  double nodes_up(const metron::report_ptr& s) {
    auto* g = s ? s->find_gauge("metron_cluster_nodes_up") : nullptr;
    return g ? g->value() : -1.0;
  }
};

TEST_F(partition, a_partitioned_node_is_marked_down_then_up_and_totals_stay_exact) {
  constexpr std::size_t count_far = 3000, count_near = 5000;
  isolated_network net;
  std::uint16_t far_port = 0;
  auto far = net.start_node(11, count_far, far_port); // behind the veth pair
  test_node near{22, count_near};                       // on 127.0.0.1, never partitioned
  metron::remote::collector_config cc;
  cc.nodes = {{net.node_ip, far_port}, {"127.0.0.1", near.port}};
  cc.monitor.interval = 50ms;
  cc.per_node_series = true; // the far node's own copy is checked below
  cc.down_timeout = 1000ms;
  cc.connect_timeout = 2000ms;
  cc.reconnect_min = 50ms;
  cc.reconnect_max = 400ms;
  col = metron::remote::spawn_collector(*sys, cc);
  auto far_labels = [&](metron::labels ls) {
    ls.emplace_back("node", net.node_ip + ":" + std::to_string(far_port));
    return metron::normalized(std::move(ls));
  };
  auto exact = [&](const metron::report_ptr& s) {
    auto* h = s ? s->find_histogram("work_latency_seconds") : nullptr;
    return nodes_up(s) == 2 && total(s, {{"kind", "a"}}) == count_far + count_near
           && total(s, far_labels({{"kind", "a"}})) == count_far && h
           && h->count() == count_far + count_near;
  };
  metron::report_ptr s;
  ASSERT_TRUE(eventually([&] { return exact(s = get(col)); }, 30s)) << "never saw both nodes";

  // Partition: longer than down_timeout. The connection is not closed (nothing
  // answers, nothing resets), so the node goes down as stale.
  net.set_link(false);
  auto partitioned_at = clock_type::now();
  ASSERT_TRUE(eventually([&] { return !nodes(col).at(0).up; }, 30s)) << "the node never went down";
  auto ns = nodes(col);
  EXPECT_TRUE(ns.at(1).up) << "the other node must not be affected";
  EXPECT_NE(ns.at(0).last_error.find("stale"), std::string::npos) << ns.at(0).last_error;
  ASSERT_TRUE(eventually([&] { return nodes_up(s = get(col)) == 1; }, 30s));
  EXPECT_EQ(total(s, {{"kind", "a"}}), count_far + count_near); // a down node's totals stay
  // Hold the partition for twice the staleness limit in all (the scenario's
  // length, not a wait for a result), then heal.
  std::this_thread::sleep_until(partitioned_at + 2 * cc.down_timeout);
  EXPECT_FALSE(nodes(col).at(0).up);
  net.set_link(true);

  ASSERT_TRUE(eventually([&] { return nodes(col).at(0).up; }, 40s)) << "the node never came back";
  ASSERT_TRUE(eventually([&] { return exact(s = get(col)); }, 30s))
    << "totals after the heal: " << total(s, {{"kind", "a"}});
  ns = nodes(col);
  EXPECT_EQ(ns.at(0).restarts, 0u) << "the same process: nothing retired, nothing counted twice";
  EXPECT_EQ(total(s, {{"kind", "b"}}), 11u + 22u);
  EXPECT_EQ(s->find_gauge("work_queue_depth")->value(), 33.0);
  EXPECT_EQ(s->find_histogram("work_latency_seconds", far_labels({}))->count(), count_far);
  EXPECT_GT(ns.at(0).snapshots, 0u);
  far->stop();
}

} // namespace
