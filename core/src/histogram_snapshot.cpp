#include "metron/histogram_snapshot.hpp"

#include <algorithm>
#include <cmath>

namespace metron {

histogram_snapshot::histogram_snapshot(std::vector<bucket> buckets, double sum, double min,
                                       double max, std::uint64_t rejected)
  : buckets_(std::move(buckets)), sum_(sum), min_(min), max_(max), rejected_(rejected) {
  for (auto& b : buckets_)
    count_ += b.second;
}

double histogram_snapshot::quantile(double q) const noexcept {
  if (count_ == 0)
    return std::numeric_limits<double>::quiet_NaN();
  if (!(q > 0.0)) // also NaN
    return min_;
  if (q >= 1.0)
    return max_;
  // Nearest rank: the smallest value with at least ceil(q * n) values at or below it.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (auto& [index, n] : buckets_) {
    seen += n;
    if (seen >= rank) {
      if (index == bucket_layout::underflow)
        return min_;
      if (index == bucket_layout::overflow)
        return max_;
      return std::clamp(bucket_layout::midpoint(index), min_, max_);
    }
  }
  return max_; // unreachable while count_ equals the bucket total
}

std::uint64_t histogram_snapshot::count_at_or_below(double v) const noexcept {
  std::uint64_t n = 0;
  for (auto& [index, c] : buckets_) {
    if (bucket_layout::upper(index) > v)
      break;
    n += c;
  }
  return n;
}

void histogram_snapshot::merge(const histogram_snapshot& other) {
  if (other.count_ == 0) {
    rejected_ += other.rejected_;
    return;
  }
  std::vector<bucket> out;
  out.reserve(buckets_.size() + other.buckets_.size());
  auto a = buckets_.begin();
  auto b = other.buckets_.begin();
  while (a != buckets_.end() || b != other.buckets_.end()) {
    if (b == other.buckets_.end() || (a != buckets_.end() && a->first < b->first))
      out.push_back(*a++);
    else if (a == buckets_.end() || b->first < a->first)
      out.push_back(*b++);
    else
      out.emplace_back(a->first, a->second + b->second), ++a, ++b;
  }
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  buckets_ = std::move(out);
  count_ += other.count_;
  sum_ += other.sum_;
  rejected_ += other.rejected_;
}

histogram_snapshot histogram_snapshot::minus(const histogram_snapshot& earlier) const {
  histogram_snapshot d;
  auto e = earlier.buckets_.begin();
  for (auto& [index, n] : buckets_) {
    while (e != earlier.buckets_.end() && e->first < index)
      ++e;
    std::uint64_t before = (e != earlier.buckets_.end() && e->first == index) ? e->second : 0;
    // A bucket never shrinks in a live histogram; saturate if handed unrelated snapshots.
    if (n > before)
      d.buckets_.emplace_back(index, n - before);
  }
  for (auto& b : d.buckets_)
    d.count_ += b.second;
  d.rejected_ = rejected_ > earlier.rejected_ ? rejected_ - earlier.rejected_ : 0;
  if (d.count_ == 0)
    return d;
  d.sum_ = sum_ - earlier.sum_;
  auto lo = d.buckets_.front().first;
  auto hi = d.buckets_.back().first;
  d.min_ = lo == bucket_layout::underflow ? min_ : std::clamp(bucket_layout::lower(lo), min_, max_);
  d.max_ = hi == bucket_layout::overflow ? max_ : std::clamp(bucket_layout::upper(hi), min_, max_);
  return d;
}

} // namespace metron
