// metron/json/utf8.hpp — arbitrary bytes as valid UTF-8, injectively.
//
// Label values, help text and names can reach an exporter from a remote peer, so a
// renderer may be handed bytes that are not UTF-8. Prometheus rejects a whole scrape
// over one invalid label value, and a JSON document must be valid Unicode, so both
// renderers pass every string through repair():
//
//   - a valid UTF-8 sequence other than U+FFFD is copied unchanged;
//   - every other byte b (a byte that does not start a valid sequence: stray
//     continuation bytes, 0xC0/0xC1/0xF5..0xFF, overlong forms, surrogates, code
//     points past U+10FFFF, truncated sequences) becomes U+FFFD followed by the two
//     lower-case hex digits of b, e.g. 0xFF -> "\uFFFD" "ff";
//   - U+FFFD itself (EF BF BD) is written the same way, as its three bytes
//     ("\uFFFD" "ef" "\uFFFD" "bf" "\uFFFD" "bd").
//
// So in the output every U+FFFD is followed by two hex digits naming one input byte,
// and replacing each such triple by its byte gives the input back: two distinct
// inputs never map to one output (a reader still sees the familiar replacement
// character where the bytes were bad). Valid input without U+FFFD is unchanged.
//
// Concurrency: pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace metron::utf8 {

/// Length (1-4) of the valid UTF-8 sequence starting at s[i], or 0 if none starts
/// there (i < s.size() required).
std::size_t sequence_length(std::string_view s, std::size_t i) noexcept;

/// True if s is valid UTF-8.
bool valid(std::string_view s) noexcept;

/// True if repair(s) == s: s is valid UTF-8 and holds no U+FFFD.
bool needs_no_repair(std::string_view s) noexcept;

/// Appends repair(s) to out (see the file comment).
void append_repaired(std::string& out, std::string_view s);

/// s as valid UTF-8, injectively (see the file comment).
std::string repair(std::string_view s);

/// The inverse of repair: the original bytes (for tests and readers).
std::string unrepair(std::string_view s);

} // namespace metron::utf8
