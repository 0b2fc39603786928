#include "metron/labels.hpp"

#include <algorithm>
#include <stdexcept>

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

labels normalized(labels ls) {
  for (auto& [k, v] : ls)
    if (!valid_label_key(k))
      throw std::invalid_argument("metron: invalid label key '" + k
                                  + "' (must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __)");
  std::sort(ls.begin(), ls.end(), [](auto& a, auto& b) { return a.first < b.first; });
  auto dup = std::adjacent_find(ls.begin(), ls.end(), [](auto& a, auto& b) { return a.first == b.first; });
  if (dup != ls.end())
    throw std::invalid_argument("metron: label key '" + dup->first + "' given twice");
  return ls;
}

} // namespace metron
