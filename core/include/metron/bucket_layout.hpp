// metron/bucket_layout.hpp — the log-linear bucket layout every histogram shares.
//
// The algorithm (the HDR idea, HdrHistogram's log-linear buckets, read straight
// from IEEE-754): a positive double is 2^e * (1 + f). Its bits, shifted right by
// (52 - sub_bits), are the biased exponent followed by the top sub_bits bits of the
// mantissa, i.e. already "binade, then linear sub-bucket". Subtracting the code of
// the smallest tracked value gives the bucket index: one shift, one subtract, one
// clamp, no log().
//
// Layout: 2^sub_bits = 64 sub-buckets per power of two, over [2^min_exp, 2^max_exp)
// = [9.09e-13, 1.10e12); index 0 holds [0, 2^min_exp) (zero and tiny values) and the
// last index holds [2^max_exp, DBL_MAX]. A bucket spans [L, L * (1 + 1/64 * ...)),
// its width is at most L/64, so reporting its midpoint is off by at most 1/128 =
// 0.78% relative to any value inside it. That is metron's quantile error bound for
// values in [2^min_exp, 2^max_exp) (1e-9 .. 1e9 of any unit fits with room).
//
// All histograms use this one layout, so any two histogram snapshots merge and
// subtract bucket by bucket, exactly.
//
// Concurrency: constexpr functions of their arguments; safe from any thread.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace metron {

struct bucket_layout {
  /// Mantissa bits per binade: 2^6 = 64 linear sub-buckets per power of two.
  static constexpr int sub_bits = 6;
  /// Smallest tracked power of two (values below fall in bucket 0).
  static constexpr int min_exp = -40;
  /// One past the largest tracked power of two (values above fall in the last bucket).
  static constexpr int max_exp = 40;
  /// Buckets with the bound below, plus the underflow and overflow buckets.
  static constexpr std::size_t tracked = std::size_t{max_exp - min_exp} << sub_bits;
  static constexpr std::size_t size = tracked + 2;
  static constexpr std::uint32_t underflow = 0;
  static constexpr std::uint32_t overflow = static_cast<std::uint32_t>(size - 1);
  /// Largest relative distance between a bucket's midpoint and any value in it.
  static constexpr double relative_error = 1.0 / (2 << sub_bits);
  /// Identifies this layout in serialized snapshots (sub_bits, min_exp, max_exp).
  static constexpr std::uint32_t id = (sub_bits << 16) | ((min_exp + 128) << 8) | (max_exp + 128);

  /// Buckets are grouped in blocks of 64 (one binade each, the edge buckets in the
  /// first and last block); histograms remember which blocks were ever used, so a
  /// snapshot reads only those.
  static constexpr std::size_t block_bits = 6;
  static constexpr std::size_t blocks = (size + (std::size_t{1} << block_bits) - 1) >> block_bits;
  /// 64-bit words of a "blocks used" bitmap.
  static constexpr std::size_t block_words = (blocks + 63) / 64;

  /// Bucket of a finite value >= 0 (callers reject NaN, infinities and negatives).
  static constexpr std::uint32_t index(double v) noexcept {
    // Clearing the sign bit maps -0.0 to +0.0; other negatives never get here.
    return index_of_bits(std::bit_cast<std::uint64_t>(v) & ~(std::uint64_t{1} << 63));
  }

  /// index() of the value whose bits are `bits` (sign bit clear). The code minus the
  /// base is one unsigned subtraction; values below the tracked range wrap around, so
  /// one compare finds both edges and the recording path pays a single, never-taken
  /// branch instead of two clamps.
  static constexpr std::uint32_t index_of_bits(std::uint64_t bits) noexcept {
    constexpr std::uint64_t base = (std::uint64_t{1023 + min_exp} << sub_bits) - 1;
    std::uint64_t i = (bits >> (52 - sub_bits)) - base;
    if (i > overflow) [[unlikely]]
      i = static_cast<std::int64_t>(i) < 0 ? underflow : overflow;
    return static_cast<std::uint32_t>(i);
  }

  /// Smallest value in bucket i (0 for the underflow bucket).
  static constexpr double lower(std::uint32_t i) noexcept {
    if (i == underflow)
      return 0.0;
    constexpr std::uint64_t base = std::uint64_t{1023 + min_exp} << sub_bits;
    return std::bit_cast<double>((base + i - 1) << (52 - sub_bits));
  }

  /// Smallest value of the next bucket (largest finite double for the overflow bucket).
  static constexpr double upper(std::uint32_t i) noexcept {
    if (i >= overflow)
      return 1.7976931348623157e308;
    return lower(i + 1);
  }

  /// The value a quantile falling in bucket i reports (tracked buckets only).
  static constexpr double midpoint(std::uint32_t i) noexcept {
    return lower(i) + (upper(i) - lower(i)) / 2;
  }
};

} // namespace metron
