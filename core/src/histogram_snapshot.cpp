#include "metron/histogram_snapshot.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace metron {

histogram_snapshot::histogram_snapshot(std::vector<bucket> buckets, double sum, double min,
                                       double max, std::uint64_t rejected)
  : buckets_(std::move(buckets)), sum_(sum), min_(min), max_(max), rejected_(rejected) {
  for (auto& b : buckets_)
    count_ += b.second;
}

namespace {

// Nearest rank of q among n values: the smallest value with at least ceil(q * n)
// values at or below it.
std::uint64_t rank_of(double q, std::uint64_t n) {
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  return std::clamp<std::uint64_t>(rank, 1, n);
}

} // namespace

double histogram_snapshot::quantile(double q) const noexcept {
  double out;
  quantiles(&q, 1, &out);
  return out;
}

void histogram_snapshot::quantiles(const double* qs, std::size_t n, double* out) const noexcept {
  if (!std::is_sorted(qs, qs + n)) {
    for (std::size_t i = 0; i < n; ++i)
      quantiles(qs + i, 1, out + i);
    return;
  }
  auto value_of = [this](std::uint32_t index) {
    if (index == bucket_layout::underflow)
      return min_;
    if (index == bucket_layout::overflow)
      return max_;
    return std::clamp(bucket_layout::midpoint(index), min_, max_);
  };
  std::size_t i = 0;
  auto b = buckets_.begin();
  std::uint64_t seen = b != buckets_.end() ? b->second : 0;
  for (; i < n; ++i) {
    double q = qs[i];
    if (count_ == 0) {
      out[i] = std::numeric_limits<double>::quiet_NaN();
    } else if (!(q > 0.0)) { // also NaN
      out[i] = min_;
    } else if (q >= 1.0) {
      out[i] = max_;
    } else {
      auto rank = rank_of(q, count_);
      while (seen < rank && std::next(b) != buckets_.end()) // ascending qs: never walks back
        seen += (++b)->second;
      out[i] = seen >= rank ? value_of(b->first) : max_; // max_: unreachable while count_ is the bucket total
    }
  }
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

namespace {

// a after b: by wall time, ties (a coarse clock) by value, then trace id, so merging is
// commutative.
bool later(const exemplar_sample& a, const exemplar_sample& b) {
  if (a.wall_ns != b.wall_ns)
    return a.wall_ns > b.wall_ns;
  if (a.value != b.value)
    return a.value > b.value;
  return a.labels.trace_id() > b.labels.trace_id();
}

// Per block, the later of the two exemplars; both sorted by block.
std::vector<exemplar_sample> merge_exemplars(const std::vector<exemplar_sample>& a,
                                             const std::vector<exemplar_sample>& b) {
  std::vector<exemplar_sample> out;
  out.reserve(a.size() + b.size());
  auto x = a.begin();
  auto y = b.begin();
  while (x != a.end() || y != b.end()) {
    if (y == b.end() || (x != a.end() && x->block < y->block))
      out.push_back(*x++);
    else if (x == a.end() || y->block < x->block)
      out.push_back(*y++);
    else
      out.push_back(later(*y, *x) ? *y : *x), ++x, ++y;
  }
  return out;
}

} // namespace

void histogram_snapshot::merge(const histogram_snapshot& other) {
  exemplars_dropped_ += other.exemplars_dropped_;
  if (!other.exemplars_.empty())
    exemplars_ = merge_exemplars(exemplars_, other.exemplars_);
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
  minus_into(earlier, d);
  return d;
}

void histogram_snapshot::minus_into(const histogram_snapshot& earlier, histogram_snapshot& d) const {
  d.buckets_.clear();
  d.count_ = 0;
  d.sum_ = d.min_ = d.max_ = 0;
  auto e = earlier.buckets_.begin();
  for (auto& [index, n] : buckets_) {
    while (e != earlier.buckets_.end() && e->first < index)
      ++e;
    std::uint64_t before = (e != earlier.buckets_.end() && e->first == index) ? e->second : 0;
    // A bucket never shrinks in a live histogram; saturate if handed unrelated snapshots.
    if (n > before) {
      d.buckets_.emplace_back(index, n - before);
      d.count_ += n - before;
    }
  }
  d.rejected_ = rejected_ > earlier.rejected_ ? rejected_ - earlier.rejected_ : 0;
  d.exemplars_ = exemplars_;
  d.exemplars_dropped_ = exemplars_dropped_ > earlier.exemplars_dropped_ ? exemplars_dropped_ - earlier.exemplars_dropped_ : 0;
  if (d.count_ == 0)
    return;
  d.sum_ = sum_ - earlier.sum_;
  auto lo = d.buckets_.front().first;
  auto hi = d.buckets_.back().first;
  d.min_ = lo == bucket_layout::underflow ? min_ : std::clamp(bucket_layout::lower(lo), min_, max_);
  d.max_ = hi == bucket_layout::overflow ? max_ : std::clamp(bucket_layout::upper(hi), min_, max_);
}

} // namespace metron
