#include <metron/registry.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

TEST(registry, same_name_and_labels_return_the_same_metric_whatever_the_label_order) {
  metron::registry reg;
  auto& a = reg.counter("http_requests_total", {{"method", "GET"}, {"code", "200"}});
  auto& b = reg.counter("http_requests_total", {{"code", "200"}, {"method", "GET"}});
  auto& c = reg.counter("http_requests_total", {{"method", "POST"}, {"code", "200"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  a.add(2);
  b.add(3);
  auto s = reg.snapshot();
  EXPECT_EQ(s.find_counter("http_requests_total", {{"method", "GET"}, {"code", "200"}})->value(), 5u);
  EXPECT_EQ(s.find_counter("http_requests_total", {{"code", "200"}, {"method", "POST"}})->value(), 0u);
  EXPECT_EQ(s.find_counter("http_requests_total"), nullptr);
  EXPECT_EQ(reg.size(), 2u);
}

TEST(registry, invalid_names_and_label_keys_throw_invalid_argument) {
  metron::registry reg;
  for (const char* bad : {"", "1abc", "with space", "dash-ed", "é"})
    EXPECT_THROW(reg.counter(bad), std::invalid_argument) << bad;
  EXPECT_NO_THROW(reg.counter("ok:name_1"));
  EXPECT_THROW(reg.gauge("g", {{"1bad", "x"}}), std::invalid_argument);
  EXPECT_THROW(reg.gauge("g", {{"__reserved", "x"}}), std::invalid_argument);
  EXPECT_THROW(reg.gauge("g", {{"k", "a"}, {"k", "b"}}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("h", {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(reg.histogram("h", {{"quantile", "1"}}), std::invalid_argument);
  EXPECT_NO_THROW(reg.gauge("g", {{"k", "any \"value\"\n\\ is fine"}}));
  EXPECT_EQ(reg.size(), 2u); // ok:name_1 and the one good gauge; nothing half-registered
}

TEST(registry, a_name_reused_with_another_kind_throws_and_names_both_kinds) {
  metron::registry reg;
  reg.counter("x");
  try {
    reg.histogram("x");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string{e.what()}.find("counter"), std::string::npos) << e.what();
    EXPECT_NE(std::string{e.what()}.find("histogram"), std::string::npos) << e.what();
  }
  EXPECT_THROW(reg.gauge("x", {{"a", "b"}}), std::invalid_argument);
  EXPECT_THROW(reg.updown_counter("x"), std::invalid_argument);
}

TEST(registry, label_sets_beyond_the_limit_are_refused_counted_and_existing_ones_keep_working) {
  metron::registry reg{metron::registry_config{.max_label_sets = 3}};
  auto& first = reg.counter("req_total", {{"user", "0"}});
  reg.counter("req_total", {{"user", "1"}});
  reg.counter("req_total", {{"user", "2"}});
  EXPECT_THROW(reg.counter("req_total", {{"user", "3"}}), std::length_error);
  EXPECT_THROW(reg.counter("req_total", {{"user", "4"}}), std::length_error);
  EXPECT_EQ(reg.rejected_label_sets(), 2u);
  EXPECT_EQ(&reg.counter("req_total", {{"user", "0"}}), &first); // lookups still work
  first.add(7);
  EXPECT_EQ(reg.snapshot().find_counter("req_total", {{"user", "0"}})->value(), 7u);
  EXPECT_EQ(reg.size(), 3u);
  reg.set_max_label_sets(4);
  EXPECT_NO_THROW(reg.counter("req_total", {{"user", "3"}}));
}

TEST(registry, references_stay_valid_while_other_threads_create_metrics) {
  metron::registry reg;
  auto& c = reg.counter("stable_total");
  const int threads = 4;
  const int per_thread = static_cast<int>(metron::test::scaled(500));
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        reg.histogram("lat_seconds", {{"t", std::to_string(t)}, {"i", std::to_string(i % 50)}}).record(0.001);
        c.add();
      }
    });
  for (auto& t : ts)
    t.join();
  auto s = reg.snapshot();
  EXPECT_EQ(s.find_counter("stable_total")->value(), static_cast<std::uint64_t>(threads * per_thread));
  std::uint64_t total = 0;
  for (auto& h : s.histograms)
    total += h.data.count();
  EXPECT_EQ(total, static_cast<std::uint64_t>(threads * per_thread));
  EXPECT_EQ(s.histograms.size(), static_cast<std::size_t>(threads * std::min(per_thread, 50)));
}

TEST(registry, snapshot_is_sorted_and_carries_help_and_kinds) {
  metron::registry reg;
  reg.gauge("b_gauge", {}, "a gauge");
  reg.counter("a_total", {{"z", "1"}}, "a counter");
  reg.counter("a_total", {{"y", "1"}});
  reg.histogram("c_seconds");
  reg.updown_counter("d_inflight");
  auto s = reg.snapshot();
  ASSERT_EQ(s.families.size(), 4u);
  EXPECT_EQ(s.find_family("a_total")->help, "a counter");
  EXPECT_EQ(s.find_family("b_gauge")->kind, metron::metric_kind::gauge);
  EXPECT_EQ(s.find_family("c_seconds")->kind, metron::metric_kind::histogram);
  EXPECT_EQ(s.find_family("d_inflight")->kind, metron::metric_kind::updown_counter);
  ASSERT_EQ(s.counters.size(), 2u);
  EXPECT_EQ(s.counters[0].labels(), (metron::labels{{"y", "1"}}));
  EXPECT_GT(s.wall_ns, 0);
  EXPECT_GT(s.mono_ns, 0);
}

TEST(registry, label_values_and_help_that_are_not_utf8_are_refused_with_a_readable_error) {
  metron::registry reg;
  for (const char* bad : {"\xff", "a\xC0\xAF" "b", "\xED\xA0\x80", "cut \xE2\x9C"}) {
    try {
      reg.counter("c_total", {{"k", bad}});
      FAIL() << "accepted invalid UTF-8";
    } catch (const std::invalid_argument& e) {
      std::string what = e.what();
      EXPECT_NE(what.find("UTF-8"), std::string::npos) << what;
      EXPECT_TRUE(metron::valid_utf8(what)) << "the message itself must be printable";
    }
  }
  EXPECT_THROW(reg.counter("c_total", {}, "help \xff"), std::invalid_argument);
  EXPECT_NO_THROW(reg.counter("c_total", {{"k", "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80"}})); // é ✓ 😀
  EXPECT_EQ(reg.rejected_invalid(), 5u);
  EXPECT_EQ(reg.size(), 1u);
}

TEST(registry, names_labels_and_values_beyond_the_length_limits_are_refused_and_counted) {
  metron::registry reg{metron::registry_config{.max_name_bytes = 32, .max_label_value_bytes = 16, .max_labels = 2}};
  std::string huge(1 << 20, 'a'); // a 1 MiB name
  try {
    reg.counter(huge);
    FAIL() << "accepted a 1 MiB name";
  } catch (const std::invalid_argument& e) {
    EXPECT_LT(std::string{e.what()}.size(), 400u); // the message does not echo the whole name
  }
  EXPECT_THROW(reg.counter("c", {{std::string(33, 'k'), "v"}}), std::invalid_argument);
  EXPECT_THROW(reg.counter("c", {{"k", std::string(17, 'v')}}), std::invalid_argument);
  EXPECT_THROW(reg.counter("c", {{"a", "1"}, {"b", "2"}, {"c", "3"}}), std::invalid_argument);
  EXPECT_NO_THROW(reg.counter(std::string(32, 'n'), {{"a", std::string(16, 'v')}, {"b", "2"}}));
  EXPECT_EQ(reg.rejected_invalid(), 4u);
}

TEST(registry, the_registry_wide_series_limit_refuses_counts_and_keeps_existing_series) {
  metron::registry reg{metron::registry_config{.max_series = 3}};
  auto& a = reg.counter("a_total");
  reg.gauge("b", {{"x", "1"}});
  reg.histogram("c_seconds");
  EXPECT_THROW(reg.gauge("b", {{"x", "2"}}), std::length_error);
  EXPECT_THROW(reg.counter("d_total"), std::length_error);
  EXPECT_EQ(reg.rejected_series(), 2u);
  EXPECT_EQ(&reg.counter("a_total"), &a); // lookups of existing series still work
  EXPECT_EQ(reg.size(), 3u);
}

TEST(registry, refusals_and_rejected_values_are_exported_as_metrics_once_they_happen) {
  metron::registry reg{metron::registry_config{.max_label_sets = 1}};
  auto& h = reg.histogram("h_seconds");
  auto& g = reg.gauge("g");
  auto quiet = reg.snapshot();
  EXPECT_EQ(quiet.find_family("metron_registry_refusals_total"), nullptr); // nothing to report yet
  EXPECT_EQ(quiet.find_family("metron_rejected_values_total"), nullptr);
  EXPECT_THROW(reg.counter("bad name"), std::invalid_argument);
  reg.counter("one_total", {{"k", "1"}});
  EXPECT_THROW(reg.counter("one_total", {{"k", "2"}}), std::length_error);
  h.record(-1.0);
  h.record(std::numeric_limits<double>::quiet_NaN());
  g.set(1.7e308);
  g.add(1.7e308); // would overflow to +inf: rejected
  auto s = reg.snapshot();
  ASSERT_NE(s.find_family("metron_registry_refusals_total"), nullptr);
  EXPECT_EQ(s.find_counter("metron_registry_refusals_total", {{"reason", "invalid"}})->value(), 1u);
  EXPECT_EQ(s.find_counter("metron_registry_refusals_total", {{"reason", "label_sets"}})->value(), 1u);
  EXPECT_EQ(s.find_counter("metron_registry_refusals_total", {{"reason", "series"}})->value(), 0u);
  EXPECT_EQ(s.find_counter("metron_rejected_values_total")->value(), 3u);
  EXPECT_EQ(s.find_gauge("g")->value(), 1.7e308); // the overflowing add changed nothing
  EXPECT_TRUE(std::is_sorted(s.counters.begin(), s.counters.end(),
                             [](auto& a, auto& b) { return a.series < b.series; }));
}

TEST(registry, snapshots_share_each_series_identity_instead_of_copying_names) {
  metron::registry reg;
  reg.counter("a_total", {{"route", "/x"}}).add();
  reg.histogram("h_seconds").record(0.1);
  auto s1 = reg.snapshot();
  auto s2 = reg.snapshot();
  ASSERT_EQ(s1.counters.size(), 1u);
  EXPECT_EQ(s1.counters[0].series.get(), s2.counters[0].series.get()); // the same interned object
  EXPECT_EQ(s1.histograms[0].series.get(), s2.histograms[0].series.get());
  EXPECT_EQ(s1.families[0].get(), s2.families[0].get());
  EXPECT_EQ(s1.counters[0].name(), "a_total");
  EXPECT_EQ(s1.counters[0].series.kind(), metron::metric_kind::counter);
}

TEST(registry, a_help_text_given_later_reaches_later_snapshots_only) {
  metron::registry reg;
  reg.counter("a_total");
  auto before = reg.snapshot();
  reg.counter("a_total", {{"k", "v"}}, "requests served");
  auto after = reg.snapshot();
  EXPECT_EQ(before.find_family("a_total")->help, "");
  EXPECT_EQ(after.find_family("a_total")->help, "requests served");
}

} // namespace
