#include <metron/exemplar.hpp>
#include <metron/histogram.hpp>
#include <metron/registry.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <charconv>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

using namespace std::chrono_literals;
using metron::bucket_layout;
using metron::exemplar;
using metron::histogram;

constexpr std::size_t queue_capacity = 16; // core/src/exemplar_queue.hpp

// prefix + decimal i (operator+ on a literal trips GCC 12's -Wrestrict false positive).
std::string tid(const char* prefix, std::size_t i) {
  std::string s = prefix;
  s += std::to_string(i);
  return s;
}

std::uint32_t block_of(double v) {
  return static_cast<std::uint32_t>(bucket_layout::index(v) >> bucket_layout::block_bits);
}

// -- the exemplar value ---------------------------------------------------------------

TEST(exemplar, holds_a_trace_id_and_labels) {
  exemplar e{"4bf92f3577b34da6a3ce929d0e0e4736"};
  e.add("span_id", "00f067aa0ba902b7");
  ASSERT_TRUE(e.valid());
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e.name(0), "trace_id");
  EXPECT_EQ(e.value(0), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(e.name(1), "span_id");
  EXPECT_EQ(e.value(1), "00f067aa0ba902b7");
  EXPECT_EQ(e.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_TRUE(exemplar{}.valid());
  EXPECT_EQ(exemplar{}.trace_id(), "");
}

TEST(exemplar, a_label_set_of_exactly_128_bytes_fits_and_one_more_byte_does_not) {
  std::string value(128 - 8, 'a'); // "trace_id" is 8 bytes
  EXPECT_TRUE(exemplar{value}.valid());
  EXPECT_EQ(exemplar{value}.trace_id(), value);
  exemplar over{std::string{value}.append("a")};
  EXPECT_FALSE(over.valid());
  EXPECT_EQ(over.size(), 0u);
}

TEST(exemplar, invalid_names_repeats_bad_utf8_and_too_many_labels_make_it_invalid) {
  EXPECT_FALSE(exemplar{}.add("1abc", "x").valid());
  EXPECT_FALSE(exemplar{}.add("__reserved", "x").valid());
  EXPECT_FALSE(exemplar{}.add("a-b", "x").valid());
  EXPECT_FALSE(exemplar{"t"}.add("trace_id", "u").valid());
  EXPECT_FALSE(exemplar{"\xff\xfe"}.valid());
  exemplar many;
  for (int i = 0; i < 4; ++i)
    many.add(tid("l", i), "v");
  EXPECT_TRUE(many.valid());
  EXPECT_FALSE(many.add("l4", "v").valid());
  // Once invalid, it stays so.
  exemplar bad{"\xff"};
  EXPECT_FALSE(bad.add("ok", "fine").valid());
}

// -- recording and snapshots ------------------------------------------------------------

TEST(histogram_exemplars, a_value_with_an_exemplar_is_recorded_exactly_as_without) {
  histogram with, without;
  for (int i = 1; i <= 1000; ++i) {
    double v = i * 0.37e-3;
    with.record(v, exemplar{tid("t", i)});
    without.record(v);
  }
  auto a = with.snapshot();
  auto b = without.snapshot();
  EXPECT_EQ(a.buckets(), b.buckets());
  EXPECT_EQ(a.sum(), b.sum());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.max(), b.max());
  EXPECT_TRUE(b.exemplars().empty());
}

TEST(histogram_exemplars, the_snapshot_carries_the_latest_exemplar_per_block) {
  histogram h;
  auto before = std::chrono::system_clock::now().time_since_epoch();
  h.record(0.003, exemplar{"a"});
  h.record(0.0031, exemplar{"b"}); // same binade as 0.003
  h.record(0.5, exemplar{"c"});
  h.record(0.7); // no exemplar: does not replace c
  auto after = std::chrono::system_clock::now().time_since_epoch();
  auto s = h.snapshot();
  ASSERT_EQ(s.exemplars().size(), 2u);
  auto& lo = s.exemplars()[0];
  auto& hi = s.exemplars()[1];
  EXPECT_EQ(lo.block, block_of(0.003));
  EXPECT_EQ(lo.labels.trace_id(), "b");
  EXPECT_EQ(lo.value, 0.0031);
  EXPECT_EQ(hi.block, block_of(0.5));
  EXPECT_EQ(hi.labels.trace_id(), "c");
  EXPECT_EQ(hi.value, 0.5);
  // A coarse clock (histogram.cpp): up to one tick (<= 10 ms) behind system_clock.
  EXPECT_GE(hi.wall_ns, std::chrono::duration_cast<std::chrono::nanoseconds>(before - 10ms).count());
  EXPECT_LE(hi.wall_ns, std::chrono::duration_cast<std::chrono::nanoseconds>(after).count());
  EXPECT_EQ(s.exemplars_dropped(), 0u);
}

TEST(histogram_exemplars, two_readers_do_not_take_exemplars_from_each_other) {
  histogram h;
  h.record(0.25, exemplar{"kept"});
  auto first = h.snapshot();
  auto second = h.snapshot();
  ASSERT_EQ(first.exemplars().size(), 1u);
  EXPECT_EQ(first.exemplars(), second.exemplars());
}

TEST(histogram_exemplars, a_full_queue_drops_the_newest_and_counts_them_in_order) {
  metron::registry r;
  auto& h = r.histogram("latency_seconds");
  for (std::size_t i = 0; i < queue_capacity + 5; ++i)
    h.record(0.1, exemplar{tid("t", i)});
  EXPECT_EQ(h.exemplars_dropped(), 5u);
  auto s = r.snapshot();
  auto* hs = s.find_histogram("latency_seconds");
  ASSERT_NE(hs, nullptr);
  EXPECT_EQ(hs->count(), queue_capacity + 5); // every value recorded
  ASSERT_EQ(hs->exemplars().size(), 1u);
  // FIFO: the last one queued (not dropped) is the latest.
  EXPECT_EQ(hs->exemplars()[0].labels.trace_id(), tid("t", queue_capacity - 1));
  auto* dropped = s.find_counter("metron_exemplars_dropped_total");
  ASSERT_NE(dropped, nullptr);
  EXPECT_EQ(dropped->total, 5u);
  // Drained: the queue takes exemplars again.
  h.record(0.1, exemplar{"again"});
  EXPECT_EQ(h.snapshot().exemplars()[0].labels.trace_id(), "again");
  EXPECT_EQ(h.exemplars_dropped(), 5u);
}

TEST(histogram_exemplars, an_invalid_exemplar_is_counted_and_its_value_recorded) {
  histogram h;
  h.record(1.5, exemplar{std::string(200, 'x')});
  auto s = h.snapshot();
  EXPECT_EQ(s.count(), 1u);
  EXPECT_TRUE(s.exemplars().empty());
  EXPECT_EQ(h.exemplars_dropped(), 1u);
}

TEST(histogram_exemplars, a_rejected_value_carries_no_exemplar_and_is_not_a_drop) {
  histogram h;
  h.record(std::nan(""), exemplar{"nan"});
  h.record(-1.0, exemplar{"neg"});
  auto s = h.snapshot();
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.rejected(), 2u);
  EXPECT_TRUE(s.exemplars().empty());
  EXPECT_EQ(h.exemplars_dropped(), 0u);
}

TEST(histogram_exemplars, an_exemplar_outlives_the_thread_that_recorded_it) {
  histogram h;
  std::thread{[&] { h.record(0.02, exemplar{"gone"}); }}.join();
  auto s = h.snapshot();
  ASSERT_EQ(s.exemplars().size(), 1u);
  EXPECT_EQ(s.exemplars()[0].labels.trace_id(), "gone");
}

TEST(histogram_exemplars, locked_mode_records_exemplars_too) {
  metron::registry r{metron::registry_config{.lock_free = false}};
  auto& h = r.histogram("h");
  h.record(0.2, exemplar{"locked"});
  for (std::size_t i = 0; i < queue_capacity; ++i)
    h.record(0.2, exemplar{"more"});
  EXPECT_EQ(h.exemplars_dropped(), 1u);
  auto s = h.snapshot();
  EXPECT_EQ(s.count(), queue_capacity + 1);
  ASSERT_EQ(s.exemplars().size(), 1u);
  EXPECT_EQ(s.exemplars()[0].labels.trace_id(), "more");
}

// Records made during thread exit, after the thread gave its slot back, go to a shared
// slab (thread_slot.hpp): the exemplar then takes the shared queue's busy flag.
struct record_at_exit {
  histogram* h = nullptr;
  std::string id;
  ~record_at_exit() {
    if (h != nullptr)
      h->record(4.0, exemplar{id});
  }
};

TEST(histogram_exemplars, records_from_a_shared_slab_deliver_or_count_every_exemplar) {
  histogram h;
  constexpr int threads = 8;
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i)
    ts.emplace_back([&h, i] {
      thread_local record_at_exit late; // constructed before the slot owner: destroyed after it
      late.h = &h;
      late.id = tid("exit", i);
      h.record(1.0); // claims a slot
    });
  for (auto& t : ts)
    t.join();
  auto s = h.snapshot();
  EXPECT_EQ(s.count(), 2u * threads);
  EXPECT_EQ(s.count_at_or_below(2.0), static_cast<std::uint64_t>(threads));
  // Up to 8 exits share slabs (16 of them) and race for a queue's flag: each exemplar
  // was delivered or counted; the latest of block(4.0) is one of them.
  ASSERT_EQ(s.exemplars().size(), 1u);
  EXPECT_EQ(s.exemplars()[0].labels.trace_id().substr(0, 4), "exit");
  EXPECT_EQ(s.exemplars()[0].value, 4.0);
  EXPECT_LE(h.exemplars_dropped(), static_cast<std::uint64_t>(threads - 1));
}

TEST(histogram_exemplars, threads_recording_while_snapshots_drain_keep_values_exact_and_exemplars_whole) {
  histogram h;
  constexpr int writers = 4;
  const std::uint64_t per_writer = metron::test::scaled(50'000);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> seen{0}, torn{0};
  auto check = [&](const metron::histogram_snapshot& s) {
    for (auto& e : s.exemplars()) {
      // Each trace id is the decimal of the value it was recorded with.
      double parsed = 0;
      auto id = e.labels.trace_id();
      std::from_chars(id.data(), id.data() + id.size(), parsed);
      if (parsed != e.value || e.block != block_of(e.value))
        torn.fetch_add(1);
      seen.fetch_add(1);
    }
  };
  std::thread reader{[&] {
    while (!done.load())
      check(h.snapshot());
  }};
  std::vector<std::thread> ts;
  for (int w = 0; w < writers; ++w)
    ts.emplace_back([&, w] {
      for (std::uint64_t i = 0; i < per_writer; ++i) {
        double v = static_cast<double>((i * 7919 + static_cast<std::uint64_t>(w)) % 100'000) * 1e-6;
        char buf[32];
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        h.record(v, exemplar{std::string_view{buf, static_cast<std::size_t>(r.ptr - buf)}});
      }
    });
  for (auto& t : ts)
    t.join();
  done.store(true);
  reader.join();
  auto s = h.snapshot();
  check(s);
  EXPECT_EQ(s.count(), writers * per_writer);
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GT(seen.load(), 0u);
  EXPECT_LT(h.exemplars_dropped(), writers * per_writer);
}

// -- combining ------------------------------------------------------------------------

TEST(histogram_exemplars, merge_keeps_the_later_exemplar_per_block_and_minus_keeps_the_later_snapshots) {
  histogram a, b;
  a.record(0.1, exemplar{"a-old"});
  a.record(10.0, exemplar{"a-only"});
  auto sa = a.snapshot();
  b.record(0.1, exemplar{"b-new"});
  b.record(0.001, exemplar{"b-only"});
  auto sb = b.snapshot();
  // The clock is coarse (histogram.cpp): set the times.
  auto ea = sa.exemplars();
  ea[0].wall_ns = 100, ea[1].wall_ns = 100;
  sa.set_exemplars(ea, 0);
  auto eb = sb.exemplars();
  eb[0].wall_ns = 200, eb[1].wall_ns = 200;
  sb.set_exemplars(eb, 0);
  auto merged = sa;
  merged.merge(sb);
  ASSERT_EQ(merged.exemplars().size(), 3u);
  EXPECT_EQ(merged.exemplars()[0].labels.trace_id(), "b-only");
  EXPECT_EQ(merged.exemplars()[1].labels.trace_id(), "b-new");
  EXPECT_EQ(merged.exemplars()[2].labels.trace_id(), "a-only");
  auto other = sb;
  other.merge(sa); // the order of merging does not matter
  EXPECT_EQ(other.exemplars(), merged.exemplars());

  a.record(0.1, exemplar{"a-later"});
  auto later = a.snapshot();
  auto d = later.minus(sa);
  EXPECT_EQ(d.count(), 1u);
  EXPECT_EQ(d.exemplars(), later.exemplars());
}

TEST(histogram_exemplars, exemplar_state_keeps_the_histogram_within_two_cache_lines) {
  EXPECT_LE(sizeof(metron::histogram), 128u);
  EXPECT_EQ(sizeof(metron::detail::histogram_shard), 704u);
}

} // namespace

namespace {

TEST(histogram_exemplars, merging_exemplars_of_equal_times_is_commutative) {
  histogram a, b;
  a.record(0.1, exemplar{"x"});
  b.record(0.1001, exemplar{"y"});
  auto sa = a.snapshot();
  auto sb = b.snapshot();
  auto ea = sa.exemplars();
  auto eb = sb.exemplars();
  ea[0].wall_ns = eb[0].wall_ns = 5;
  sa.set_exemplars(ea, 0);
  sb.set_exemplars(eb, 0);
  auto ab = sa;
  ab.merge(sb);
  auto ba = sb;
  ba.merge(sa);
  ASSERT_EQ(ab.exemplars().size(), 1u);
  EXPECT_EQ(ab.exemplars(), ba.exemplars());
  EXPECT_EQ(ab.exemplars()[0].labels.trace_id(), "y"); // the larger value breaks the tie
}

} // namespace
