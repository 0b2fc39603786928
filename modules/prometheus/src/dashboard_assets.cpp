#include "dashboard_assets.hpp"

#include <array>
#include <vector>

namespace metron::prometheus::detail {

namespace {

std::string_view type_of(std::string_view name) noexcept {
  auto ends_with = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends_with(".html"))
    return "text/html; charset=utf-8";
  if (ends_with(".css"))
    return "text/css; charset=utf-8";
  if (ends_with(".js"))
    return "text/javascript; charset=utf-8";
  if (ends_with(".svg"))
    return "image/svg+xml";
  return "application/octet-stream";
}

struct entry {
  std::string_view name;
  asset a;
};

const std::vector<entry>& table() {
  static const std::vector<entry> t = [] {
    std::vector<entry> v;
    for (std::size_t i = 0; i < embedded_file_count; ++i)
      v.push_back({embedded_files[i].name, {embedded_files[i].body, type_of(embedded_files[i].name)}});
    return v;
  }();
  return t;
}

} // namespace

const asset* find_asset(std::string_view path) noexcept {
  if (path.empty() || path.front() != '/')
    return nullptr;
  std::string_view name = path == "/" ? std::string_view{"index.html"} : path.substr(1);
  for (auto& e : table())
    if (e.name == name)
      return &e.a;
  return nullptr;
}

} // namespace metron::prometheus::detail
