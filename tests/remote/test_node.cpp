// A test node: records the deterministic workload of workload.hpp, spawns a monitor,
// publishes it on 127.0.0.1 (port 0 = any, or --port to rebind after a restart) and
// prints "PORT <n>" on stdout. Then it serves until it is killed.
//   test_node --seed S --count N [--port P] [--interval-ms I]
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <metron/remote.hpp>

#include "workload.hpp"

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  std::size_t count = 1000;
  unsigned port = 0;
  long interval_ms = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key == "--seed")
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (key == "--count")
      count = std::strtoull(argv[i + 1], nullptr, 10);
    else if (key == "--port")
      port = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (key == "--interval-ms")
      interval_ms = std::strtol(argv[i + 1], nullptr, 10);
  }
  metron::registry reg;
  metron_test::record_workload(reg, seed, count);
  caf::actor_system_config cfg;
  metron::remote::configure(cfg);
  caf::actor_system sys{cfg};
  metron::monitor_config mcfg;
  mcfg.interval = std::chrono::milliseconds{interval_ms};
  auto mon = metron::spawn_monitor(sys, reg, mcfg);
  try {
    auto bound = metron::remote::publish(sys, mon, static_cast<std::uint16_t>(port));
    std::printf("PORT %u\n", static_cast<unsigned>(bound));
    std::fflush(stdout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "test_node: %s\n", e.what());
    std::printf("ERROR\n");
    std::fflush(stdout);
    std::_Exit(2);
  }
  for (;;)
    pause(); // until the test kills us
}
