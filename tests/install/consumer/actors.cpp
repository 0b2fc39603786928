// Spawns a monitor through the installed package and asks it for a report.
#include <metron/actors.hpp>

#include <cstdio>

int main() {
  metron::registry reg;
  reg.counter("jobs_total").add(7);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto mon = metron::spawn_monitor(sys, reg);
  caf::scoped_actor self{sys};
  std::uint64_t jobs = 0;
  self->request(mon, caf::infinite, metron::get_atom::value)
    .receive([&](const metron::report_ptr& s) { jobs = s->find_counter("jobs_total")->value(); },
             [&](caf::error&) {});
  std::printf("consumer_actors: jobs=%llu\n", static_cast<unsigned long long>(jobs));
  self->send_exit(mon, caf::exit_reason::user_shutdown);
  return jobs == 7 ? 0 : 1;
}
