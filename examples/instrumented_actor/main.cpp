// instrumented_actor: an actor whose message handlers are counted and timed by
// metron (metron::instrument wraps its behavior). No change to the handlers.
//
// Every handled message adds one to metron_actor_messages_total{actor="squarer"} and
// records its handling time into metron_actor_message_duration_seconds{actor="squarer"}.
#include <metron/actors.hpp>

#include <cstdio>

namespace {

// Some work whose cost varies with the input, so the quantiles differ.
long long squares_below(int n) {
  volatile long long sum = 0; // volatile: keep the loop
  for (int i = 0; i < n; ++i)
    sum = sum + static_cast<long long>(i) * i;
  return sum;
}

caf::behavior squarer(metron::registry& reg) {
  return metron::instrument(reg, "squarer", caf::behavior{
    [](int x) { return squares_below(x % 100 * 100); },
  });
}

struct quiet_config : caf::actor_system_config {
  quiet_config() {
    set("logger.console", caf::atom("none"));
    set("logger.file-verbosity", caf::atom("quiet"));
  }
};

} // namespace

int main() {
  metron::registry reg; // declared before the actor system: outlives the actors
  quiet_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto worker = sys.spawn(squarer, std::ref(reg));

  constexpr int messages = 1000;
  int answers = 0;
  for (int i = 0; i < messages; ++i)
    self->request(worker, caf::infinite, i).receive([&](long long) { ++answers; }, [&](caf::error&) {});

  // Once the actor has terminated, everything it recorded is in the registry.
  self->send_exit(worker, caf::exit_reason::user_shutdown);
  self->wait_for(worker);

  metron::snapshot s = reg.snapshot();
  metron::labels actor{{"actor", "squarer"}};
  auto* count = s.find_counter("metron_actor_messages_total", actor);
  auto* time = s.find_histogram("metron_actor_message_duration_seconds", actor);
  if (count == nullptr || time == nullptr) {
    std::printf("FAILED: no metrics for the actor\n");
    return 1;
  }
  std::printf("sent %d messages, got %d answers\n", messages, answers);
  std::printf("metron counted %llu messages handled by \"squarer\"\n", static_cast<unsigned long long>(count->value()));
  std::printf("handling time: p50 %.2f us, p90 %.2f us, p99 %.2f us, max %.2f us, mean %.2f us\n",
              time->quantile(0.5) * 1e6, time->quantile(0.9) * 1e6, time->quantile(0.99) * 1e6, time->max() * 1e6,
              time->mean() * 1e6);
  return count->value() == static_cast<std::uint64_t>(messages) ? 0 : 1;
}
