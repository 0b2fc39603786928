#include "metron/prometheus/exporter.hpp"

#include <array>
#include <deque>

#include <caf/all.hpp>

#include "metron/actors.hpp"
#include "metron/prometheus/dashboard.hpp"

namespace metron::prometheus {

namespace {

// -- the dashboard's streams --------------------------------------------------------
// Each /events connection gets a subscriber actor of its own (stream_subscriber): it
// subscribes to the monitor, turns each report into a frame and queues it in the
// connection's event_channel, and acknowledges the snapshot to the fan-out only when
// the frame has been written to the socket (or dropped). So the fan-out's credit
// applies to a browser as to any subscriber: a slow one is skipped and the skip is
// counted in metron_dropped_snapshots_total. Closing the connection releases the
// feed's handle, which tells the actor to acknowledge what it holds, unsubscribe and
// quit.

// What the monitor sends a subscriber, and its tick number.
using tick_ptr = report_ptr;
std::uint64_t sequence_of(const tick_ptr& t) { return t->sequence(); }

using stream_ack_atom = caf::atom_constant<caf::atom("dash_ack")>;     // a frame was written
using stream_close_atom = caf::atom_constant<caf::atom("dash_close")>; // the connection closed

// Frames by (snapshot, previous snapshot): the connections of one exporter usually
// receive the same snapshots in the same order, so each frame is rendered once. A few
// entries, so connections a tick apart still share.
class frame_cache {
public:
  std::shared_ptr<const std::string> get(const tick_ptr& now, const tick_ptr& previous) {
    {
      std::lock_guard guard{mutex_};
      for (auto& e : entries_)
        if (e.frame && e.now == now && e.previous == previous)
          return e.frame;
    }
    auto frame = std::make_shared<const std::string>(dashboard_frame(*now, previous.get())); // outside the lock
    std::lock_guard guard{mutex_};
    entries_[next_++ % entries_.size()] = {now, previous, frame};
    return frame;
  }

private:
  struct entry {
    tick_ptr now, previous;
    std::shared_ptr<const std::string> frame;
  };
  std::mutex mutex_;
  std::array<entry, 4> entries_;
  std::size_t next_ = 0;
};

struct stream_state {
  std::shared_ptr<event_channel> channel;
  std::shared_ptr<frame_cache> frames;
  tick_ptr previous;
  std::deque<caf::response_promise> unwritten; // snapshots whose frame is not written yet
  static inline const char* name = "metron.dashboard_stream";
};

caf::behavior stream_subscriber(caf::stateful_actor<stream_state>* self, monitor_actor mon,
                                std::shared_ptr<event_channel> channel, std::shared_ptr<frame_cache> frames) {
  self->state.channel = std::move(channel);
  self->state.frames = std::move(frames);
  // Queues s's frame; `acked`: acknowledge a held snapshot once it is written.
  auto push = [self](const tick_ptr& s, bool acked) {
    auto& st = self->state;
    auto frame = st.frames->get(s, st.previous);
    st.previous = s;
    std::function<void()> written;
    if (acked)
      written = [me = caf::actor_cast<caf::weak_actor_ptr>(self)] {
        if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(me))
          caf::anon_send(caf::actor_cast<caf::actor>(strong), stream_ack_atom::value);
      };
    st.channel->push(std::move(frame), std::move(written));
  };
  auto me = caf::actor_cast<subscriber_actor>(self);
  self->send(mon, subscribe_atom::value, me);
  // The latest snapshot at once, so a new page does not wait for a tick.
  self->request(mon, std::chrono::seconds{2}, get_atom::value)
    .then([=](tick_ptr s) {
            if (s && !self->state.previous)
              push(s, false);
          },
          [](caf::error&) { /* the next tick will come */ });
  return {
    [=](tick_ptr s) -> caf::result<void> {
      if (!s || (self->state.previous && sequence_of(s) <= sequence_of(self->state.previous)))
        return caf::unit; // nothing new (the initial reply raced a tick)
      self->state.unwritten.push_back(self->make_response_promise());
      push(s, true);
      return caf::delegated<void>{};
    },
    [=](stream_ack_atom) {
      if (!self->state.unwritten.empty()) {
        self->state.unwritten.front().deliver(caf::unit);
        self->state.unwritten.pop_front();
      }
    },
    [=](stream_close_atom) {
      for (auto& rp : self->state.unwritten)
        rp.deliver(caf::unit);
      self->state.unwritten.clear();
      self->send(mon, unsubscribe_atom::value, me);
      self->quit();
    },
  };
}

// What the server holds per stream: releasing it closes the stream's actor.
class stream_handle {
public:
  explicit stream_handle(caf::actor subscriber) : subscriber_(std::move(subscriber)) {}
  stream_handle(const stream_handle&) = delete;
  stream_handle& operator=(const stream_handle&) = delete;
  ~stream_handle() { caf::anon_send(subscriber_, stream_close_atom::value); }

private:
  caf::actor subscriber_;
};

} // namespace

exporter::exporter(caf::actor_system& sys, const monitor_actor& mon, server_config cfg,
                   std::chrono::milliseconds initial_wait)
  : monitor_(mon), store_(std::make_shared<report_store>()) {
  // The server first: if the port cannot be bound, nothing is left subscribed.
  event_feed feed = [&sys, mon, frames = std::make_shared<frame_cache>()](std::shared_ptr<event_channel> ch) {
    auto sub = sys.spawn(stream_subscriber, mon, std::move(ch), frames);
    return std::shared_ptr<void>{std::make_shared<stream_handle>(std::move(sub))};
  };
  server_ = std::make_unique<http_server>(std::move(cfg), [store = store_] { return store->get(); }, std::move(feed));
  subscriber_ = sys.spawn([store = store_]() -> subscriber_actor::behavior_type {
    return {
      // Returning acknowledges the report to the fan-out (credit).
      [store](report_ptr r) { store->offer(std::move(r)); },
    };
  });
  caf::anon_send(monitor_, subscribe_atom::value, subscriber_);
  caf::scoped_actor self{sys};
  self->request(monitor_, initial_wait, get_atom::value)
    .receive([&](report_ptr r) { store_->offer(std::move(r)); },
             [](const caf::error&) { /* no answer in time: the first tick will come */ });
}

exporter::~exporter() {
  stop();
}

void exporter::stop() noexcept {
  std::lock_guard guard{stop_mutex_};
  server_->stop();
  if (subscriber_) {
    caf::anon_send(monitor_, unsubscribe_atom::value, subscriber_);
    caf::anon_send_exit(subscriber_, caf::exit_reason::user_shutdown);
    subscriber_ = nullptr;
  }
}

} // namespace metron::prometheus
