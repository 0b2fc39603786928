// metron::instrument: each handled message of a wrapped behavior is counted and
// timed, labelled by actor name (deterministic).
#include "fixture.hpp"

using metron_test::actor_test;

namespace {

class instrument : public actor_test {
protected:
  std::uint64_t messages(const std::string& name) {
    return reg.counter("metron_actor_messages_total", {{"actor", name}}).value();
  }
  std::uint64_t timed(const std::string& name) {
    return reg.histogram("metron_actor_message_duration_seconds", {{"actor", name}}).snapshot().count();
  }
};

TEST_F(instrument, every_handled_message_is_counted_and_timed_under_the_actor_name) {
  auto& r = reg;
  auto doubler = sys.spawn([&r]() -> caf::behavior {
    return metron::instrument(r, "doubler", caf::behavior{
      [](int x) { return x * 2; },
      [](const std::string&) {},
    });
  });
  spawned.push_back(doubler);
  for (int i = 0; i < 5; ++i)
    self->send(doubler, i);
  self->send(doubler, std::string{"hello"});
  run_messages();
  EXPECT_EQ(messages("doubler"), 6u);
  EXPECT_EQ(timed("doubler"), 6u);
}

TEST_F(instrument, the_wrapped_behavior_still_answers_requests) {
  auto& r = reg;
  auto doubler = sys.spawn([&r]() -> caf::behavior {
    return metron::instrument(r, "doubler", caf::behavior{[](int x) { return x * 2; }});
  });
  spawned.push_back(doubler);
  auto rh = self->request(doubler, caf::infinite, 21);
  run_messages();
  int answer = 0;
  rh.receive([&](int x) { answer = x; }, [](caf::error&) { ADD_FAILURE() << "no answer"; });
  EXPECT_EQ(answer, 42);
  EXPECT_EQ(messages("doubler"), 1u);
}

TEST_F(instrument, unmatched_messages_are_not_counted) {
  auto& r = reg;
  auto picky = sys.spawn([&r](caf::event_based_actor* me) -> caf::behavior {
    me->set_default_handler([](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
      return caf::sec::unexpected_message;
    });
    return metron::instrument(r, "picky", caf::behavior{[](int) {}});
  });
  spawned.push_back(picky);
  self->send(picky, 1.5);
  self->send(picky, std::string{"no"});
  self->send(picky, 1);
  run_messages();
  EXPECT_EQ(messages("picky"), 1u);
}

TEST_F(instrument, actors_with_different_names_get_separate_series) {
  auto& r = reg;
  auto make = [&](std::string name) {
    auto a = sys.spawn([&r, name]() -> caf::behavior {
      return metron::instrument(r, name, caf::behavior{[](int) {}});
    });
    spawned.push_back(a);
    return a;
  };
  auto a = make("a");
  auto b = make("b");
  self->send(a, 1);
  self->send(a, 2);
  self->send(b, 3);
  run_messages();
  EXPECT_EQ(messages("a"), 2u);
  EXPECT_EQ(messages("b"), 1u);
}

using adder_actor = caf::typed_actor<caf::replies_to<int, int>::with<int>>;

TEST_F(instrument, typed_behaviors_can_be_instrumented_too) {
  auto& r = reg;
  auto adder = sys.spawn([&r]() -> adder_actor::behavior_type {
    return metron::instrument(r, "adder", adder_actor::behavior_type{[](int x, int y) { return x + y; }});
  });
  auto rh = self->request(adder, caf::infinite, 2, 3);
  run_messages();
  int sum = 0;
  rh.receive([&](int x) { sum = x; }, [](caf::error&) { ADD_FAILURE() << "no answer"; });
  EXPECT_EQ(sum, 5);
  EXPECT_EQ(messages("adder"), 1u);
  caf::anon_send_exit(adder, caf::exit_reason::user_shutdown);
}

} // namespace
