#include "metron/console/history.hpp"

#include <algorithm>
#include <limits>

namespace metron::console {

std::string series_key(std::string_view name, const labels& ls) {
  std::string key{name};
  if (ls.empty())
    return key;
  key += '{';
  for (std::size_t i = 0; i < ls.size(); ++i) {
    if (i)
      key += ',';
    key += ls[i].first;
    key += "=\"";
    key += ls[i].second;
    key += '"';
  }
  key += '}';
  return key;
}

history::history(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

series_history& history::touch(std::string_view name, const labels& ls) {
  auto& h = series_[series_key(name, ls)];
  h.seen_at = updates_;
  return h;
}

void history::push(series_history& h, double v) {
  h.trend.push_back(v);
  while (h.trend.size() > capacity_)
    h.trend.pop_front();
}

void history::update(const report& r) {
  const snapshot& s = r.raw();
  ++updates_;
  const bool first = updates_ == 1;
  interval_seconds_ = first || s.mono_ns <= previous_mono_ns_
                        ? 0.0
                        : static_cast<double>(s.mono_ns - previous_mono_ns_) / 1e9;
  previous_mono_ns_ = s.mono_ns;
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();

  for (auto& c : s.counters) {
    auto& h = touch(c.name(), c.labels());
    double last_tick_rate = r.figures(c).rate;
    bool fresh = h.trend.empty();
    double dt = static_cast<double>(s.mono_ns - h.previous_mono_ns);
    if (fresh || dt <= 0 || c.total < h.previous_total)
      h.rate = last_tick_rate; // no earlier data (or a restart): the aggregator's last tick
    else
      h.rate = static_cast<double>(c.total - h.previous_total) / (dt / 1e9);
    h.previous_total = c.total;
    h.previous_mono_ns = s.mono_ns;
    push(h, h.rate);
  }
  for (auto& g : s.gauges)
    push(touch(g.name(), g.labels()), g.current);
  for (auto& u : s.updowns)
    push(touch(u.name(), u.labels()), static_cast<double>(u.total));
  for (auto& hs : s.histograms) {
    auto& h = touch(hs.name(), hs.labels());
    bool fresh = h.trend.empty();
    double dt = static_cast<double>(s.mono_ns - h.previous_mono_ns) / 1e9;
    bool restarted = hs.data.count() < h.previous.count();
    histogram_snapshot d = fresh || restarted ? hs.data : hs.data.minus(h.previous);
    interval_stats st;
    st.count = d.count();
    st.rate = fresh || restarted || dt <= 0 ? r.figures(hs).rate : static_cast<double>(st.count) / dt;
    if (st.count) {
      st.p50 = d.quantile(0.5);
      st.p90 = d.quantile(0.9);
      st.p99 = d.quantile(0.99);
      st.max = d.max();
    } else {
      st.p50 = st.p90 = st.p99 = st.max = nan;
    }
    h.last = st;
    h.rate = st.rate;
    h.previous = hs.data;
    h.previous_mono_ns = s.mono_ns;
    push(h, st.p99);
  }
  // Forget series the snapshot no longer has (bounded memory).
  std::erase_if(series_, [this](const auto& kv) { return kv.second.seen_at != updates_; });
}

const series_history* history::find(std::string_view name, const labels& ls) const {
  labels sorted = ls; // snapshots keep labels sorted by key
  std::sort(sorted.begin(), sorted.end());
  auto it = series_.find(series_key(name, sorted));
  return it == series_.end() ? nullptr : &it->second;
}

} // namespace metron::console
