#include "metron/actors/performance_monitor.hpp"

#include <chrono>

#include <caf/all.hpp>

namespace metron {

performance_monitor::performance_monitor(monitor_config cfg, registry_config reg_cfg)
  : registry_(std::make_unique<metron::registry>(reg_cfg)) {
  sys_cfg_.set("logger.console", caf::atom("none"));
  system_ = std::make_unique<caf::actor_system>(sys_cfg_);
  monitor_ = spawn_monitor(*system_, *registry_, std::move(cfg));
}

performance_monitor::~performance_monitor() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (auto& cb : callbacks_)
      caf::anon_send_exit(cb, caf::exit_reason::user_shutdown);
    callbacks_.clear();
  }
  caf::anon_send_exit(monitor_, caf::exit_reason::user_shutdown);
  monitor_ = nullptr;
  system_.reset(); // waits for every actor to finish
}

void performance_monitor::on_report(std::function<void(report_ptr)> fun) {
  auto cb = system_->spawn([fun = std::move(fun)]() -> subscriber_actor::behavior_type {
    return {
      [fun](const report_ptr& r) { fun(r); },
    };
  });
  caf::anon_send(monitor_, subscribe_atom::value, cb);
  std::lock_guard<std::mutex> guard{mutex_};
  callbacks_.push_back(std::move(cb));
}

report_ptr performance_monitor::latest() {
  caf::scoped_actor self{*system_};
  report_ptr result;
  self->request(monitor_, std::chrono::seconds{10}, get_atom::value)
    .receive([&](report_ptr r) { result = std::move(r); }, [&](caf::error&) {});
  return result;
}

} // namespace metron
