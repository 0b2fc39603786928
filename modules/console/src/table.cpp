#include "metron/console/table.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

#include "metron/console/format.hpp"

namespace metron::console {
namespace {

constexpr std::size_t cell_width = 8; // one space and seven characters ("14.0ms", "2.00s", "4.68M")
constexpr std::size_t cells = 5;      // rate/value, then four figures
constexpr std::size_t min_name = 12;
constexpr std::size_t min_trend = 4;

struct row {
  enum class kind { section, family, series, blank } what;
  std::string name;                     // indent included
  std::vector<std::string> cells;       // up to `cells`, right-aligned
  const std::deque<double>* trend = nullptr;
  std::string trend_title;              // section rows
};

bool hidden(const render_options& o, const std::string& name) {
  for (auto& p : o.hide_prefixes)
    if (name.compare(0, p.size(), p) == 0)
      return true;
  return false;
}

std::string label_text(const labels& ls) {
  std::string out;
  for (auto& [k, v] : ls) {
    if (!out.empty())
      out += ' ';
    out += k + "=\"" + v + "\"";
  }
  return out;
}

bool is_duration(const std::string& name) {
  constexpr std::string_view suffix = "_seconds";
  return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Adds the rows of one section: samples of one kind, grouped by family.
template <class Sample, class Visible, class Cells>
void add_section(std::vector<row>& rows, const std::vector<Sample>& samples, const history& h,
                 const render_options& o, row header, Visible visible, Cells make_cells) {
  std::vector<const Sample*> shown;
  for (auto& s : samples)
    if (!hidden(o, s.name()) && visible(s))
      shown.push_back(&s);
  if (shown.empty())
    return;
  if (!rows.empty())
    rows.push_back({row::kind::blank, {}, {}, nullptr, {}});
  rows.push_back(std::move(header));
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const Sample& s = *shown[i];
    const bool first_of_family = i == 0 || shown[i - 1]->name() != s.name();
    const bool alone = first_of_family && s.labels().empty()
                       && (i + 1 == shown.size() || shown[i + 1]->name() != s.name());
    const series_history* sh = h.find(s.name(), s.labels());
    row r{row::kind::series, {}, make_cells(s, sh), sh ? &sh->trend : nullptr, {}};
    if (alone) {
      r.name = s.name();
    } else {
      if (first_of_family)
        rows.push_back({row::kind::family, s.name(), {}, nullptr, {}});
      r.name = "  " + (s.labels().empty() ? std::string{"(no labels)"} : label_text(s.labels()));
    }
    rows.push_back(std::move(r));
  }
}

} // namespace

std::string render_table(const report& rep, const history& h, const render_options& o) {
  const snapshot& s = rep.raw();
  const std::size_t cap = h.capacity();
  std::vector<row> rows;

  add_section(
    rows, s.histograms, h, o,
    row{row::kind::section, "HISTOGRAMS", {"rate/s", "p50", "p90", "p99", "max"}, nullptr, "p99"},
    [&](const histogram_sample& x) { return !o.hide_idle || x.data.count() > 0; },
    [](const histogram_sample& x, const series_history* sh) {
      std::vector<std::string> c;
      if (!sh)
        return c;
      auto f = [dur = is_duration(x.name())](double v) { return dur ? format_duration(v) : format_si(v); };
      const auto& st = sh->last;
      c = {format_si(st.rate), f(st.p50), f(st.p90), f(st.p99), f(st.max)};
      return c;
    });
  add_section(
    rows, s.counters, h, o,
    row{row::kind::section, "COUNTERS", {"rate/s", "total"}, nullptr, "rate"},
    [&](const counter_sample& x) { return !o.hide_idle || x.total > 0; },
    [&rep](const counter_sample& x, const series_history* sh) {
      return std::vector<std::string>{format_si(sh ? sh->rate : rep.figures(x).rate),
                                      format_si(static_cast<double>(x.total))};
    });
  add_section(
    rows, s.gauges, h, o, row{row::kind::section, "GAUGES", {"value"}, nullptr, "value"},
    [](const gauge_sample&) { return true; },
    [](const gauge_sample& x, const series_history*) { return std::vector<std::string>{format_si(x.current)}; });
  add_section(
    rows, s.updowns, h, o, row{row::kind::section, "UP/DOWN COUNTERS", {"value"}, nullptr, "value"},
    [](const updown_sample&) { return true; },
    [](const updown_sample& x, const series_history*) {
      return std::vector<std::string>{format_si(static_cast<double>(x.total))};
    });

  // -- column widths --
  const std::size_t width = std::max<std::size_t>(o.width, 20);
  std::size_t name_w = min_name;
  for (auto& r : rows)
    if (r.what == row::kind::series || r.what == row::kind::section)
      name_w = std::max(name_w, display_width(r.name));
  name_w = std::min(name_w, std::max(o.name_width, min_name));
  const std::size_t numbers = cells * cell_width;
  if (name_w + numbers > width)
    name_w = width > numbers + min_name ? width - numbers : min_name;
  std::size_t trend_w = 0;
  if (width > name_w + numbers + 2 + min_trend)
    trend_w = std::min(cap, width - name_w - numbers - 2);

  // -- lines --
  std::vector<std::string> lines;
  std::string title = o.title + " — tick " + std::to_string(rep.sequence());
  double frame = h.interval_seconds() > 0 ? h.interval_seconds() : rep.interval_seconds();
  if (frame > 0)
    title += " · frame every " + format_duration(frame);
  title += " · " + std::to_string(s.series()) + " series";
  lines.push_back(fit(title, width));
  for (auto& n : o.notes)
    lines.push_back(fit(n, width));
  lines.emplace_back();
  for (auto& r : rows) {
    std::string line;
    switch (r.what) {
      case row::kind::blank:
        break;
      case row::kind::family:
        line = fit(r.name, width);
        break;
      case row::kind::section:
      case row::kind::series: {
        line = pad_right(fit(r.name, name_w), name_w);
        for (std::size_t i = 0; i < cells; ++i)
          line += pad_left(i < r.cells.size() ? r.cells[i] : std::string{}, cell_width);
        if (trend_w > 0) {
          line += "  ";
          if (r.what == row::kind::section) {
            // "p99, last 40" when it fits in the rest of the line, else just "p99"
            std::string title = r.trend_title + ", last " + std::to_string(trend_w);
            line += display_width(line) + display_width(title) <= width ? title : r.trend_title;
          } else if (r.trend) {
            std::vector<double> v(r.trend->begin() + static_cast<std::ptrdiff_t>(r.trend->size() - std::min(r.trend->size(), trend_w)),
                                  r.trend->end());
            line += sparkline(v);
          }
        }
        while (!line.empty() && line.back() == ' ')
          line.pop_back();
        line = clip(line, width);
        break;
      }
    }
    lines.push_back(std::move(line));
  }
  if (o.max_lines > 0 && lines.size() > o.max_lines) {
    std::size_t keep = o.max_lines > 1 ? o.max_lines - 1 : 0;
    std::size_t more = lines.size() - keep;
    lines.resize(keep);
    lines.push_back(fit("… " + std::to_string(more) + " more rows (a taller terminal shows them)", width));
  }
  std::string out;
  for (auto& l : lines)
    out += l + '\n';
  return out;
}

} // namespace metron::console
