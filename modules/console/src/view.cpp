#include "metron/console/view.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include <caf/all.hpp>

#include "metron/actors/atoms.hpp"
#include "metron/actors/message_types.hpp"

namespace metron::console {
namespace {

constexpr const char* hide_cursor = "\x1b[?25l";
constexpr const char* show_cursor = "\x1b[?25h";

struct view_state {
  view_config cfg;
  std::unique_ptr<history> hist;
  std::uint64_t received = 0;
  std::size_t lines_on_screen = 0;
  static inline const char* name = "metron.console.view";
};

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

void draw(view_state& st, const report& s) {
  st.hist->update(s);
  std::ostream& out = st.cfg.out ? *st.cfg.out : std::cout;
  std::string frame;
  if (st.cfg.format) {
    frame = st.cfg.format(s, *st.hist);
  } else {
    render_options o = st.cfg.options;
    if (st.cfg.notes) {
      auto extra = st.cfg.notes(s);
      o.notes.insert(o.notes.end(), extra.begin(), extra.end());
    }
    winsize ws{};
    if (st.cfg.fd >= 0 && ::isatty(st.cfg.fd) && ::ioctl(st.cfg.fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
      o.width = ws.ws_col > 1 ? ws.ws_col - 1u : 1u; // never the last column: no pending wrap
      if (ws.ws_row > 1)
        o.max_lines = ws.ws_row - 1u; // the frame always fits, so moving up reaches its top
    }
    frame = render_table(s, *st.hist, o);
  }
  if (st.cfg.ansi) {
    out << redraw(frame, st.lines_on_screen);
    st.lines_on_screen = count_lines(frame);
  } else {
    out << frame;
  }
  out.flush();
}

} // namespace

std::string redraw(const std::string& frame, std::size_t previous_lines) {
  std::string out;
  if (previous_lines > 0)
    out += "\r\x1b[" + std::to_string(previous_lines) + "A"; // up to the previous frame's top
  std::size_t start = 0;
  while (start < frame.size()) {
    auto end = frame.find('\n', start);
    if (end == std::string::npos)
      end = frame.size();
    out.append(frame, start, end - start);
    out += "\x1b[K\n"; // clear what the previous frame left on this line
    start = end + 1;
  }
  out += "\x1b[J"; // clear the rest of a longer previous frame
  return out;
}

caf::actor spawn_view(caf::actor_system& sys, const monitor_actor& mon, view_config cfg) {
  cfg.every = std::max(cfg.every, 1u);
  return sys.spawn([cfg = std::move(cfg), mon](caf::stateful_actor<view_state>* self) -> caf::behavior {
    auto& st = self->state;
    st.cfg = cfg;
    st.hist = std::make_unique<history>(cfg.history_capacity);
    auto me = caf::actor_cast<subscriber_actor>(self);
    if (cfg.prefix.empty())
      self->send(mon, subscribe_atom::value, me);
    else
      self->send(mon, subscribe_atom::value, me, cfg.prefix);
    if (cfg.ansi) {
      std::ostream& out = cfg.out ? *cfg.out : std::cout;
      out << hide_cursor << std::flush;
      // Shown again from the exit handler, i.e. on the view's thread before it
      // terminates, so the write is done before anyone waiting for the view resumes.
      self->set_exit_handler([self, &out](caf::exit_msg& msg) {
        out << show_cursor << std::flush;
        self->quit(msg.reason);
      });
    }
    return {
      [self](const report_ptr& s) {
        auto& st = self->state;
        if (s && st.received++ % st.cfg.every == 0)
          draw(st, *s);
      },
    };
  });
}

} // namespace metron::console
