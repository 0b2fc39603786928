// The dashboard's static files (modules/prometheus/assets/), compiled into the library
// by embed_assets.cmake, and the URL path each is served at.
//
// Concurrency: constants; safe from any thread.
#pragma once

#include <cstddef>
#include <string_view>

namespace metron::prometheus::detail {

/// One file of assets/, by its file name.
struct embedded_file {
  std::string_view name;
  std::string_view body;
};

extern const embedded_file embedded_files[];
extern const std::size_t embedded_file_count;

/// What a GET of a dashboard path answers.
struct asset {
  std::string_view body;
  std::string_view content_type;
};

/// The asset served at `path` ("/" is index.html, "/x.js" is x.js); nullptr if none.
const asset* find_asset(std::string_view path) noexcept;

} // namespace metron::prometheus::detail
