#include "metron/remote_write/writer.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "metron/actors.hpp"
#include "metron/remote_write/encoder.hpp"

namespace metron::remote_write {

namespace {

// (flush_atom, t): push the first report taken at wall time t (ns) or later, whatever
// push_interval says; answered once it is queued.
using flush_atom = caf::atom_constant<caf::atom("rw_flush")>;

struct writer_state {
  std::shared_ptr<sender> out;
  std::shared_ptr<const encoder> enc;
  std::int64_t interval_ms = 0;
  bool pushed_any = false;
  std::int64_t last_ms = 0;      // the timestamp of the last report pushed
  std::int64_t last_wall_ns = 0; // the wall time of the last report pushed
  std::vector<std::pair<std::int64_t, caf::response_promise>> flushes; // waiting for a report
  static inline const char* name = "metron.remote_writer";
};

// Encodes a report into the sender's queue if it is due: later than the last one
// pushed (a series' timestamps must increase) and, unless forced, push_interval after it.
void push(writer_state& st, const report& r, bool forced) {
  std::int64_t ms = r.wall_ns() / 1'000'000;
  if (st.pushed_any && (ms <= st.last_ms || (!forced && ms - st.last_ms < st.interval_ms)))
    return;
  st.pushed_any = true;
  st.last_ms = ms;
  st.last_wall_ns = r.wall_ns();
  for (auto& b : st.enc->encode(r))
    st.out->push(std::move(b));
}

caf::behavior writer_actor(caf::stateful_actor<writer_state>* self, std::shared_ptr<sender> out,
                           std::shared_ptr<const encoder> enc, std::int64_t interval_ms) {
  self->state.out = std::move(out);
  self->state.enc = std::move(enc);
  self->state.interval_ms = interval_ms;
  return {
    // Returning acknowledges the report to the fan-out (credit).
    [self](report_ptr r) {
      if (!r)
        return;
      auto& st = self->state;
      auto due = std::partition(st.flushes.begin(), st.flushes.end(),
                                [&r](auto& f) { return f.first > r->wall_ns(); });
      push(st, *r, due != st.flushes.end());
      for (auto it = due; it != st.flushes.end(); ++it)
        it->second.deliver(caf::unit);
      st.flushes.erase(due, st.flushes.end());
    },
    [self](flush_atom, std::int64_t since_ns) -> caf::result<void> {
      auto& st = self->state;
      if (st.pushed_any && st.last_wall_ns >= since_ns)
        return caf::unit;
      st.flushes.emplace_back(since_ns, self->make_response_promise());
      return caf::delegated<void>{};
    },
  };
}

} // namespace

writer::writer(caf::actor_system& sys, const monitor_actor& mon, config cfg) : sys_(sys), monitor_(mon) {
  if (cfg.push_interval.count() < 0)
    throw std::invalid_argument("remote_write::config::push_interval must not be negative");
  auto enc = std::make_shared<const encoder>(cfg); // validates before anything starts
  sender_ = std::make_shared<sender>(cfg);
  // Detached: encoding a large report takes milliseconds of CPU (docs/remote-write.md),
  // which would otherwise hold one of the scheduler's shared workers.
  actor_ = sys.spawn<caf::detached>(writer_actor, sender_, std::move(enc), static_cast<std::int64_t>(cfg.push_interval.count()));
  caf::anon_send(monitor_, subscribe_atom::value, caf::actor_cast<subscriber_actor>(actor_));
}

writer::~writer() {
  stop();
}

bool writer::flush(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch());
  {
    std::lock_guard guard{stop_mutex_};
    if (!actor_)
      return false;
    caf::scoped_actor self{sys_};
    bool queued = false;
    self->request(actor_, limit, flush_atom::value, static_cast<std::int64_t>(since.count()))
      .receive([&queued] { queued = true; }, [](const caf::error&) {});
    if (!queued)
      return false;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return sender_->wait_idle(std::max(left, std::chrono::milliseconds{0}));
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

void add_options(caf::actor_system_config& cfg) {
  option_adder(cfg, "metron.remote-write")
    .add<std::string>("url", "receiver, http://host[:port]/path")
    .add<caf::timespan>("push-interval", "least time between two pushes (default 10s)")
    .add<size_t>("queue-capacity", "requests waiting to be sent, at most (default 64)")
    .add<size_t>("max-samples-per-request", "samples per request, at most (default 2000)")
    .add<caf::timespan>("min-backoff", "first retry delay (default 100ms)")
    .add<caf::timespan>("max-backoff", "longest retry delay (default 5s)")
    .add<caf::timespan>("connect-timeout", "resolve + connect (default 5s)")
    .add<caf::timespan>("request-timeout", "write + read a response (default 10s)")
    .add<std::vector<std::string>>("external-labels", "labels added to every series, \"key=value\"");
}

config config_from(const caf::actor_system_config& cfg) {
  config r;
  auto key = [](const char* k) { return std::string{"metron.remote-write."} + k; };
  auto millis = [&](const char* k, std::chrono::milliseconds& out) {
    if (auto x = caf::get_if<caf::timespan>(&cfg, key(k))) {
      if (x->count() < 0)
        throw std::invalid_argument("metron: " + key(k) + " is negative");
      out = std::chrono::duration_cast<std::chrono::milliseconds>(*x);
    }
  };
  if (auto x = caf::get_if<std::string>(&cfg, key("url")))
    r.url = *x;
  millis("push-interval", r.push_interval);
  millis("min-backoff", r.min_backoff);
  millis("max-backoff", r.max_backoff);
  millis("connect-timeout", r.connect_timeout);
  millis("request-timeout", r.request_timeout);
  if (auto x = caf::get_if<size_t>(&cfg, key("queue-capacity")))
    r.queue_capacity = *x;
  if (auto x = caf::get_if<size_t>(&cfg, key("max-samples-per-request")))
    r.max_samples_per_request = *x;
  if (auto x = caf::get_if<std::vector<std::string>>(&cfg, key("external-labels"))) {
    for (auto& kv : *x) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw std::invalid_argument("metron: " + key("external-labels") + ": \"" + kv + "\" is not key=value");
      r.external_labels.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    std::sort(r.external_labels.begin(), r.external_labels.end());
  }
  return r;
}

} // namespace metron::remote_write
