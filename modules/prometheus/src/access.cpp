#include "access.hpp"

#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace metron::prometheus::detail {

namespace asio = boost::asio;

namespace {

std::array<unsigned char, 16> mapped_bytes(const asio::ip::address& a) {
  if (a.is_v4())
    return asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()).to_bytes();
  return a.to_v6().to_bytes();
}

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  if (!EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) || len != out.size())
    throw std::runtime_error("metron::prometheus: SHA-256 failed");
  return out;
}

// Standard base64 (RFC 4648, padding required); false on anything else.
bool base64_decode(std::string_view in, std::string& out) {
  if (in.size() % 4 != 0)
    return false;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  out.clear();
  for (std::size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad || (v[k] = value(c)) < 0) {
        return false;
      }
    }
    std::uint32_t n = (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
                      (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
    out += static_cast<char>(n >> 16);
    if (pad < 2)
      out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1)
      out += static_cast<char>(n & 0xFF);
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

} // namespace

allowlist::allowlist(const std::vector<std::string>& entries) {
  for (auto& e : entries) {
    auto slash = e.find('/');
    boost::system::error_code ec;
    auto a = asio::ip::make_address(e.substr(0, slash), ec);
    if (ec)
      throw std::invalid_argument("metron::prometheus: allow entry '" + e + "' is not an address");
    unsigned max_bits = a.is_v4() ? 32 : 128;
    unsigned bits = max_bits;
    if (slash != std::string::npos) {
      auto digits = e.substr(slash + 1);
      if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(digits) > max_bits)
        throw std::invalid_argument("metron::prometheus: allow entry '" + e + "' has a bad prefix length");
      bits = static_cast<unsigned>(std::stoul(digits));
    }
    prefixes_.push_back({mapped_bytes(a), a.is_v4() ? bits + 96 : bits});
  }
}

bool allowlist::allows(const asio::ip::address& a) const noexcept {
  if (prefixes_.empty())
    return true;
  auto bytes = mapped_bytes(a);
  for (auto& p : prefixes_) {
    unsigned full = p.bits / 8, rest = p.bits % 8;
    bool match = std::equal(bytes.begin(), bytes.begin() + full, p.bytes.begin());
    if (match && rest) {
      auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
      match = (bytes[full] & mask) == (p.bytes[full] & mask);
    }
    if (match)
      return true;
  }
  return false;
}

basic_auth::basic_auth(std::string_view user, std::string_view password) : enabled_(!user.empty()) {
  if (enabled_) {
    std::string joined{user};
    joined += ':';
    joined += password;
    digest_ = sha256(joined);
    OPENSSL_cleanse(joined.data(), joined.size());
  }
}

bool basic_auth::accepts(std::string_view header) const {
  if (!enabled_)
    return true;
  auto space = header.find(' ');
  if (space == std::string_view::npos || !iequals(header.substr(0, space), "basic"))
    return false;
  auto encoded = header.substr(space + 1);
  while (!encoded.empty() && encoded.front() == ' ')
    encoded.remove_prefix(1);
  std::string decoded;
  if (!base64_decode(encoded, decoded))
    return false;
  auto presented = sha256(decoded);
  OPENSSL_cleanse(decoded.data(), decoded.size());
  return CRYPTO_memcmp(presented.data(), digest_.data(), digest_.size()) == 0;
}

} // namespace metron::prometheus::detail
