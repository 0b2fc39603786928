// metron/console/view.hpp — the live view: a subscriber actor that redraws a table
// of every report (or every n-th) in place on a terminal.
//
//   auto view = metron::console::spawn_view(sys, mon, {});   // std::cout, every tick
//   ...
//   caf::anon_send_exit(view, caf::exit_reason::user_shutdown);
//   self->wait_for(view);                                      // before using std::cout again
//
// The view subscribes to the monitor (with cfg.prefix as the name filter), feeds
// each n-th report to its history and writes render_table() of it (or cfg.format's
// text). With ansi, the frame replaces the previous one: the cursor moves up over
// the previous frame, each line is cleared to its end, anything below is cleared,
// and the cursor is hidden while the view lives (shown again when it gets an exit
// message; a program that kills the view otherwise writes "\x1b[?25h" itself).
// When cfg.fd is a terminal the frame is fitted to its size, read before each frame
// (ioctl TIOCGWINSZ), so it never wraps or scrolls. Without ansi, frames are appended
// as they are (logs, pipes). Escape codes are plain ANSI/VT100: no curses.
//
// Concurrency: an actor. While it lives it writes to *cfg.out from its own thread,
// so nothing else may write to that stream until it has terminated (wait_for it).
// cfg.notes and cfg.format run on the view's thread.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "metron/actors/monitor.hpp"
#include "metron/console/history.hpp"
#include "metron/console/table.hpp"
#include "metron/report.hpp"

namespace metron::console {

struct view_config {
  /// Where frames go; must outlive the view.
  std::ostream* out = nullptr; // nullptr: std::cout
  /// Terminal whose size fits the frame; -1 or not a terminal: options.width / max_lines.
  int fd = 1;
  /// Redraw in place with ANSI escape codes (true), or append frames (false).
  bool ansi = true;
  /// Render every n-th report (1: every tick); history intervals span n ticks.
  unsigned every = 1;
  /// Trend values kept per series.
  std::size_t history_capacity = 40;
  /// Subscribe to the series whose name starts with this ("" = all).
  std::string prefix{};
  /// Table options (title, width, hidden prefixes, ...).
  render_options options{};
  /// Extra lines under the title, computed per frame (optional).
  std::function<std::vector<std::string>(const report&)> notes{};
  /// Replaces render_table (optional): the text of one frame, '\n'-separated lines.
  std::function<std::string(const report&, const history&)> format{};
};

/// The escape codes of one in-place frame: moves up over `previous_lines` lines,
/// writes `frame`'s lines each cleared to its end, clears below. Exposed for tests.
std::string redraw(const std::string& frame, std::size_t previous_lines);

/// Spawns the view in `sys` and subscribes it to `mon` (see the file comment).
caf::actor spawn_view(caf::actor_system& sys, const monitor_actor& mon, view_config cfg = {});

} // namespace metron::console
