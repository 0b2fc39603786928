// Instrumentation: a behavior_impl that forwards every invocation to the wrapped
// behavior's impl and, when a handler matched, counts the message and records the
// time the invocation took.
#include "metron/actors/instrument.hpp"

#include <chrono>

#include <caf/detail/behavior_impl.hpp>
#include <caf/make_counted.hpp>

namespace metron {
namespace {

class instrumented_behavior : public caf::detail::behavior_impl {
public:
  instrumented_behavior(pointer inner, metron::counter& messages, metron::histogram& durations)
    : behavior_impl(inner->timeout()),
      inner_(std::move(inner)),
      messages_(messages),
      durations_(durations) {
    begin_ = nullptr; // no match cases of its own: every invoke is overridden
    end_ = nullptr;
  }

  caf::match_case::result invoke(caf::detail::invoke_result_visitor& f,
                                 caf::type_erased_tuple& xs) override {
    auto started = std::chrono::steady_clock::now();
    auto result = inner_->invoke(f, xs);
    if (result == caf::match_case::match) {
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      messages_.add();
      durations_.record(took.count());
    }
    return result;
  }

  caf::match_case::result invoke_empty(caf::detail::invoke_result_visitor& f) override {
    return inner_->invoke_empty(f);
  }

  void handle_timeout() override { inner_->handle_timeout(); }

private:
  pointer inner_;
  metron::counter& messages_;
  metron::histogram& durations_;
};

} // namespace

caf::behavior instrument(registry& reg, const std::string& actor_name, caf::behavior bhvr) {
  if (!bhvr)
    return bhvr;
  metron::labels ls{{"actor", actor_name}};
  auto& messages = reg.counter("metron_actor_messages_total", ls, "Messages handled by an actor");
  auto& durations = reg.histogram("metron_actor_message_duration_seconds", ls,
                                  "Time an actor's handler took per message");
  caf::behavior::impl_ptr impl{caf::make_counted<instrumented_behavior>(bhvr.as_behavior_impl(),
                                                                       messages, durations)};
  caf::behavior result;
  result.assign(std::move(impl));
  return result;
}

} // namespace metron
