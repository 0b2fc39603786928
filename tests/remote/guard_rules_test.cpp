// The per-direction BASP frame rules of the remote guards (modules/remote/src/guard.hpp,
// table in modules/remote/NOTES.md), checked header by header without sockets; and the
// frame stream that releases only complete, checked frames.
#include <gtest/gtest.h>

#include <caf/atom.hpp>

#include "guard.hpp"
#include "raw_peer.hpp"

namespace {

using metron::remote::detail::direction;
using metron::remote::detail::frame_header;
using metron::remote::detail::frame_rules;
using metron::remote::detail::frame_stream;
using namespace metron_test; // basp_header, bytes and their operator+

constexpr std::uint32_t max_payload = 1u << 20;
const std::uint64_t spawn_serv = static_cast<std::uint64_t>(caf::atom("SpawnServ"));

frame_header hdr(std::uint8_t op, std::uint8_t flags, std::uint32_t len, std::uint64_t data = 0,
                 std::uint64_t src = 0, std::uint64_t dst = 0) {
  auto b = basp_header(op, flags, len, data, src, dst);
  return frame_header::parse(reinterpret_cast<const unsigned char*>(b.data()));
}

frame_header client_hello() {
  return hdr(1, 0, 32);
}

frame_header server_hello() {
  return hdr(0, 0, 297, 3);
}

// Rules in the state after the peer's handshake.
frame_rules greeted(direction dir) {
  frame_rules r{dir, max_payload};
  EXPECT_TRUE(r.accept(dir == direction::client_to_server ? client_hello() : server_hello()));
  return r;
}

TEST(guard_rules, the_frames_of_issue_11_are_refused_in_both_directions) {
  for (auto dir : {direction::client_to_server, direction::server_to_client}) {
    // 0x01 followed by 31 zero bytes: a client handshake without payload.
    EXPECT_FALSE((frame_rules{dir, max_payload}.accept(hdr(1, 0, 0))));
    EXPECT_FALSE(greeted(dir).accept(hdr(1, 0, 0)));
    // A server handshake with operation data and no payload.
    EXPECT_FALSE((frame_rules{dir, max_payload}.accept(hdr(0, 0, 0, 3))));
    EXPECT_FALSE(greeted(dir).accept(hdr(0, 0, 0, 3)));
  }
}

TEST(guard_rules, a_client_must_start_with_its_handshake_and_may_reselect_once) {
  frame_rules fresh{direction::client_to_server, max_payload};
  EXPECT_FALSE(fresh.accept(hdr(2, 0, 10, 1, 1, 7)));      // a message before the handshake
  EXPECT_FALSE(fresh.accept(hdr(6, 0, 0)));                // a heartbeat before it
  EXPECT_FALSE(fresh.accept(server_hello()));              // the server's handshake
  EXPECT_FALSE(fresh.accept(hdr(1, 0, 31)));               // shorter than a node id
  EXPECT_FALSE(fresh.accept(hdr(1, 0, 1025)));             // longer than a client sends
  EXPECT_FALSE(fresh.accept(hdr(1, 2, 32)));               // reselect before the first
  EXPECT_FALSE(fresh.accept(hdr(1, 0, 32, 0, 5, 0)));      // actor ids in a handshake
  EXPECT_FALSE(fresh.greeted());
  EXPECT_TRUE(fresh.accept(client_hello()));
  EXPECT_TRUE(fresh.greeted());
  EXPECT_FALSE(fresh.accept(client_hello()));              // a second plain handshake
  EXPECT_TRUE(fresh.accept(hdr(1, 2, 32)));                // select_connection, once
  EXPECT_FALSE(fresh.accept(hdr(1, 2, 32)));
}

TEST(guard_rules, a_server_must_start_with_its_handshake_of_this_basp_version) {
  frame_rules fresh{direction::server_to_client, max_payload};
  EXPECT_FALSE(fresh.accept(client_hello()));
  EXPECT_FALSE(fresh.accept(hdr(0, 0, 297, 2)));           // another BASP version
  EXPECT_FALSE(fresh.accept(hdr(0, 0, 41, 3)));            // too short for its fields
  EXPECT_FALSE(fresh.accept(hdr(0, 0, 65537, 3)));         // longer than a server sends
  EXPECT_FALSE(fresh.accept(hdr(0, 1, 297, 3)));           // flags
  EXPECT_TRUE(fresh.accept(server_hello()));
  EXPECT_FALSE(fresh.accept(server_hello()));              // only once
  EXPECT_FALSE(fresh.accept(client_hello()));              // servers never send it
}

TEST(guard_rules, connected_peers_may_send_messages_proxy_bookkeeping_and_heartbeats_only) {
  for (auto dir : {direction::client_to_server, direction::server_to_client}) {
    SCOPED_TRACE(dir == direction::client_to_server ? "client -> server" : "server -> client");
    auto r = greeted(dir);
    // direct_message: a destination and 1..max_payload bytes.
    EXPECT_TRUE(r.accept(hdr(2, 0, 21, 42, 10, 7)));
    EXPECT_TRUE(r.accept(hdr(2, 0, max_payload, 42, 0, 7)));
    EXPECT_FALSE(r.accept(hdr(2, 0, max_payload + 1, 42, 10, 7)));
    EXPECT_FALSE(r.accept(hdr(2, 0, 0, 42, 10, 7)));
    EXPECT_FALSE(r.accept(hdr(2, 0, 21, 42, 10, 0)));
    // routed_message: never between directly connected metron peers.
    EXPECT_FALSE(r.accept(hdr(3, 0, 100, 42, 10, 7)));
    // monitor_message: two node ids, a destination actor.
    EXPECT_TRUE(r.accept(hdr(4, 0, 64, 0, 0, 7)));
    EXPECT_FALSE(r.accept(hdr(4, 0, 63, 0, 0, 7)));
    EXPECT_FALSE(r.accept(hdr(4, 0, 1025, 0, 0, 7)));
    EXPECT_FALSE(r.accept(hdr(4, 0, 64, 1, 0, 7)));
    // down_message: two node ids and a reason, a source actor.
    EXPECT_TRUE(r.accept(hdr(5, 0, 79, 0, 10, 0)));
    EXPECT_FALSE(r.accept(hdr(5, 0, 79, 0, 0, 0)));
    EXPECT_FALSE(r.accept(hdr(5, 0, 0, 0, 10, 0)));
    // heartbeat: nothing but the operation.
    EXPECT_TRUE(r.accept(hdr(6, 0, 0)));
    EXPECT_FALSE(r.accept(hdr(6, 0, 1)));
    EXPECT_FALSE(r.accept(hdr(6, 0, 0, 1)));
    // Unknown operations, padding.
    EXPECT_FALSE(r.accept(hdr(7, 0, 10, 0, 0, 7)));
    EXPECT_FALSE(r.accept(hdr(255, 0, 0)));
    auto padded = basp_header(6, 0, 0);
    padded[1] = 1;
    EXPECT_FALSE(r.accept(frame_header::parse(reinterpret_cast<const unsigned char*>(padded.data()))));
    // Named receivers: the spawn server's probe, once per connection.
    EXPECT_FALSE(r.accept(hdr(2, 1, 45, 1, 9, static_cast<std::uint64_t>(caf::atom("ConfigServ")))));
    EXPECT_TRUE(r.accept(hdr(2, 1, 45, 1, 9, spawn_serv)));
    EXPECT_FALSE(r.accept(hdr(2, 1, 45, 1, 9, spawn_serv)));
  }
}

TEST(guard_rules, the_stream_releases_complete_frames_only_and_holds_what_arrived) {
  frame_stream fs{direction::client_to_server, max_payload};
  std::vector<char> out;
  auto hello = basp_header(1, 0, 32) + metron_test::bytes(32, 'n');
  // Byte by byte: nothing is released before the last byte of the frame.
  for (std::size_t i = 0; i + 1 < hello.size(); ++i)
    ASSERT_TRUE(fs.feed(hello.data() + i, 1, out));
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(fs.handshake_done());
  ASSERT_TRUE(fs.feed(hello.data() + hello.size() - 1, 1, out));
  EXPECT_EQ(out, hello);
  EXPECT_TRUE(fs.handshake_done());
  // A frame announcing 1 MiB of which 100 bytes arrived costs about 100 bytes.
  out.clear();
  auto big = basp_header(2, 0, max_payload, 1, 2, 7) + metron_test::bytes(100, 'x');
  ASSERT_TRUE(fs.feed(big.data(), big.size(), out));
  EXPECT_TRUE(out.empty());
  EXPECT_LT(fs.held(), 4096u);
  // Two frames and the start of a third in one chunk: two released, then a bad header.
  frame_stream two{direction::client_to_server, max_payload};
  auto chunk = hello + basp_header(6, 0, 0) + metron_test::bytes{1, 0};
  ASSERT_TRUE(two.feed(chunk.data(), chunk.size(), out));
  EXPECT_EQ(out.size(), hello.size() + 32);
  auto rest = metron_test::bytes(30, 0); // completes a client handshake without payload
  EXPECT_FALSE(two.feed(rest.data(), rest.size(), out));
}

} // namespace
