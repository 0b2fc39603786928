#include "metron/aggregation.hpp"

#include "metron/vanished.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace metron {
namespace {

constexpr std::int64_t window_resolution = 32; // ring spacing = window / 32

template <class Sample>
bool key_less(const Sample& a, const Sample& b) {
  return a.series < b.series;
}

// Walks a sorted sample vector alongside another sorted one: find(s) returns the
// sample with s's key or nullptr; keys passed to find must be non-decreasing.
template <class Sample>
class cursor {
public:
  explicit cursor(const std::vector<Sample>* v) : v_(v) {}
  const Sample* find(const Sample& s) {
    if (v_ == nullptr)
      return nullptr;
    while (i_ < v_->size() && key_less((*v_)[i_], s))
      ++i_;
    if (i_ < v_->size() && (*v_)[i_].series == s.series)
      return &(*v_)[i_];
    return nullptr;
  }

private:
  const std::vector<Sample>* v_;
  std::size_t i_ = 0;
};

// The sample with s's key in a sorted vector, or nullptr (a binary search).
template <class Sample>
const Sample* find_sorted(const std::vector<Sample>& v, const Sample& s) {
  auto it = std::lower_bound(v.begin(), v.end(), s, key_less<Sample>);
  return it != v.end() && it->series == s.series ? &*it : nullptr;
}

// Increase of a monotonic total; a smaller value means the series restarted.
std::uint64_t increase(std::uint64_t now, std::uint64_t before) {
  return now >= before ? now - before : now;
}

double per_second(double x, double seconds) {
  return seconds > 0 ? x / seconds : 0.0;
}

double seconds_between(std::int64_t later_ns, std::int64_t earlier_ns) {
  return later_ns > earlier_ns ? static_cast<double>(later_ns - earlier_ns) / 1e9 : 0.0;
}

void fill_quantiles(std::vector<quantile_value>& out, const std::vector<double>& qs,
                    const histogram_snapshot& h) {
  out.resize(qs.size());
  double values[16];
  if (h.count() != 0 && qs.size() <= 16)
    h.quantiles(qs.data(), qs.size(), values);
  for (std::size_t i = 0; i < qs.size(); ++i)
    out[i] = {qs[i], h.count() == 0 ? 0.0 : qs.size() <= 16 ? values[i] : h.quantile(qs[i])};
}

// The k exemplars of h with the largest values recorded after start_ns, largest first.
void fill_slowest(std::vector<exemplar_sample>& out, const histogram_snapshot& h, std::int64_t start_ns,
                  std::size_t k) {
  out.clear();
  if (k == 0)
    return;
  for (auto& e : h.exemplars())
    if (e.wall_ns > start_ns)
      out.push_back(e);
  auto slower = [](const exemplar_sample& a, const exemplar_sample& b) { return a.value > b.value; };
  if (out.size() > k) {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(k), out.end(), slower);
    out.resize(k);
  } else {
    std::sort(out.begin(), out.end(), slower);
  }
}

} // namespace

aggregation::aggregation(const aggregation_config& cfg) : quantiles_(cfg.quantiles), slowest_(cfg.slowest) {
  for (double q : quantiles_)
    if (!(q >= 0.0 && q <= 1.0))
      throw std::invalid_argument("metron: quantiles must be in [0, 1]");
  std::vector<std::chrono::seconds> ws = cfg.windows;
  std::sort(ws.begin(), ws.end());
  ws.erase(std::unique(ws.begin(), ws.end()), ws.end());
  for (auto w : ws) {
    if (w.count() <= 0)
      throw std::invalid_argument("metron: windows must be positive");
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(w).count();
    windows_.push_back({ns, (ns + window_resolution - 1) / window_resolution, {}});
  }
}

std::size_t aggregation::history_entries() const noexcept {
  std::size_t n = 0;
  for (auto& w : windows_)
    n += w.entries.size();
  return n;
}

report_ptr aggregation::tick(snapshot raw) {
  auto out = std::make_shared<const snapshot>(std::move(raw));
  const snapshot* prev = latest_ ? &latest_->raw() : nullptr;
  const std::int64_t now = out->mono_ns;
  const double dt = prev ? seconds_between(now, prev->mono_ns) : 0.0;

  // The window starts: newest kept snapshot at least W old, else the oldest kept.
  const std::size_t nw = windows_.size();
  std::vector<const snapshot*> base(nw, nullptr);
  std::vector<double> span(nw, 0.0);
  for (std::size_t i = 0; i < nw; ++i) {
    auto& ring = windows_[i].entries;
    if (ring.empty())
      continue;
    const snapshot* b = ring.front().get();
    for (auto& e : ring) {
      if (e->mono_ns <= now - windows_[i].length_ns)
        b = e.get();
      else
        break;
    }
    base[i] = b;
    span[i] = seconds_between(now, b->mono_ns);
  }

  std::size_t matched = 0; // counters and histograms also in prev: none vanished if all

  // -- counters --
  std::vector<counter_figures> cfs(out->counters.size());
  {
    cursor<counter_sample> pc(prev ? &prev->counters : nullptr);
    std::vector<cursor<counter_sample>> wc;
    for (auto* b : base)
      wc.emplace_back(b ? &b->counters : nullptr);
    for (std::size_t k = 0; k < out->counters.size(); ++k) {
      auto& c = out->counters[k];
      auto& fig = cfs[k];
      auto* p = pc.find(c);
      matched += p != nullptr;
      if (p == nullptr && !gone_.counters.empty())
        p = find_sorted(gone_.counters, c); // a retired series back: its total continues
      fig.rate = prev ? per_second(static_cast<double>(increase(c.total, p ? p->total : 0)), dt) : 0.0;
      fig.windows.reserve(nw);
      for (std::size_t i = 0; i < nw; ++i) {
        window_stats w;
        w.length_ns = windows_[i].length_ns;
        if (base[i]) {
          auto* b = wc[i].find(c);
          if (b == nullptr && !gone_.counters.empty())
            b = find_sorted(gone_.counters, c);
          w.seconds = span[i];
          w.increase = static_cast<double>(increase(c.total, b ? b->total : 0));
          w.rate = per_second(w.increase, w.seconds);
        }
        fig.windows.push_back(std::move(w));
      }
    }
  }

  // -- histograms --
  std::vector<histogram_figures> hfs(out->histograms.size());
  {
    cursor<histogram_sample> ph(prev ? &prev->histograms : nullptr);
    std::vector<cursor<histogram_sample>> wh;
    for (auto* b : base)
      wh.emplace_back(b ? &b->histograms : nullptr);
    histogram_snapshot scratch; // one interval at a time; its buckets are reused
    for (std::size_t k = 0; k < out->histograms.size(); ++k) {
      auto& h = out->histograms[k];
      auto& fig = hfs[k];
      auto* p = ph.find(h);
      matched += p != nullptr;
      if (p == nullptr && !gone_.histograms.empty())
        p = find_sorted(gone_.histograms, h);
      auto before = p ? p->data.count() : 0;
      fig.rate = prev ? per_second(static_cast<double>(increase(h.data.count(), before)), dt) : 0.0;
      fill_quantiles(fig.quantiles, quantiles_, h.data);
      fig.windows.reserve(nw);
      for (std::size_t i = 0; i < nw; ++i) {
        window_stats w;
        w.length_ns = windows_[i].length_ns;
        if (base[i]) {
          auto* b = wh[i].find(h);
          if (b == nullptr && !gone_.histograms.empty())
            b = find_sorted(gone_.histograms, h);
          const histogram_snapshot* d = &h.data;
          if (b) {
            h.data.minus_into(b->data, scratch);
            d = &scratch;
          }
          w.seconds = span[i];
          w.increase = static_cast<double>(d->count());
          w.rate = per_second(w.increase, w.seconds);
          fill_quantiles(w.quantiles, quantiles_, *d);
          w.max = d->max();
          fill_slowest(w.slowest, h.data, base[i]->wall_ns, slowest_);
        } else {
          fill_quantiles(w.quantiles, quantiles_, histogram_snapshot{});
        }
        fig.windows.push_back(std::move(w));
      }
    }
  }

  // Series that left (retired by their registry) keep their last totals until they
  // return (metron/vanished.hpp). What is kept changes only when a series vanished or
  // one appeared (perhaps a kept one returning): otherwise nothing is walked, so a
  // registry with retired series ticks as fast as one without.
  snapshot gone;
  bool vanished = prev && matched != prev->counters.size() + prev->histograms.size();
  bool appeared = prev && matched != out->counters.size() + out->histograms.size();
  bool track = vanished || (appeared && !holds_nothing(gone_));
  if (track) {
    gone = gone_;
    if (prev)
      track_vanished(gone, *prev, *out, max_gone);
  }

  // -- commit: history rings, latest, sequence --
  snapshot_ptr kept = out;
  auto result = std::make_shared<const report>(std::move(out), sequence_ + 1, dt, std::move(cfs), std::move(hfs));
  for (auto& w : windows_) {
    auto& ring = w.entries;
    if (ring.empty() || now - ring.back()->mono_ns >= w.spacing_ns)
      ring.push_back(kept);
    // Keep one entry at least W old (the window start), drop anything older.
    while (ring.size() >= 2 && ring[1]->mono_ns <= now - w.length_ns)
      ring.pop_front();
    while (ring.size() > max_entries_per_window) // only if mono_ns went backwards
      ring.pop_front();
  }
  if (track)
    gone_ = std::move(gone); // no throw: a move
  latest_ = result;
  ++sequence_;
  return result;
}

} // namespace metron
