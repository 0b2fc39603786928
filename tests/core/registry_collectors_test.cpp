// Values read at each snapshot: collectors (order, errors, removal, no concurrent
// runs, no calls back into the registry), callback gauges and counters, and the
// settable counter's declared kind.
#include <metron/registry.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

TEST(registry_collectors, run_in_order_at_the_start_of_every_snapshot) {
  metron::registry reg;
  auto& g = reg.gauge("g");
  std::vector<int> order;
  reg.add_collector([&] { order.push_back(1); g.set(static_cast<double>(order.size())); });
  reg.add_collector([&] { order.push_back(2); });
  EXPECT_TRUE(order.empty()); // nothing runs when added
  EXPECT_EQ(reg.snapshot().find_gauge("g")->value(), 1.0); // set before the read
  EXPECT_EQ(reg.snapshot().find_gauge("g")->value(), 3.0);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 1, 2}));
}

TEST(registry_collectors, a_throwing_collector_is_counted_exported_and_never_fails_the_snapshot) {
  metron::registry reg;
  auto& g = reg.gauge("g");
  reg.add_collector([] { throw std::runtime_error("broken source"); });
  reg.add_collector([&] { g.set(5); }); // after the broken one: still runs
  auto quiet = metron::registry{}.snapshot();
  EXPECT_EQ(quiet.find_family("metron_collector_errors_total"), nullptr); // only once nonzero
  auto s = reg.snapshot();
  EXPECT_EQ(s.find_gauge("g")->value(), 5.0);
  EXPECT_EQ(reg.collector_errors(), 1u);
  ASSERT_NE(s.find_counter("metron_collector_errors_total"), nullptr);
  EXPECT_EQ(s.find_counter("metron_collector_errors_total")->value(), 1u);
  EXPECT_EQ(s.find_family("metron_collector_errors_total")->kind, metron::metric_kind::counter);
  reg.add_collector([] { throw 42; }); // not even a std::exception
  EXPECT_EQ(reg.snapshot().find_counter("metron_collector_errors_total")->value(), 3u);
}

TEST(registry_collectors, a_removed_collector_never_runs_again_and_its_id_is_not_reused) {
  metron::registry reg;
  int runs = 0;
  auto id = reg.add_collector([&runs] { ++runs; });
  auto other = reg.add_collector([] {});
  reg.snapshot();
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(reg.remove_collector(id));
  EXPECT_FALSE(reg.remove_collector(id)); // already gone
  EXPECT_FALSE(reg.remove_collector(other + 1000)); // never existed
  reg.snapshot();
  EXPECT_EQ(runs, 1);
  EXPECT_NE(reg.add_collector([] {}), id); // ids are not reused
  EXPECT_TRUE(reg.remove_collector(other));
}

TEST(registry_collectors, removal_releases_the_callable) {
  metron::registry reg;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  auto id = reg.add_collector([token] {});
  token.reset();
  EXPECT_FALSE(watch.expired()); // the registry holds it
  reg.remove_collector(id);
  EXPECT_TRUE(watch.expired());
}

TEST(registry_collectors, an_empty_function_is_refused) {
  metron::registry reg;
  EXPECT_THROW(reg.add_collector({}), std::invalid_argument);
  EXPECT_THROW(reg.gauge_callback("g", {}, "", {}), std::invalid_argument);
  EXPECT_THROW(reg.counter_callback("c_total", {}, "", {}), std::invalid_argument);
}

TEST(registry_collectors, concurrent_snapshots_never_run_one_collector_concurrently) {
  metron::registry reg;
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::uint64_t runs = 0; // plain on purpose: ThreadSanitizer reports concurrent runs
  reg.add_collector([&] {
    if (inside.fetch_add(1) != 0)
      overlaps.fetch_add(1);
    ++runs;
    inside.fetch_sub(1);
  });
  constexpr int threads = 4;
  const std::uint64_t each = metron::test::scaled(2000);
  std::latch start{threads};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      start.arrive_and_wait();
      for (std::uint64_t i = 0; i < each; ++i)
        reg.snapshot();
    });
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(runs, threads * each); // every snapshot ran it once
}

TEST(registry_collectors, remove_waits_for_a_run_in_progress) {
  metron::registry reg;
  std::mutex m;
  std::condition_variable cv;
  bool entered = false, go = false;
  std::atomic<bool> removed{false};
  bool removed_while_running = true;
  auto id = reg.add_collector([&] {
    std::unique_lock lock{m};
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return go; });
    removed_while_running = removed.load();
  });
  std::thread snap([&] { reg.snapshot(); });
  {
    std::unique_lock lock{m};
    cv.wait(lock, [&] { return entered; });
  }
  std::thread remover([&] {
    EXPECT_TRUE(reg.remove_collector(id));
    removed.store(true);
  });
  {
    std::lock_guard lock{m};
    go = true;
  }
  cv.notify_all();
  remover.join();
  snap.join();
  EXPECT_FALSE(removed_while_running); // remove returned only after the run ended
  EXPECT_TRUE(removed.load());
}

TEST(registry_collectors, calling_back_into_snapshot_or_the_collector_list_is_an_error_not_a_deadlock) {
  metron::registry reg;
  std::string what;
  reg.add_collector([&] {
    try {
      reg.snapshot();
    } catch (const std::logic_error& e) {
      what = e.what();
      throw;
    }
  });
  reg.add_collector([&] { reg.add_collector([] {}); });
  reg.add_collector([&] { reg.remove_collector(1); });
  reg.add_collector([&] { reg.gauge("made_by_a_collector").set(2); }); // creating metrics is fine
  auto s = reg.snapshot();
  EXPECT_EQ(reg.collector_errors(), 3u);
  EXPECT_NE(what.find("collectors"), std::string::npos) << what;
  ASSERT_NE(s.find_gauge("made_by_a_collector"), nullptr); // created before the read
  EXPECT_EQ(s.find_gauge("made_by_a_collector")->value(), 2.0);
  EXPECT_NO_THROW(reg.snapshot()); // outside a collector, all fine again
  EXPECT_TRUE(reg.remove_collector(1));
}

TEST(registry_collectors, a_callback_gauge_is_read_at_each_snapshot_until_removed) {
  metron::registry reg;
  double source = 1.5;
  auto id = reg.gauge_callback("queue_depth", {{"q", "a"}}, "Items waiting", [&] { return source; });
  EXPECT_EQ(reg.snapshot().find_gauge("queue_depth", {{"q", "a"}})->value(), 1.5);
  source = -4;
  auto s = reg.snapshot();
  EXPECT_EQ(s.find_gauge("queue_depth", {{"q", "a"}})->value(), -4.0);
  EXPECT_FALSE(s.find_family("queue_depth")->monotonic);
  EXPECT_EQ(s.find_family("queue_depth")->help, "Items waiting");
  source = std::numeric_limits<double>::quiet_NaN(); // rejected as gauge::set rejects it
  s = reg.snapshot();
  EXPECT_EQ(s.find_gauge("queue_depth", {{"q", "a"}})->value(), -4.0);
  EXPECT_EQ(s.find_gauge("queue_depth", {{"q", "a"}})->rejected, 1u);
  EXPECT_TRUE(reg.remove_collector(id));
  source = 99;
  EXPECT_EQ(reg.snapshot().find_gauge("queue_depth", {{"q", "a"}})->value(), -4.0); // the last value stays
}

TEST(registry_collectors, a_callback_counter_is_a_declared_monotonic_family_with_fractional_totals) {
  metron::registry reg;
  double cpu = 0.25;
  reg.counter_callback("cpu_seconds_total", {}, "CPU time", [&] { return cpu; });
  auto s = reg.snapshot();
  ASSERT_NE(s.find_family("cpu_seconds_total"), nullptr);
  EXPECT_EQ(s.find_family("cpu_seconds_total")->kind, metron::metric_kind::gauge);
  EXPECT_TRUE(s.find_family("cpu_seconds_total")->monotonic);
  EXPECT_EQ(s.find_gauge("cpu_seconds_total")->value(), 0.25);
  cpu = 1.75;
  EXPECT_EQ(reg.snapshot().find_gauge("cpu_seconds_total")->value(), 1.75);
  EXPECT_EQ(&reg.settable_counter("cpu_seconds_total"), &reg.settable_counter("cpu_seconds_total"));
}

TEST(registry_collectors, a_settable_counter_rejects_negative_and_nan_values_and_counts_them) {
  metron::registry reg;
  auto& c = reg.settable_counter("read_bytes_total");
  c.set(10.5);
  c.set(-1);
  c.set(std::numeric_limits<double>::infinity());
  EXPECT_EQ(c.value(), 10.5);
  EXPECT_EQ(c.rejected(), 2u);
  auto s = reg.snapshot();
  EXPECT_EQ(s.find_gauge("read_bytes_total")->rejected, 2u);
  EXPECT_EQ(s.find_counter("metron_rejected_values_total")->value(), 2u);
}

TEST(registry_collectors, a_settable_counter_and_a_gauge_cannot_share_a_name) {
  metron::registry reg;
  reg.gauge("level");
  reg.settable_counter("total_seconds");
  try {
    reg.settable_counter("level");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("gauge"), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("settable counter"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reg.gauge("total_seconds", {{"k", "v"}}), std::invalid_argument);
  EXPECT_THROW(reg.counter("total_seconds"), std::invalid_argument);
  EXPECT_THROW(reg.gauge_callback("total_seconds", {}, "", [] { return 1.0; }), std::invalid_argument);
  EXPECT_EQ(reg.size(), 2u);
  EXPECT_EQ(reg.rejected_invalid(), 4u);
}

} // namespace
