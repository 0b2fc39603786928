// metron/remote/tls.hpp — remote links over TLS with mutual certificate
// authentication (metron::remote_tls, on CAF's OpenSSL module libcaf_openssl), so only
// peers holding a certificate from the cluster's CA get in.
//
//   caf::actor_system_config cfg;
//   metron::remote::configure(cfg);                            // middleman, types
//   metron::remote::configure_tls(cfg, {.certificate = "node.pem",
//                                       .private_key = "node.key", .ca_file = "ca.pem"});
//   caf::actor_system sys{cfg};
//   auto port = metron::remote::publish_tls(sys, mon, 4242, "0.0.0.0");   // a node
//   auto mon = metron::remote::connect_tls(sys, "10.0.0.1", 4242);        // a peer
//   cc.connector = metron::remote::tls_connector(sys);   // a collector over TLS
//
// What is verified (CAF 0.17.6 libcaf_openssl, session.cpp, when any openssl.* option is
// set): both ends present a certificate and verify the other's with
// SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT against ca_file (chain, signatures,
// validity dates; TLS 1.2 ciphers "HIGH:!aNULL:!MD5", TLS 1.3 with OpenSSL's
// defaults). A peer without a certificate, with one from another CA, or speaking
// plain BASP fails the TLS handshake; its bytes never reach BASP. Not verified: the
// peer's name (no host name, CN or SAN check: any certificate of the CA is accepted in
// any role), revocation (no CRL). The TLS settings are per actor system: every TLS
// link of the system uses the same certificate and CA. CAF loads the files again for
// every connection, so configure_tls hands it in-memory copies of what it checked:
// changing or removing the files later changes nothing (renewal needs a restart).
// docs/remote-tls.md has the details.
//
// TLS and the frame guard (endpoint.hpp): TLS terminates inside CAF, in front of its
// BASP broker, so the guard's plain-TCP relay cannot read the frames and publish_tls
// has no guard. What a certified peer sends goes to BASP unchecked: a certified but
// hostile peer (or a stolen key) can do all that a BASP peer can, including the
// oversized-header allocation the guard stops on plain ports. TLS decides who may
// connect, not what a connected peer may do.
//
// Concurrency: configure_tls before the actor system exists, from one thread; the
// other calls are thread-safe (the middleman serializes the work). publish_tls and
// connect_tls block the calling thread (see endpoint.hpp: not from an event-based
// actor's handler).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman_actor.hpp>

#include "metron/actors/monitor.hpp"

namespace metron::remote {

/// This process's identity and the CA it trusts; PEM file paths.
struct tls_options {
  /// This process's certificate, signed by the cluster CA (leaf first, then any
  /// intermediates).
  std::string certificate;
  /// The private key of `certificate`.
  std::string private_key;
  /// Passphrase of an encrypted private_key; empty if it is not encrypted.
  std::string passphrase;
  /// The cluster CA certificate(s): a peer's certificate must chain to one of them.
  std::string ca_file;
};

/// Loads CAF's OpenSSL module (caf::openssl::manager) and points its openssl.*
/// options at in-memory copies (memfds, open for the life of the process) of the files
/// in `opts`. Throws std::invalid_argument saying why unless every file is readable
/// PEM of at most 1 MiB, the key matches the certificate (passphrase applied) and the
/// certificate verifies against ca_file. Reads the files; call once per config, after
/// configure(cfg) (the OpenSSL module needs the middleman).
caf::actor_system_config& configure_tls(caf::actor_system_config& cfg, const tls_options& opts);

/// publish() over TLS (no frame guard, see the file comment): `mon` on addr:port, the
/// bound port returned (0: the OS picks). Throws std::runtime_error if it cannot bind.
std::uint16_t publish_tls(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                          const char* addr = "127.0.0.1", bool reuse = true);

/// connect() over TLS, bounded: fails with CAF's error if the TCP connect, the TLS
/// handshake (a refused certificate closes the connection) or the BASP handshake
/// fails, or with sec::request_timeout after `timeout`.
caf::expected<monitor_actor> connect_tls(caf::actor_system& sys, const std::string& host,
                                         std::uint16_t port,
                                         std::chrono::milliseconds timeout = std::chrono::seconds{10});

/// The middleman actor that connects over TLS, for collector_config::connector.
caf::io::middleman_actor tls_connector(caf::actor_system& sys);

} // namespace metron::remote
