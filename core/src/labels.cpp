#include "metron/labels.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace metron {

namespace {

bool alpha_(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool digit(char c) noexcept { return c >= '0' && c <= '9'; }

} // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty() || !(alpha_(name[0]) || name[0] == ':'))
    return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [](char c) { return alpha_(c) || digit(c) || c == ':'; });
}

bool valid_label_key(std::string_view key) noexcept {
  if (key.empty() || !alpha_(key[0]) || key.starts_with("__"))
    return false;
  return std::all_of(key.begin() + 1, key.end(), [](char c) { return alpha_(c) || digit(c); });
}

bool valid_utf8(std::string_view text) noexcept {
  auto* p = reinterpret_cast<const unsigned char*>(text.data());
  auto* end = p + text.size();
  while (p < end) {
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t n;
    unsigned cp;
    if ((c & 0xE0) == 0xC0)
      n = 1, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
      n = 2, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
      n = 3, cp = c & 0x07;
    else
      return false; // a continuation byte or 0xF8..0xFF where a character must start
    if (static_cast<std::size_t>(end - p) <= n)
      return false;
    for (std::size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr unsigned smallest[] = {0, 0x80, 0x800, 0x10000};
    if (cp < smallest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false; // overlong, beyond Unicode, or a UTF-16 surrogate
    p += n + 1;
  }
  return true;
}

namespace detail {
std::string quoted(std::string_view text, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (text.size() > max)
    out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}
} // namespace detail

labels normalized(labels ls) {
  for (auto& [k, v] : ls) {
    if (!valid_label_key(k))
      throw std::invalid_argument("metron: invalid label key '" + detail::quoted(k)
                                  + "' (must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __)");
    if (!valid_utf8(v))
      throw std::invalid_argument("metron: the value of label '" + detail::quoted(k) + "' is not valid UTF-8: '"
                                  + detail::quoted(v) + "'");
  }
  std::sort(ls.begin(), ls.end(), [](auto& a, auto& b) { return a.first < b.first; });
  auto dup = std::adjacent_find(ls.begin(), ls.end(), [](auto& a, auto& b) { return a.first == b.first; });
  if (dup != ls.end())
    throw std::invalid_argument("metron: label key '" + detail::quoted(dup->first) + "' given twice");
  return ls;
}

} // namespace metron
