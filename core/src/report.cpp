#include "metron/report.hpp"

#include <algorithm>

namespace metron {
namespace {

const snapshot_ptr& empty_snapshot() {
  static const snapshot_ptr empty = std::make_shared<const snapshot>();
  return empty;
}

// The figures of the samples of `in` whose name starts with prefix (the same
// contiguous range snapshot::filtered keeps).
template <class Sample, class Figures>
void copy_matching(std::vector<Figures>& out, const std::vector<Sample>& in, const std::vector<Figures>& figs,
                   std::string_view prefix) {
  auto it = std::lower_bound(in.begin(), in.end(), prefix,
                             [](const Sample& x, std::string_view p) { return std::string_view{x.name()} < p; });
  for (; it != in.end() && std::string_view{it->name()}.starts_with(prefix); ++it)
    out.push_back(figs[static_cast<std::size_t>(it - in.begin())]);
}

} // namespace

report::report() : raw_(empty_snapshot()) {
}

report::report(snapshot_ptr raw, std::uint64_t sequence, double interval_seconds,
               std::vector<counter_figures> counters, std::vector<histogram_figures> histograms)
  : raw_(std::move(raw)),
    sequence_(sequence),
    interval_seconds_(interval_seconds),
    counters_(std::move(counters)),
    histograms_(std::move(histograms)) {
  normalize();
}

void report::normalize() {
  if (!raw_)
    raw_ = empty_snapshot();
  counters_.resize(raw_->counters.size());
  histograms_.resize(raw_->histograms.size());
}

const counter_figures* report::find_counter_figures(std::string_view name, const labels& ls) const {
  auto* s = raw_->find_counter(name, ls);
  return s ? &figures(*s) : nullptr;
}

const histogram_figures* report::find_histogram_figures(std::string_view name, const labels& ls) const {
  auto* s = raw_->find_histogram_sample(name, ls);
  return s ? &figures(*s) : nullptr;
}

report report::filtered(std::string_view prefix) const {
  if (prefix.empty())
    return *this;
  std::vector<counter_figures> cs;
  copy_matching(cs, raw_->counters, counters_, prefix);
  std::vector<histogram_figures> hs;
  copy_matching(hs, raw_->histograms, histograms_, prefix);
  return report{std::make_shared<const snapshot>(raw_->filtered(prefix)), sequence_, interval_seconds_,
                std::move(cs), std::move(hs)};
}

} // namespace metron
