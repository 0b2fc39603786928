// Who may scrape: the client address allowlist and the basic-auth check behind
// http_server (server_config::allow, basic_auth_user / basic_auth_password).
// Internal to the module.
//
// Concurrency: both classes are immutable after construction; their const members are
// thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace metron::prometheus::detail {

/// A set of address prefixes. IPv4 entries are kept as IPv4-mapped IPv6 (::ffff:a.b.c.d
/// with the prefix length + 96), so a client reached over a dual-stack socket matches
/// the same entry.
class allowlist {
public:
  /// Parses "addr" or "addr/bits" entries; throws std::invalid_argument on a bad one.
  explicit allowlist(const std::vector<std::string>& entries);

  /// True if there are no entries (everyone allowed) or a matches one.
  bool allows(const boost::asio::ip::address& a) const noexcept;

private:
  struct prefix {
    std::array<unsigned char, 16> bytes;
    unsigned bits;
  };
  std::vector<prefix> prefixes_;
};

/// Checks an Authorization header value against configured credentials. Only the
/// SHA-256 of "user:password" is kept; a presented value is hashed and compared in
/// constant time (CRYPTO_memcmp), so timing reveals neither user nor password.
class basic_auth {
public:
  /// Disabled (every request passes) when user is empty.
  basic_auth(std::string_view user, std::string_view password);

  bool enabled() const noexcept { return enabled_; }
  /// True if auth is disabled or header is "Basic <base64 of user:password>".
  bool accepts(std::string_view authorization_header) const;

private:
  bool enabled_ = false;
  std::array<unsigned char, 32> digest_{};
};

} // namespace metron::prometheus::detail
