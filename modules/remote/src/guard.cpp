// The frame guard (see endpoint.hpp, publish_options::guard).
//
// Why: CAF 0.17's BASP broker sizes its read buffer from the payload_len field of a
// header before any payload arrives (basp_broker.cpp: configure_read(exactly(
// hdr.payload_len))), and zero-fills it. One 32-byte header claiming 4 GiB makes the
// node allocate and touch 4 GiB; a few such connections get it killed by the OOM
// killer. The guard is a CAF broker on the public port that relays each connection to
// the monitor's real BASP port (published on 127.0.0.1 only) and checks the client's
// stream frame by frame: an unknown operation or a payload above max_frame closes the
// connection before CAF sees the header. Everything else — handshakes, messages,
// the node's replies — passes unchanged, so the protocol stays CAF's own.
#include "guard.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

namespace metron::remote::detail {

bool frame_checker::feed(const char* data, std::size_t n) {
  while (n > 0) {
    if (payload_left_ > 0) {
      auto k = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, n));
      data += k;
      n -= k;
      payload_left_ -= k;
      continue;
    }
    auto k = std::min(header_size - filled_, n);
    std::memcpy(header_ + filled_, data, k);
    filled_ += k;
    data += k;
    n -= k;
    if (filled_ < header_size)
      break;
    filled_ = 0;
    if (header_[0] > max_operation)
      return false;
    // payload_len: bytes 4..7, network byte order (CAF's binary serializer).
    std::uint32_t len = (std::uint32_t{header_[4]} << 24) | (std::uint32_t{header_[5]} << 16)
                        | (std::uint32_t{header_[6]} << 8) | std::uint32_t{header_[7]};
    if (len > max_frame_)
      return false;
    payload_left_ = len;
  }
  return true;
}

namespace {

struct link {
  caf::io::connection_handle peer;
  bool from_client = false;     // this side is the outside peer (its bytes are checked)
  frame_checker checker{0};
};

struct guard_state {
  std::uint16_t upstream_port = 0;
  std::uint32_t max_frame = 0;
  std::size_t max_connections = 0;
  std::map<caf::io::connection_handle, link> links; // both sides of every relay
  static inline const char* name = "metron.remote.guard";
};

using guard_pointer = caf::stateful_actor<guard_state, caf::io::broker>*;

constexpr std::size_t read_chunk = 64 * 1024;

void drop(guard_pointer self, caf::io::connection_handle hdl) {
  auto& links = self->state.links;
  auto i = links.find(hdl);
  if (i == links.end())
    return;
  auto peer = i->second.peer;
  links.erase(i);
  links.erase(peer);
  self->close(hdl);
  self->close(peer);
}

} // namespace

caf::behavior guard(guard_pointer self, caf::io::doorman_ptr door, std::uint16_t upstream_port,
                    std::uint32_t max_frame, std::size_t max_connections, caf::actor_addr published) {
  auto& st = self->state;
  st.upstream_port = upstream_port;
  st.max_frame = max_frame;
  st.max_connections = max_connections;
  self->add_doorman(std::move(door));
  // The guard lives as long as the published actor (monitored, not kept alive).
  if (auto strong = caf::actor_cast<caf::actor>(published))
    self->monitor(strong);
  else
    self->quit();
  self->set_down_handler([=](caf::down_msg&) {
    self->close_all();
    self->quit();
  });
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      if (st.links.size() / 2 >= st.max_connections) {
        self->close(msg.handle);
        return;
      }
      auto up = self->add_tcp_scribe("127.0.0.1", st.upstream_port);
      if (!up) {
        self->close(msg.handle);
        return;
      }
      link client;
      client.peer = *up;
      client.from_client = true;
      client.checker = frame_checker{st.max_frame};
      link upstream;
      upstream.peer = msg.handle;
      st.links.emplace(msg.handle, std::move(client));
      st.links.emplace(*up, std::move(upstream));
      self->configure_read(msg.handle, caf::io::receive_policy::at_most(read_chunk));
      self->configure_read(*up, caf::io::receive_policy::at_most(read_chunk));
    },
    [=](caf::io::new_data_msg& msg) {
      auto& links = self->state.links;
      auto i = links.find(msg.handle);
      if (i == links.end())
        return;
      if (i->second.from_client && !i->second.checker.feed(msg.buf.data(), msg.buf.size())) {
        drop(self, msg.handle); // not BASP, or a frame larger than max_frame
        return;
      }
      auto peer = i->second.peer;
      self->write(peer, msg.buf.size(), msg.buf.data());
      self->flush(peer);
    },
    [=](const caf::io::connection_closed_msg& msg) { drop(self, msg.handle); },
    [=](const caf::io::acceptor_closed_msg&) {
      self->close_all();
      self->quit();
    },
  };
}

caf::actor spawn_guard(caf::actor_system& sys, caf::io::doorman_ptr door, std::uint16_t upstream_port,
                       std::uint32_t max_frame, std::size_t max_connections, caf::actor_addr published) {
  // Not hidden: the actor system's shutdown waits for the guard like for any actor,
  // while the multiplexer still runs, so the guard always gets to close its sockets
  // after the published actor's down message. (Hidden, it could miss that message
  // when it races with middleman::stop(), which then waits forever for its
  // listening socket.) It adds no new way to hang: the published actor is kept alive
  // by the middleman until it is told to exit, and the guard follows it.
  return sys.middleman().spawn_broker(guard, std::move(door), upstream_port, max_frame, max_connections,
                                      std::move(published));
}

} // namespace metron::remote::detail
