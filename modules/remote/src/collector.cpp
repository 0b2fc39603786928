// The cluster collector and its per-node link actors (see collector.hpp).
//
// Link (one per node, dynamically typed so it can be a subscriber): a small state
// machine — disconnected -> connecting -> connected (up / stale) -> disconnected —
// driven by the middleman's connect reply, the remote proxy's down message, a retry
// timer (exponential backoff) and a periodic staleness check. It reports its state
// to the collector (link_state) and forwards every snapshot (link_snap). A node whose
// facade serves the delta wire (wire_messages.hpp) sends frames, which the link's
// decoder turns back into exact snapshots; the answer is the acknowledgement. Otherwise
// (a monitor published over TLS) the node's fan-out sends snapshots and returning from
// the snapshot handler is the acknowledgement.
//
// Collector: the monitor of metron::actors (spawn_monitor: timer, aggregation,
// credit-based fan-out, prefix filters, supervision) over a cluster_source, plus a
// small front actor that owns the links, feeds the source with what they report and
// answers nodes_atom. Nothing of the monitor is re-implemented here.
#include "metron/remote/collector.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>

#include "metron/actors/config.hpp"
#include "metron/actors/message_types.hpp"
#include "metron/actors/source.hpp"
#include "metron/remote/cluster_view.hpp"

#include "guard.hpp"
#include "wire_codec.hpp"
#include "wire_messages.hpp"

namespace metron::remote {
namespace {

using link_state_atom = caf::atom_constant<caf::atom("lnkstate")>;
using link_snap_atom = caf::atom_constant<caf::atom("lnksnap")>;
using retry_atom = caf::atom_constant<caf::atom("lnkretry")>;
using check_atom = caf::atom_constant<caf::atom("lnkcheck")>;

// The collector's full interface: the public one plus what its links send it.
using collector_impl = collector_actor::extend<
  caf::reacts_to<link_state_atom, std::uint64_t, node_status>,
  caf::reacts_to<link_snap_atom, std::uint64_t, snapshot_ptr>>;

using config_ptr = std::shared_ptr<const collector_config>;

std::int64_t now_ns(caf::local_actor* self) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(self->clock().now().time_since_epoch())
    .count();
}

std::int64_t to_ns(std::chrono::milliseconds x) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(x).count();
}

// -- link ----------------------------------------------------------------------

struct link_state {
  std::uint64_t index = 0;
  endpoint ep;
  config_ptr cfg;
  collector_impl parent;
  monitor_actor remote;           // the node's monitor (a proxy) while connected
  node_status status;             // the fields a link knows (not snapshots, last_seen)
  bool connecting = false;
  std::chrono::milliseconds backoff{0};
  std::int64_t last_seen_ns = 0;  // last snapshot, or the connect
  std::int64_t last_poke_ns = 0;  // last (re)subscribe
  bool wire = false;              // the node serves the delta wire
  wire::decoder decoder;          // this connection's, when it does
  caf::actor guard;               // the connection's client guard (plain TCP)
  static inline const char* name = "metron.remote.link";

  link_state() = default;
  link_state(const link_state&) = delete;
  link_state& operator=(const link_state&) = delete;
  // The guard holds the TCP connection and would otherwise live until the node closes
  // it (its idle timeout, 60 s): the actor system's shutdown waits for it, so a
  // collector process would take that long to exit while its nodes run.
  ~link_state() {
    if (guard)
      caf::anon_send_exit(guard, caf::exit_reason::user_shutdown);
  }
};

using link_pointer = caf::stateful_actor<link_state>*;

void report(link_pointer self) {
  auto& st = self->state;
  self->send(st.parent, link_state_atom::value, st.index, st.status);
}

void schedule_connect(link_pointer self) {
  auto& st = self->state;
  auto delay = st.backoff;
  st.backoff = std::min(st.backoff * 2, st.cfg->reconnect_max);
  self->delayed_send(self, delay, retry_atom::value);
}

void connect_failed(link_pointer self, std::string why) {
  auto& st = self->state;
  st.connecting = false;
  ++st.status.connect_failures;
  st.status.last_error = std::move(why);
  report(self);
  schedule_connect(self);
}

void received(link_pointer self, snapshot_ptr s) {
  auto& st = self->state;
  if (!s || !st.remote)
    return;
  st.last_seen_ns = now_ns(self);
  if (!st.status.up) {
    st.status.up = true;
    st.status.last_error.clear();
    report(self);
  }
  self->send(st.parent, link_snap_atom::value, st.index, std::move(s));
}

// Subscribes (idempotent on the node) and asks for the latest snapshot at once (on
// the wire: the encoder sends a full frame of it).
void poke(link_pointer self) {
  auto& st = self->state;
  st.last_poke_ns = now_ns(self);
  if (st.wire) {
    self->send(caf::actor_cast<wire_monitor_actor>(st.remote), wire_subscribe_atom::value,
               caf::actor_cast<caf::actor>(self));
    return;
  }
  self->send(st.remote, subscribe_atom::value, caf::actor_cast<subscriber_actor>(self));
  auto remote = st.remote;
  self->request(st.remote, st.cfg->down_timeout, get_atom::value)
    .then(
      [=](report_ptr& r) {
        if (self->state.remote == remote && r)
          received(self, r->raw_ptr());
      },
      [](caf::error&) {
        // No answer: the down message or the staleness check deals with it.
      });
}

void handshake(link_pointer self, int fd);

// The BASP handshake answered: the node's monitor (or an error).
void connected(link_pointer self, caf::node_id& nid, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
  auto& st = self->state;
  if (!ptr)
    return connect_failed(self, "no actor is published at " + to_string(st.ep));
  if (!self->system().assignable<monitor_actor>(ifs))
    return connect_failed(self, "the actor at " + to_string(st.ep) + " is not a metron monitor");
  st.connecting = false;
  st.remote = caf::actor_cast<monitor_actor>(std::move(ptr));
  self->monitor(st.remote);
  auto incarnation = to_string(nid);
  if (!st.status.incarnation.empty() && st.status.incarnation != incarnation)
    ++st.status.restarts;
  st.status.incarnation = std::move(incarnation);
  st.status.connected = true;
  ++st.status.connects;
  st.backoff = st.cfg->reconnect_min;
  st.last_seen_ns = now_ns(self); // the staleness clock starts at the connect
  st.wire = self->system().assignable<wire_monitor_actor>(ifs);
  wire::limits lim;
  lim.max_frame_bytes = st.cfg->max_frame;
  st.decoder = wire::decoder{lim}; // a new connection starts from a full frame
  report(self);
  poke(self);
}

void connect(link_pointer self) {
  auto& st = self->state;
  if (st.remote || st.connecting)
    return;
  st.connecting = true;
  if (st.cfg->connector) {
    // TLS (remote_tls): CAF's OpenSSL middleman connects and verifies the node's
    // certificate; no frame guard can read TLS (docs/remote-tls.md).
    self->request(st.cfg->connector, st.cfg->connect_timeout, caf::connect_atom::value, st.ep.host, st.ep.port)
      .then([=](caf::node_id& nid, caf::strong_actor_ptr& ptr,
                std::set<std::string>& ifs) { connected(self, nid, ptr, ifs); },
            [=](caf::error& err) { connect_failed(self, self->system().render(err)); });
    return;
  }
  // A helper thread makes the TCP connection (bounded by connect_timeout; the extra
  // time bounds a name lookup); the guard and the handshake follow here.
  auto tcp = detail::spawn_tcp_connector(self->system(), st.ep.host, st.ep.port, st.cfg->connect_timeout);
  self->request(tcp, st.cfg->connect_timeout + std::chrono::seconds{5}, caf::connect_atom::value)
    .then([=](int fd) { handshake(self, fd); },
          [=](caf::error& err) { connect_failed(self, self->system().render(err)); });
}

void handshake(link_pointer self, int fd) {
  auto& st = self->state;
  connect_options opts;
  opts.timeout = st.cfg->connect_timeout;
  opts.max_frame = st.cfg->max_frame;
  opts.stats = st.cfg->stats;
  auto link = detail::start_client_guard(self->system(), fd, detail::client_limits(opts));
  if (!link)
    return connect_failed(self, self->system().render(link.error()));
  auto guard = link->guard;
  st.guard = guard; // a guard of an earlier connection has ended with it
  self->request(detail::basp_broker(self->system()), st.cfg->connect_timeout, caf::connect_atom::value,
                std::move(link->basp_end), st.ep.port)
    .then([=](caf::node_id& nid, caf::strong_actor_ptr& ptr,
              std::set<std::string>& ifs) { connected(self, nid, ptr, ifs); },
          [=](caf::error& err) {
            self->send_exit(guard, caf::exit_reason::user_shutdown);
            connect_failed(self, self->system().render(err));
          });
}

caf::behavior node_link(link_pointer self, std::uint64_t index, endpoint ep, config_ptr cfg,
                        collector_impl parent) {
  auto& st = self->state;
  st.index = index;
  st.status.node = to_string(ep);
  st.ep = std::move(ep);
  st.backoff = cfg->reconnect_min;
  st.cfg = std::move(cfg);
  st.parent = std::move(parent);
  auto check_period = std::max(std::chrono::milliseconds{1}, st.cfg->down_timeout / 4);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.remote || dm.source != st.remote.address())
      return;
    st.remote = nullptr;
    st.decoder.reset();
    st.status.connected = false;
    st.status.up = false;
    st.status.last_error = "connection lost: " + self->system().render(dm.reason);
    report(self);
    st.backoff = st.cfg->reconnect_min;
    schedule_connect(self);
  });
  self->send(self, retry_atom::value);
  self->delayed_send(self, check_period, check_atom::value);
  return {
    // A report from the node's fan-out; returning acknowledges it (credit). Only its
    // raw snapshot is kept: the collector derives its own figures from the merge.
    [=](report_ptr& r) {
      auto& st = self->state;
      auto& from = self->current_sender();
      if (r && st.remote && from && from->node() == st.remote.node())
        received(self, r->raw_ptr());
    },
    // A delta-wire frame from the node's encoder; the answer (the seq the decoder
    // holds, 0 after a refusal) acknowledges it and tells the encoder its base.
    [=](wire_frame& f) -> std::uint64_t {
      auto& st = self->state;
      auto& from = self->current_sender();
      if (!st.wire || !st.remote || !from || from->node() != st.remote.node())
        return 0;
      wire::error why = wire::error::none;
      auto s = st.decoder.apply(f.bytes, &why);
      if (!s) {
        if (why != wire::error::base) // a base mismatch is a resync, not a bad frame
          st.cfg->stats->count(refusal::wire_frame);
        return 0;
      }
      received(self, std::move(s));
      return st.decoder.held();
    },
    [=](retry_atom) { connect(self); },
    [=](check_atom) {
      auto& st = self->state;
      auto now = now_ns(self);
      auto timeout = to_ns(st.cfg->down_timeout);
      if (st.remote && now - st.last_seen_ns >= timeout) {
        if (st.status.up) {
          st.status.up = false;
          st.status.last_error = "stale: no snapshot within down_timeout";
          report(self);
        }
        if (now - st.last_poke_ns >= timeout)
          poke(self);
      }
      self->delayed_send(self, check_period, check_atom::value);
    },
  };
}

// -- cluster source ------------------------------------------------------------

// What the collector's monitor reads each tick: the nodes' latest snapshots merged
// (cluster_view.hpp) plus the collector's own metron_cluster_* series. The front
// actor writes (link reports), the monitor's aggregator reads (take), both under
// the mutex; take() holds it for one merge, writers for a pointer swap.
class cluster_source final : public snapshot_source {
public:
  explicit cluster_source(config_ptr cfg) : cfg_(std::move(cfg)) {
    for (auto& ep : cfg_->nodes) {
      nodes_.push_back({to_string(ep), false, nullptr, {}});
      node_status ns;
      ns.node = to_string(ep);
      status_.push_back(std::move(ns));
      merge_errors_.push_back(0);
    }
  }

  std::optional<snapshot> take() override {
    std::lock_guard guard{mutex_};
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      nodes_[i].up = status_[i].up;
    std::vector<std::string> skipped;
    snapshot raw = merge_cluster(nodes_, &skipped, {.per_node_series = cfg_->per_node_series});
    for (auto& name : skipped)
      for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].name == name)
          ++merge_errors_[i];
    raw.merge(self_metrics(clock_now_ns_())); // metron_cluster_* never come from nodes: no clash
    if (raw.wall_ns == 0)
      raw.wall_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    return raw;
  }

  /// The clock of the actor system (set once by the front actor).
  void set_clock(std::function<std::int64_t()> now) {
    std::lock_guard guard{mutex_};
    clock_ = std::move(now);
  }

  std::vector<node_status> status() const {
    std::lock_guard guard{mutex_};
    return status_;
  }

  void link_state(std::uint64_t i, node_status s) {
    std::lock_guard guard{mutex_};
    if (i >= status_.size())
      return;
    auto& cur = status_[i];
    auto& node = nodes_[i];
    if (!cur.incarnation.empty() && s.incarnation != cur.incarnation && node.latest) {
      // A new process behind the endpoint: its predecessor's totals keep counting.
      try {
        retire(node.retired, *node.latest);
        retire(node.retired, node.vanished);
      } catch (const std::invalid_argument&) {
        node.retired = snapshot{}; // kinds changed between incarnations: start over
        retire(node.retired, *node.latest);
      }
      node.vanished = snapshot{};
      node.latest = nullptr;
    }
    s.snapshots = cur.snapshots;
    s.last_seen_ns = cur.last_seen_ns;
    cur = std::move(s);
  }

  void link_snap(std::uint64_t i, snapshot_ptr s, std::int64_t now) {
    std::lock_guard guard{mutex_};
    if (i >= status_.size() || !s)
      return;
    if (nodes_[i].latest) // series the node retired keep their totals (cluster_view.hpp)
      track_vanished(nodes_[i].vanished, *nodes_[i].latest, *s);
    nodes_[i].latest = std::move(s);
    ++status_[i].snapshots;
    status_[i].last_seen_ns = now;
  }

private:
  std::int64_t clock_now_ns_() const { return clock_ ? clock_() : 0; }

  // The collector's own metrics (metron_cluster_*), as a sorted snapshot.
  snapshot self_metrics(std::int64_t now) const {
    snapshot s;
    auto family = [&](const char* name, metric_kind kind, const char* help) {
      s.families.push_back(family_ref::make(name, kind, help));
    };
    family("metron_cluster_node_up", metric_kind::gauge, "1 if the node is connected and sends snapshots, else 0");
    family("metron_cluster_nodes", metric_kind::gauge, "Configured nodes");
    family("metron_cluster_nodes_up", metric_kind::gauge, "Nodes up");
    family("metron_cluster_snapshots_received_total", metric_kind::counter, "Snapshots received from the node");
    family("metron_cluster_connects_total", metric_kind::counter, "Successful connects to the node");
    family("metron_cluster_connect_failures_total", metric_kind::counter, "Failed connection attempts");
    family("metron_cluster_node_restarts_total", metric_kind::counter,
           "New processes seen behind the node's endpoint");
    family("metron_cluster_merge_errors_total", metric_kind::counter,
           "Ticks the node was left out of the merge (metric kind clash)");
    family("metron_cluster_last_seen_age_seconds", metric_kind::gauge, "Time since the node's last snapshot");
    family("metron_remote_refusals_total", metric_kind::counter,
           "Connections, frames and requests the remote guards refused");
    std::sort(s.families.begin(), s.families.end(), [](auto& a, auto& b) { return a->name < b->name; });
    auto gauge = [&](const char* name, const labels& ls, double v) {
      s.gauges.push_back({{series_ref::make(name, ls, metric_kind::gauge)}, v, 0});
    };
    auto counter = [&](const char* name, const labels& ls, std::uint64_t v) {
      s.counters.push_back({{series_ref::make(name, ls, metric_kind::counter)}, v});
    };
    double up = 0;
    for (std::size_t i = 0; i < status_.size(); ++i) {
      auto& n = status_[i];
      labels ls{{node_label, n.node}};
      up += n.up ? 1 : 0;
      gauge("metron_cluster_node_up", ls, n.up ? 1.0 : 0.0);
      if (n.last_seen_ns != 0)
        gauge("metron_cluster_last_seen_age_seconds", ls, static_cast<double>(now - n.last_seen_ns) / 1e9);
      counter("metron_cluster_snapshots_received_total", ls, n.snapshots);
      counter("metron_cluster_connects_total", ls, n.connects);
      counter("metron_cluster_connect_failures_total", ls, n.connect_failures);
      counter("metron_cluster_node_restarts_total", ls, n.restarts);
      counter("metron_cluster_merge_errors_total", ls, merge_errors_[i]);
    }
    gauge("metron_cluster_nodes", {}, static_cast<double>(status_.size()));
    gauge("metron_cluster_nodes_up", {}, up);
    for (std::size_t i = 0; i < refusal_kinds; ++i) {
      auto r = static_cast<refusal>(i);
      counter("metron_remote_refusals_total", {{"reason", to_string(r)}}, cfg_->stats->refused(r));
    }
    // Two endpoints may be configured twice; merge() needs unique keys, so fold duplicates.
    auto by_key = [](auto& a, auto& b) { return a.series < b.series; };
    std::sort(s.gauges.begin(), s.gauges.end(), by_key);
    std::sort(s.counters.begin(), s.counters.end(), by_key);
    auto same = [](auto& a, auto& b) { return a.series == b.series; };
    s.gauges.erase(std::unique(s.gauges.begin(), s.gauges.end(), same), s.gauges.end());
    s.counters.erase(std::unique(s.counters.begin(), s.counters.end(), same), s.counters.end());
    return s;
  }

  config_ptr cfg_;
  mutable std::mutex mutex_;
  std::function<std::int64_t()> clock_;
  std::vector<cluster_node> nodes_;
  std::vector<node_status> status_;
  std::vector<std::uint64_t> merge_errors_;
};

// -- collector (front actor) ------------------------------------------------------

struct collector_state {
  std::shared_ptr<cluster_source> source;
  monitor_actor mon; // the pipeline: spawn_monitor over the cluster source
  static inline const char* name = "metron.remote.collector";
};

using collector_pointer = collector_impl::stateful_pointer<collector_state>;

collector_impl::behavior_type collector(collector_pointer self, config_ptr cfg) {
  auto& st = self->state;
  st.source = std::make_shared<cluster_source>(cfg);
  auto* sys = &self->system();
  st.source->set_clock([sys] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(sys->clock().now().time_since_epoch()).count();
  });
  st.mon = spawn_monitor(self->system(), source_ptr{st.source}, cfg->monitor);
  self->link_to(st.mon); // one fate: the monitor goes with the collector and vice versa
  auto me = caf::actor_cast<collector_impl>(self);
  for (std::size_t i = 0; i < cfg->nodes.size(); ++i)
    self->spawn<caf::linked>(node_link, std::uint64_t{i}, cfg->nodes[i], cfg, me);
  return {
    [=](get_atom) -> caf::delegated<report_ptr> { return self->delegate(self->state.mon, get_atom::value); },
    [=](subscribe_atom, subscriber_actor who) { self->delegate(self->state.mon, subscribe_atom::value, who); },
    [=](subscribe_atom, subscriber_actor who, std::string prefix) {
      self->delegate(self->state.mon, subscribe_atom::value, who, std::move(prefix));
    },
    [=](unsubscribe_atom, subscriber_actor who) { self->delegate(self->state.mon, unsubscribe_atom::value, who); },
    [=](subscribe_atom, caf::actor who) {
      self->delegate(self->state.mon, subscribe_atom::value, caf::actor_cast<subscriber_actor>(who));
    },
    [=](subscribe_atom, caf::actor who, std::string prefix) {
      self->delegate(self->state.mon, subscribe_atom::value, caf::actor_cast<subscriber_actor>(who), std::move(prefix));
    },
    [=](unsubscribe_atom, caf::actor who) {
      self->delegate(self->state.mon, unsubscribe_atom::value, caf::actor_cast<subscriber_actor>(who));
    },
    [=](interval_atom, caf::timespan x) -> caf::delegated<void> {
      // The monitor checks the range and answers a request with the error.
      return self->delegate(self->state.mon, interval_atom::value, x);
    },
    [=](nodes_atom) { return self->state.source->status(); },
    [=](link_state_atom, std::uint64_t i, node_status& s) { self->state.source->link_state(i, std::move(s)); },
    [=](link_snap_atom, std::uint64_t i, snapshot_ptr& s) {
      self->state.source->link_snap(i, std::move(s), now_ns(self));
    },
  };
}

} // namespace

collector_actor spawn_collector(caf::actor_system& sys, collector_config cfg) {
  if (!sys.has_middleman())
    throw std::invalid_argument("metron: the collector needs the middleman (metron::remote::configure)");
  validate(cfg.monitor); // the monitor's documented ranges (interval, credit, quantiles, windows)
  if (cfg.down_timeout.count() <= 0 || cfg.connect_timeout.count() <= 0 || cfg.reconnect_min.count() <= 0)
    throw std::invalid_argument("metron: collector timeouts must be positive");
  if (cfg.reconnect_min > cfg.reconnect_max)
    throw std::invalid_argument("metron: reconnect_min must not exceed reconnect_max");
  if (!cfg.stats)
    cfg.stats = std::make_shared<remote_stats>();
  auto impl = sys.spawn(collector, std::make_shared<const collector_config>(std::move(cfg)));
  return caf::actor_cast<collector_actor>(impl);
}

} // namespace metron::remote
