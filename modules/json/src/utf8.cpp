#include "metron/json/utf8.hpp"

#include <cstdint>

namespace metron::utf8 {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD
constexpr char hex[] = "0123456789abcdef";

void append_escaped_byte(std::string& out, unsigned char b) {
  out += replacement;
  out += hex[b >> 4];
  out += hex[b & 15];
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

} // namespace

std::size_t sequence_length(std::string_view s, std::size_t i) noexcept {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  std::size_t n;
  std::uint32_t cp;
  if (c < 0x80)
    return 1;
  if ((c & 0xE0) == 0xC0)
    n = 2, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0)
    n = 3, cp = c & 0x0F;
  else if ((c & 0xF8) == 0xF0)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (i + n > s.size())
    return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  static constexpr std::uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

bool valid(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = sequence_length(s, i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

bool needs_no_repair(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = sequence_length(s, i);
    if (n == 0 || s.substr(i, n) == replacement)
      return false;
    i += n;
  }
  return true;
}

void append_repaired(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = sequence_length(s, i);
    if (n == 0) {
      append_escaped_byte(out, static_cast<unsigned char>(s[i++]));
    } else if (s.substr(i, n) == replacement) {
      for (char c : replacement)
        append_escaped_byte(out, static_cast<unsigned char>(c));
      i += n;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
}

std::string repair(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_repaired(out, s);
  return out;
}

std::string unrepair(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s.substr(i, replacement.size()) == replacement && i + 5 <= s.size()) {
      int hi = hex_value(s[i + 3]);
      int lo = hex_value(s[i + 4]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 5;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

} // namespace metron::utf8
