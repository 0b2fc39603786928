// Internal (not installed): the frame guard in front of a published monitor.
#pragma once

#include <cstddef>
#include <cstdint>

#include <caf/actor.hpp>
#include <caf/io/fwd.hpp>
#include <caf/io/network/native_socket.hpp>

namespace metron::remote::detail {

/// Checks a client's byte stream frame by frame (BASP: a 32-byte header, then
/// payload_len bytes). Returns false as soon as a header has an unknown operation or
/// announces more than max_frame payload bytes.
class frame_checker {
public:
  static constexpr std::size_t header_size = 32;
  static constexpr std::uint8_t max_operation = 6; // basp::message_type::heartbeat

  explicit frame_checker(std::uint32_t max_frame) : max_frame_(max_frame) {}

  bool feed(const char* data, std::size_t n);

private:
  std::uint32_t max_frame_;
  unsigned char header_[header_size] = {};
  std::size_t filled_ = 0;
  std::uint64_t payload_left_ = 0;
};

} // namespace metron::remote::detail

namespace metron::remote::detail {

/// Spawns the guard (a broker) on `door`, relaying to 127.0.0.1:upstream_port
/// until the actor `published` terminates.
caf::actor spawn_guard(caf::actor_system& sys, caf::io::doorman_ptr door, std::uint16_t upstream_port,
                       std::uint32_t max_frame, std::size_t max_connections, caf::actor_addr published);

} // namespace metron::remote::detail
