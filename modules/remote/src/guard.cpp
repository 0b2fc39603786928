// The BASP frame guards (guard.hpp; rules table in NOTES.md).
//
// Why: CAF 0.17's BASP broker trusts the header. It sizes its read buffer from
// payload_len before any payload arrives (4 GiB announced: 4 GiB allocated and
// zeroed); a handshake header with payload_len 0 passes basp::valid() and is then
// handled with a null payload (SIGSEGV in basp::instance::handle); and it has no
// handshake or idle timeout. Both the node that publishes and the process that
// connects are exposed, so both ends put a guard in front of CAF.
//
// How: the guard owns the outside TCP connection and one end of a socketpair whose
// other end it hands to the BASP broker (as a published connection on the server
// side, through the broker's connect_atom on the client side), so CAF has no socket
// of its own that an outsider could reach. Bytes from the outside peer go through a
// frame_stream: each header is checked against the per-direction rules before its
// payload is read, and only complete frames are written to CAF. Bytes from CAF are
// relayed unchanged; what the outside peer leaves unread is tracked (write acks). A
// periodic sweep enforces the handshake and idle timeouts and closes a peer that is
// above the backlog bound and took no byte since the previous sweep.
#include "guard.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/io/basp/version.hpp>

namespace metron::remote::detail {

// -- frame rules -----------------------------------------------------------------

namespace {

// BASP operations (caf/io/basp/message_type.hpp).
constexpr std::uint8_t op_server_handshake = 0;
constexpr std::uint8_t op_client_handshake = 1;
constexpr std::uint8_t op_direct_message = 2;
constexpr std::uint8_t op_monitor_message = 4;
constexpr std::uint8_t op_down_message = 5;
constexpr std::uint8_t op_heartbeat = 6;
constexpr std::uint8_t named_receiver_flag = 0x01;    // basp::header::named_receiver_flag
constexpr std::uint8_t select_connection_flag = 0x02; // basp::header::select_connection_flag

// Payload sizes a CAF 0.17.6 peer produces (binary serializer): a node_id is an atom
// (8 bytes) + process id (4) + host id (20).
constexpr std::uint32_t node_id_bytes = 32;
// client_handshake: one node_id.
constexpr std::uint32_t max_client_handshake = 1024;
// server_handshake: node_id, app ids, actor id (8), interface strings.
constexpr std::uint32_t min_server_handshake = node_id_bytes + 1 + 8 + 1;
constexpr std::uint32_t max_server_handshake = 64 * 1024;
// monitor_message: two node_ids; down_message: two node_ids and the exit reason.
constexpr std::uint32_t max_monitor_message = 1024;
constexpr std::uint32_t max_down_message = 64 * 1024;
// The spawn-server probe: a small message (45 bytes from CAF 0.17.6).
constexpr std::uint32_t max_named_message = 1024;

constexpr bool within(std::uint32_t x, std::uint32_t lo, std::uint32_t hi) {
  return x >= lo && x <= hi;
}

std::uint64_t be(const unsigned char* p, int n) {
  std::uint64_t x = 0;
  for (int i = 0; i < n; ++i)
    x = (x << 8) | p[i];
  return x;
}

// What both sides send once connected: messages, proxy bookkeeping, heartbeats.
// (routed_message is never sent between two directly connected metron peers.)
bool connected_frame(const frame_header& h, std::uint32_t max_payload) {
  switch (h.operation) {
    case op_direct_message:
      return h.flags == 0 && h.dest_actor != 0 && within(h.payload_len, 1, max_payload);
    case op_monitor_message:
      return h.flags == 0 && h.operation_data == 0 && h.source_actor == 0 && h.dest_actor != 0
             && within(h.payload_len, 2 * node_id_bytes, max_monitor_message);
    case op_down_message:
      return h.flags == 0 && h.operation_data == 0 && h.source_actor != 0 && h.dest_actor == 0
             && within(h.payload_len, 2 * node_id_bytes, max_down_message);
    case op_heartbeat:
      return h.flags == 0 && h.payload_len == 0 && h.operation_data == 0 && h.source_actor == 0
             && h.dest_actor == 0;
    default:
      return false;
  }
}

// The one message to a named receiver a CAF peer sends per new node: its spawn-server
// probe (basp_broker::learned_new_node: (sys_atom, get_atom, "info") to "SpawnServ").
bool spawn_server_probe(const frame_header& h) {
  return h.operation == op_direct_message && h.flags == named_receiver_flag
         && h.dest_actor == static_cast<std::uint64_t>(caf::atom("SpawnServ"))
         && within(h.payload_len, 1, max_named_message);
}

bool client_handshake(const frame_header& h, std::uint8_t flags) {
  return h.operation == op_client_handshake && h.flags == flags && h.operation_data == 0
         && h.source_actor == 0 && h.dest_actor == 0
         && within(h.payload_len, node_id_bytes, max_client_handshake);
}

} // namespace

frame_header frame_header::parse(const unsigned char* p) noexcept {
  frame_header h;
  h.operation = p[0];
  h.padding1 = p[1];
  h.padding2 = p[2];
  h.flags = p[3];
  h.payload_len = static_cast<std::uint32_t>(be(p + 4, 4));
  h.operation_data = be(p + 8, 8);
  h.source_actor = be(p + 16, 8);
  h.dest_actor = be(p + 24, 8);
  return h;
}

bool frame_rules::accept_client_frame(const frame_header& h) noexcept {
  // First the handshake; after the server's, the client repeats it once with
  // select_connection_flag (basp::instance::handle, server_handshake case).
  if (frames_ == 0)
    return client_handshake(h, 0);
  if (h.operation == op_client_handshake) {
    if (reselected_ || !client_handshake(h, select_connection_flag))
      return false;
    reselected_ = true;
    return true;
  }
  return connected_frame(h, max_payload_) || probe_once(h);
}

bool frame_rules::probe_once(const frame_header& h) noexcept {
  if (probed_ || !spawn_server_probe(h))
    return false;
  probed_ = true;
  return true;
}

bool frame_rules::accept_server_frame(const frame_header& h) noexcept {
  if (frames_ == 0)
    return h.operation == op_server_handshake && h.flags == 0 && h.operation_data == caf::io::basp::version
           && h.source_actor == 0 && h.dest_actor == 0
           && within(h.payload_len, min_server_handshake, max_server_handshake);
  return connected_frame(h, max_payload_) || probe_once(h);
}

bool frame_rules::accept(const frame_header& h) noexcept {
  if (h.padding1 != 0 || h.padding2 != 0)
    return false;
  bool ok = dir_ == direction::client_to_server ? accept_client_frame(h) : accept_server_frame(h);
  if (ok)
    ++frames_;
  return ok;
}

bool frame_stream::feed(const char* data, std::size_t n, std::vector<char>& out) {
  while (n > 0) {
    auto k = std::min(need_ - partial_.size(), n);
    partial_.insert(partial_.end(), data, data + k); // grows with what arrived, never to what is announced
    data += k;
    n -= k;
    if (partial_.size() < need_)
      break;
    if (!header_checked_) {
      auto h = frame_header::parse(reinterpret_cast<const unsigned char*>(partial_.data()));
      if (!rules_.accept(h))
        return false;
      header_checked_ = true;
      need_ = frame_header::size + h.payload_len;
      if (h.payload_len > 0)
        continue;
    }
    out.insert(out.end(), partial_.begin(), partial_.end());
    handshake_done_ = true; // the first complete frame is the handshake (rules)
    partial_.clear();
    if (partial_.capacity() > 64 * 1024)
      std::vector<char>{}.swap(partial_); // do not keep a large frame's buffer per idle peer
    need_ = frame_header::size;
    header_checked_ = false;
  }
  return true;
}

// -- the guard broker ------------------------------------------------------------

namespace {

using sweep_atom = caf::atom_constant<caf::atom("gsweep")>;

// Read buffers (CAF allocates them per connection up front): a published port's
// many peers send small frames, so its buffers are small; a connecting process has
// one connection per node and receives whole snapshots.
constexpr std::size_t server_outside_chunk = 4 * 1024;
constexpr std::size_t server_inside_chunk = 16 * 1024;
constexpr std::size_t client_chunk = 64 * 1024;

struct side {
  caf::io::connection_handle peer;      // the other end of the relay
  std::unique_ptr<frame_stream> frames; // set on the outside side: checks what it sends
  caf::actor_clock::time_point opened;
  caf::actor_clock::time_point last_rx;
  std::uint64_t backlog = 0;            // outside side: bytes written to it, not yet sent
  bool progressed = false;              // outside side: the peer took bytes since the last sweep
};

struct guard_state {
  direction dir = direction::client_to_server;
  guard_limits limits;
  std::map<caf::io::connection_handle, side> sides; // both ends of every relay
  std::size_t outside = 0;                           // relays (outside connections)
  std::size_t held = 0;                              // partial-frame bytes of all peers
  // Server guard only: where accepted connections go.
  std::uint16_t port = 0;
  caf::strong_actor_ptr published;
  std::set<std::string> sigs;
  caf::actor basp;
  static inline const char* name = "metron.remote.guard";
};

using guard_pointer = caf::stateful_actor<guard_state, caf::io::broker>*;

void count(guard_pointer self, refusal r) {
  if (self->state.limits.stats)
    self->state.limits.stats->count(r);
}

// Closes both ends of the relay `hdl` belongs to. A client guard serves one relay.
void drop(guard_pointer self, caf::io::connection_handle hdl) {
  auto& st = self->state;
  auto i = st.sides.find(hdl);
  if (i == st.sides.end())
    return;
  auto peer = i->second.peer;
  for (auto h : {hdl, peer}) {
    auto j = st.sides.find(h);
    if (j == st.sides.end())
      continue;
    if (j->second.frames) {
      st.held -= j->second.frames->held();
      --st.outside;
    }
    st.sides.erase(j);
    self->close(h);
  }
  if (st.dir == direction::server_to_client)
    self->quit();
}

void refuse(guard_pointer self, caf::io::connection_handle hdl, refusal why) {
  count(self, why);
  drop(self, hdl);
}

// Wires an outside connection and CAF's end of the socketpair into one relay.
void relay(guard_pointer self, caf::io::connection_handle outside, caf::io::connection_handle inside) {
  auto& st = self->state;
  auto now = self->clock().now();
  side out;
  out.peer = inside;
  out.frames = std::make_unique<frame_stream>(st.dir, st.limits.max_frame);
  out.opened = out.last_rx = now;
  side in;
  in.peer = outside;
  in.opened = in.last_rx = now;
  st.sides.emplace(outside, std::move(out));
  st.sides.emplace(inside, std::move(in));
  ++st.outside;
  bool server = st.dir == direction::client_to_server;
  self->configure_read(outside, caf::io::receive_policy::at_most(server ? server_outside_chunk : client_chunk));
  self->configure_read(inside, caf::io::receive_policy::at_most(server ? server_inside_chunk : client_chunk));
  self->ack_writes(outside, true); // data_transferred_msg: the outside peer's backlog
}

void sweep(guard_pointer self) {
  auto& st = self->state;
  auto now = self->clock().now();
  std::vector<std::pair<caf::io::connection_handle, refusal>> late;
  for (auto& [hdl, s] : st.sides) {
    if (!s.frames)
      continue;
    if (!s.frames->handshake_done()) {
      if (now - s.opened >= st.limits.handshake_timeout)
        late.emplace_back(hdl, refusal::handshake_timeout);
    } else if (st.limits.idle_timeout.count() > 0 && now - s.last_rx >= st.limits.idle_timeout) {
      late.emplace_back(hdl, refusal::idle_timeout);
    } else if (s.backlog > st.limits.max_backlog && !s.progressed) {
      // A fan-out burst may exceed the bound while the peer reads; a peer that took
      // nothing for a whole sweep period while above it is not reading.
      late.emplace_back(hdl, refusal::backlog);
    }
    s.progressed = false;
  }
  for (auto& [hdl, why] : late)
    refuse(self, hdl, why);
}

std::chrono::milliseconds sweep_period(const guard_limits& limits) {
  auto t = limits.handshake_timeout;
  if (limits.idle_timeout.count() > 0)
    t = std::min(t, limits.idle_timeout);
  return std::max(std::chrono::milliseconds{10}, t / 4);
}

caf::message_handler relay_handler(guard_pointer self) {
  auto period = sweep_period(self->state.limits);
  self->delayed_send(self, period, sweep_atom::value);
  return {
    [=](caf::io::new_data_msg& msg) {
      auto& st = self->state;
      auto i = st.sides.find(msg.handle);
      if (i == st.sides.end())
        return;
      auto& s = i->second;
      auto peer = s.peer;
      if (!s.frames) { // from CAF: relay as is, bound what the outside peer leaves unread
        auto j = st.sides.find(peer);
        if (j == st.sides.end())
          return;
        self->write(peer, msg.buf.size(), msg.buf.data());
        self->flush(peer);
        j->second.backlog += msg.buf.size(); // judged by the sweep: bursts are normal
        return;
      }
      s.last_rx = self->clock().now();
      auto before = s.frames->held();
      std::vector<char> out;
      bool ok = s.frames->feed(msg.buf.data(), msg.buf.size(), out);
      st.held = st.held - before + s.frames->held();
      if (!ok)
        return refuse(self, msg.handle, refusal::bad_frame);
      if (st.held > st.limits.partial_budget)
        return refuse(self, msg.handle, refusal::memory_budget);
      if (!out.empty()) {
        self->write(peer, out.size(), out.data());
        self->flush(peer);
      }
    },
    [=](const caf::io::data_transferred_msg& msg) {
      auto i = self->state.sides.find(msg.handle);
      if (i != self->state.sides.end()) {
        i->second.backlog = msg.remaining;
        i->second.progressed = true;
      }
    },
    [=](const caf::io::connection_closed_msg& msg) { drop(self, msg.handle); },
    [=](sweep_atom) {
      sweep(self);
      self->delayed_send(self, period, sweep_atom::value);
    },
  };
}

caf::behavior server_guard(guard_pointer self, caf::io::doorman_ptr door, std::uint16_t port,
                           caf::actor published, std::set<std::string> sigs, guard_limits limits) {
  auto& st = self->state;
  st.dir = direction::client_to_server;
  st.limits = std::move(limits);
  st.port = port;
  st.published = caf::actor_cast<caf::strong_actor_ptr>(published);
  st.sigs = std::move(sigs);
  st.basp = self->system().middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  self->add_doorman(std::move(door));
  // The guard lives as long as the published actor (monitored, not kept alive by
  // this monitor; the BASP broker's registry entry keeps it, as for any published actor).
  self->monitor(published);
  self->set_down_handler([=](caf::down_msg&) {
    self->state.published = nullptr;
    self->close_all();
    self->quit();
  });
  return relay_handler(self).or_else(
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      if (st.outside >= st.limits.max_connections || !st.published) {
        count(self, refusal::connection_limit);
        self->close(msg.handle);
        return;
      }
      int fds[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        self->close(msg.handle);
        return;
      }
      auto inside = self->add_scribe(fds[0]);
      auto basp_end = self->system().middleman().backend().new_scribe(fds[1]);
      relay(self, msg.handle, inside);
      // CAF's "connection without a doorman" entry point: the BASP broker adds the
      // scribe, maps `port` to the published actor and writes its server handshake.
      self->send(st.basp, caf::publish_atom::value, std::move(basp_end), st.port, st.published, st.sigs);
    },
    [=](const caf::io::acceptor_closed_msg&) {
      self->close_all();
      self->quit();
    });
}

caf::behavior client_guard(guard_pointer self, caf::io::network::native_socket remote,
                           caf::io::network::native_socket inside, guard_limits limits) {
  auto& st = self->state;
  st.dir = direction::server_to_client;
  st.limits = std::move(limits);
  auto out = self->add_scribe(remote);
  auto in = self->add_scribe(inside);
  relay(self, out, in);
  return relay_handler(self);
}

} // namespace

// A TCP connection to host:port, bounded by `timeout` (not counting name lookup).
caf::expected<int> tcp_connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  auto service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0)
    return caf::make_error(caf::sec::cannot_connect_to_node, "no such host", host, port);
  std::string why = "connection refused";
  int result = -1;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto* ai = res; ai != nullptr && result < 0; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
      continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLOUT, 0};
      int err = ETIMEDOUT;
      if (left.count() > 0 && poll(&p, 1, static_cast<int>(left.count())) == 1) {
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      result = fd;
    } else {
      why = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(res);
  if (result < 0)
    return caf::make_error(caf::sec::cannot_connect_to_node, why, host, port);
  return result;
}

caf::actor spawn_tcp_connector(caf::actor_system& sys, std::string host, std::uint16_t port,
                               std::chrono::milliseconds timeout) {
  // Detached: the connect (and the name lookup) blocks this helper's own thread only.
  return sys.spawn<caf::detached>([=](caf::event_based_actor* self) -> caf::behavior {
    return {
      [=](caf::connect_atom) -> caf::result<int> {
        self->quit();
        auto fd = tcp_connect(host, port, timeout);
        if (!fd)
          return std::move(fd.error());
        return *fd;
      },
    };
  });
}

caf::expected<client_link> start_client_guard(caf::actor_system& sys, int fd, guard_limits limits) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    ::close(fd);
    return caf::make_error(caf::sec::cannot_connect_to_node, "socketpair failed");
  }
  auto& mm = sys.middleman();
  client_link out;
  // Hidden: the actor system's shutdown does not wait for it (it would wait until the
  // peer closes the connection: its idle timeout, or never while reports flow). The
  // middleman's stop then ends the BASP broker, which closes its end of the socket
  // pair; the guard sees that, closes the TCP connection and quits, and the
  // multiplexer finishes. (A link of the collector also ends its guard when it ends.)
  out.guard = mm.spawn_broker<caf::hidden>(client_guard, fd, fds[0], std::move(limits));
  out.basp_end = mm.backend().new_scribe(fds[1]);
  return out;
}

caf::actor basp_broker(caf::actor_system& sys) {
  return sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
}

guard_limits client_limits(const connect_options& opts) {
  guard_limits l;
  l.max_frame = opts.max_frame;
  l.max_connections = 1;
  // One frame in flight; the buffer grows by doubling, so up to twice its size.
  l.partial_budget = 2 * (std::size_t{opts.max_frame} + frame_header::size);
  l.handshake_timeout = opts.timeout;
  l.idle_timeout = std::chrono::milliseconds{0};
  l.stats = opts.stats;
  return l;
}

caf::actor spawn_server_guard(caf::actor_system& sys, caf::io::doorman_ptr door, std::uint16_t port,
                              caf::actor published, std::set<std::string> sigs, guard_limits limits) {
  // Not hidden: the actor system's shutdown waits for the guard like for any actor,
  // while the multiplexer still runs, so the guard always gets to close its sockets
  // after the published actor's down message. (Hidden, it could miss that message
  // when it races with middleman::stop(), which then waits forever for its
  // listening socket.) It adds no new way to hang: the published actor is kept alive
  // by the middleman until it is told to exit, and the guard follows it.
  return sys.middleman().spawn_broker(server_guard, std::move(door), port, std::move(published), std::move(sigs),
                                      std::move(limits));
}

} // namespace metron::remote::detail
