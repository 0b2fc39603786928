#include "metron/remote_write/writer.hpp"

#include <stdexcept>

#include <caf/all.hpp>

#include "metron/actors.hpp"
#include "metron/remote_write/encoder.hpp"

namespace metron::remote_write {

namespace {

// (flush_atom, report): push this report now, whatever push_interval says.
using flush_atom = caf::atom_constant<caf::atom("rw_flush")>;

struct writer_state {
  std::shared_ptr<sender> out;
  std::shared_ptr<const encoder> enc;
  std::int64_t interval_ms = 0;
  bool pushed_any = false;
  std::int64_t last_ms = 0; // the timestamp of the last report pushed
  static inline const char* name = "metron.remote_writer";
};

// Encodes a report into the sender's queue if it is due: later than the last one
// pushed (a series' timestamps must increase) and, unless forced, push_interval after it.
void push(writer_state& st, const report_ptr& r, bool forced) {
  if (!r)
    return;
  std::int64_t ms = r->wall_ns() / 1'000'000;
  if (st.pushed_any && (ms <= st.last_ms || (!forced && ms - st.last_ms < st.interval_ms)))
    return;
  st.pushed_any = true;
  st.last_ms = ms;
  for (auto& b : st.enc->encode(*r))
    st.out->push(std::move(b));
}

caf::behavior writer_actor(caf::stateful_actor<writer_state>* self, std::shared_ptr<sender> out,
                           std::shared_ptr<const encoder> enc, std::int64_t interval_ms) {
  self->state.out = std::move(out);
  self->state.enc = std::move(enc);
  self->state.interval_ms = interval_ms;
  return {
    // Returning acknowledges the report to the fan-out (credit).
    [self](report_ptr r) { push(self->state, r, false); },
    [self](flush_atom, report_ptr r) { push(self->state, r, true); },
  };
}

} // namespace

writer::writer(caf::actor_system& sys, const monitor_actor& mon, config cfg) : sys_(sys), monitor_(mon) {
  if (cfg.push_interval.count() < 0)
    throw std::invalid_argument("remote_write::config::push_interval must not be negative");
  auto enc = std::make_shared<const encoder>(cfg); // validates before anything starts
  sender_ = std::make_shared<sender>(cfg);
  actor_ = sys.spawn(writer_actor, sender_, std::move(enc), static_cast<std::int64_t>(cfg.push_interval.count()));
  caf::anon_send(monitor_, subscribe_atom::value, caf::actor_cast<subscriber_actor>(actor_));
}

writer::~writer() {
  stop();
}

bool writer::flush(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto left = [&] {
    return std::max(std::chrono::milliseconds{1},
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
  };
  {
    std::lock_guard guard{stop_mutex_};
    if (!actor_)
      return false;
    caf::scoped_actor self{sys_};
    report_ptr latest;
    self->request(monitor_, left(), get_atom::value)
      .receive([&](report_ptr r) { latest = std::move(r); }, [](const caf::error&) {});
    if (latest)
      self->request(actor_, left(), flush_atom::value, latest).receive([] {}, [](const caf::error&) {});
  }
  return sender_->wait_idle(left());
}

void writer::stop() noexcept {
  std::lock_guard guard{stop_mutex_};
  if (actor_) {
    caf::anon_send(monitor_, unsubscribe_atom::value, caf::actor_cast<subscriber_actor>(actor_));
    caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
    actor_ = nullptr;
  }
  sender_->stop();
}

} // namespace metron::remote_write
