// The delta wire's codec (modules/remote/src/wire_codec.hpp), without CAF: decoded
// snapshots equal the encoded ones exactly over many random ticks; unchanged series
// cost nothing; the acknowledgement model resyncs after a lost answer, a reconnect or
// a restart; and a decoder fed mutated or made-up frames refuses them without
// crashing, within its limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "metron/registry.hpp"
#include "wire_codec.hpp"

namespace {

using metron::metric_kind;
using metron::snapshot;
using metron::snapshot_ptr;
namespace wire = metron::remote::wire;

// A changing population of series, as a registry (or a collector's merged view) would
// show it: series come and go, values move, some ticks change nothing.
class population {
public:
  explicit population(std::uint64_t seed, std::size_t names = 48) : rng_(seed) {
    for (std::size_t i = 0; i < names; ++i) {
      auto kind = static_cast<metric_kind>(i % 4);
      auto name = "m_" + std::to_string(i);
      for (int v = 0; v < 3; ++v) {
        metron::labels ls;
        if (v > 0)
          ls = {{"code", std::to_string(200 + v)}, {"method", v == 1 ? "GET" : "PUT"}};
        series_.push_back({metron::series_ref::make(name, ls, kind), false, {}});
      }
      families_[name] = metron::family_ref::make(name, kind, "help of " + name);
    }
  }

  // The next tick: `churn` is the chance a series appears or disappears, `move` the
  // chance a present one changes.
  snapshot_ptr tick(double churn, double move) {
    std::uniform_real_distribution<double> u{0, 1};
    for (auto& s : series_) {
      if (u(rng_) < churn) {
        s.present = !s.present;
        s.sample = {};
      }
      if (s.present && u(rng_) < move)
        step(s);
    }
    if (u(rng_) < churn) { // a family's help text changes now and then
      auto it = std::next(families_.begin(), static_cast<long>(rng_() % families_.size()));
      it->second = metron::family_ref::make(it->first, it->second.kind(), "help " + std::to_string(rng_()));
    }
    return build(u(rng_) < 0.2);
  }

private:
  struct values {
    std::uint64_t total = 0;
    std::int64_t signed_total = 0;
    double current = 0;
    std::uint64_t rejected = 0;
    metron::histogram_snapshot data;
  };
  struct entry {
    metron::series_ref ref;
    bool present;
    values sample;
  };

  double any_double() {
    static const double specials[] = {0.0, -0.0, 1.0, 3.0, 4.0, 1e-300, -2.5, 1e300,
                                      std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::denorm_min()};
    if (rng_() % 3 == 0)
      return specials[rng_() % std::size(specials)];
    std::lognormal_distribution<double> d{0, 3};
    return (rng_() % 2 ? 1 : -1) * d(rng_);
  }

  void step(entry& e) {
    auto& v = e.sample;
    switch (e.ref.kind()) {
      case metric_kind::counter:
        v.total += rng_() % 4 == 0 ? rng_() : rng_() % 1000; // also wraps, also down
        break;
      case metric_kind::updown_counter:
        v.signed_total += static_cast<std::int64_t>(rng_() % 2001) - 1000;
        if (rng_() % 16 == 0)
          v.signed_total = static_cast<std::int64_t>(rng_());
        break;
      case metric_kind::gauge:
        if (rng_() % 4 != 0)
          v.current = any_double();
        if (rng_() % 4 == 0)
          v.rejected += rng_() % 3;
        break;
      case metric_kind::histogram: {
        std::map<std::uint32_t, std::uint64_t> b(v.data.buckets().begin(), v.data.buckets().end());
        auto n = rng_() % 40;
        for (std::uint64_t k = 0; k < n; ++k) {
          auto index = rng_() % 2 ? static_cast<std::uint32_t>(rng_() % metron::bucket_layout::size)
                                  : static_cast<std::uint32_t>(2500 + rng_() % 100);
          if (rng_() % 8 == 0)
            b.erase(index); // a bucket that empties (a collector's view may do it)
          else
            b[index] += 1 + rng_() % 50;
        }
        std::vector<metron::histogram_snapshot::bucket> bs(b.begin(), b.end());
        v.data = metron::histogram_snapshot(std::move(bs), any_double(), any_double(), any_double(),
                                            v.data.rejected() + rng_() % 2);
        break;
      }
    }
  }

  // A sorted snapshot of the present series; `fresh`: identities made anew (as a
  // merged view does) instead of the interned ones.
  snapshot_ptr build(bool fresh) {
    auto s = std::make_shared<snapshot>();
    std::vector<const entry*> present;
    for (auto& e : series_)
      if (e.present)
        present.push_back(&e);
    std::sort(present.begin(), present.end(), [](auto* a, auto* b) { return a->ref < b->ref; });
    std::map<std::string, bool> names;
    for (auto* e : present) {
      auto ref = fresh ? metron::series_ref::make(e->ref.name(), e->ref.labels(), e->ref.kind()) : e->ref;
      names[e->ref.name()] = true;
      auto& v = e->sample;
      switch (e->ref.kind()) {
        case metric_kind::counter:
          s->counters.emplace_back().series = ref;
          s->counters.back().total = v.total;
          break;
        case metric_kind::updown_counter:
          s->updowns.emplace_back().series = ref;
          s->updowns.back().total = v.signed_total;
          break;
        case metric_kind::gauge:
          s->gauges.emplace_back().series = ref;
          s->gauges.back().current = v.current;
          s->gauges.back().rejected = v.rejected;
          break;
        case metric_kind::histogram:
          s->histograms.emplace_back().series = ref;
          s->histograms.back().data = v.data;
          break;
      }
    }
    for (auto& [name, _] : names)
      s->families.push_back(families_.at(name));
    s->wall_ns = wall_ += static_cast<std::int64_t>(rng_() % 2'000'000'000);
    s->mono_ns = static_cast<std::int64_t>(rng_()); // anything, also going back
    return s;
  }

  std::mt19937_64 rng_;
  std::vector<entry> series_;
  std::map<std::string, metron::family_ref> families_;
  std::int64_t wall_ = 1'700'000'000'000'000'000;
};

// One connection: encode, deliver, acknowledge.
snapshot_ptr round(wire::encoder& enc, wire::decoder& dec, const snapshot_ptr& s, wire::bytes* frame = nullptr) {
  auto bytes = enc.encode(s);
  wire::error why = wire::error::none;
  auto out = dec.apply(bytes, &why);
  EXPECT_EQ(why, wire::error::none) << wire::to_string(why);
  enc.acknowledged(dec.held());
  if (frame)
    *frame = std::move(bytes);
  return out;
}

// Checks a decoded snapshot is well-formed: sorted, unique keys.
void expect_sorted(const snapshot& s) {
  auto strictly = [](auto& v) {
    for (std::size_t i = 1; i < v.size(); ++i)
      if (!(v[i - 1].series < v[i].series))
        return false;
    return true;
  };
  EXPECT_TRUE(strictly(s.counters) && strictly(s.updowns) && strictly(s.gauges) && strictly(s.histograms));
  for (std::size_t i = 1; i < s.families.size(); ++i)
    EXPECT_LT(s.families[i - 1]->name, s.families[i]->name);
}

TEST(wire_codec, decoded_snapshots_equal_the_encoded_ones_exactly_over_many_random_ticks) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    population pop{seed};
    wire::encoder enc;
    wire::decoder dec;
    for (int t = 0; t < 300; ++t) {
      auto s = pop.tick(t % 50 == 0 ? 0.5 : 0.03, t % 7 == 0 ? 0.0 : 0.4);
      auto got = round(enc, dec, s);
      ASSERT_TRUE(got);
      ASSERT_EQ(*got, *s) << "seed " << seed << " tick " << t;
      // Stored fields, also of empty histograms (min/max/count as stored).
      for (std::size_t i = 0; i < s->histograms.size(); ++i) {
        auto& a = s->histograms[i].data;
        auto& b = got->histograms[i].data;
        ASSERT_EQ(a.count(), b.count());
        ASSERT_EQ(a.buckets(), b.buckets());
      }
      expect_sorted(*got);
    }
  }
}

TEST(wire_codec, decoded_snapshots_share_each_series_identity_from_tick_to_tick) {
  population pop{3};
  wire::encoder enc;
  wire::decoder dec;
  auto a = round(enc, dec, pop.tick(0.0, 0.0));
  pop.tick(0.5, 0.0); // half the series appear
  auto b = round(enc, dec, pop.tick(0.0, 1.0));
  auto c = round(enc, dec, pop.tick(0.0, 1.0));
  ASSERT_FALSE(b->counters.empty());
  ASSERT_EQ(b->counters.size(), c->counters.size());
  for (std::size_t i = 0; i < b->counters.size(); ++i)
    EXPECT_EQ(b->counters[i].series.get(), c->counters[i].series.get());
  EXPECT_EQ(b->families.front().get(), c->families.front().get());
}

TEST(wire_codec, an_unchanged_snapshot_costs_a_header_whatever_its_size) {
  for (std::size_t names : {8, 400}) {
    population pop{5, names};
    wire::encoder enc;
    wire::decoder dec;
    pop.tick(1.0, 1.0); // everything present, with values
    auto s = pop.tick(0.0, 0.0);
    wire::bytes full, same;
    round(enc, dec, s, &full);
    auto again = std::make_shared<snapshot>(*s);
    auto got = round(enc, dec, again, &same);
    EXPECT_EQ(*got, *s);
    // magic, version, flags, seq, base, two clock deltas, five empty sections
    EXPECT_LE(same.size(), 12u) << names << " names";
    EXPECT_GT(full.size(), names * 10);
  }
}

TEST(wire_codec, a_frame_whose_base_the_decoder_does_not_hold_is_refused_and_the_next_is_full) {
  population pop{7};
  wire::encoder enc;
  wire::decoder dec;
  round(enc, dec, pop.tick(1.0, 1.0));
  round(enc, dec, pop.tick(0.05, 0.5));
  ASSERT_TRUE(enc.has_base());

  // The answer to a frame is lost (the request timed out): the decoder applied it,
  // the encoder cannot know, so it forgets its base and sends a full frame.
  auto lost = enc.encode(pop.tick(0.05, 0.5));
  ASSERT_TRUE(dec.apply(lost));
  enc.reset();
  ASSERT_FALSE(enc.has_base());
  auto s = pop.tick(0.05, 0.5);
  EXPECT_EQ(*round(enc, dec, s), *s);

  // A collector that reconnects has a fresh decoder; a delta is refused (a resync, not
  // a hostile frame), the answer 0 makes the encoder send a full frame.
  wire::decoder fresh;
  auto delta = enc.encode(pop.tick(0.05, 0.5));
  wire::error why{};
  EXPECT_FALSE(fresh.apply(delta, &why));
  EXPECT_EQ(why, wire::error::base);
  enc.acknowledged(fresh.held());
  EXPECT_FALSE(enc.has_base());
  s = pop.tick(0.05, 0.5);
  EXPECT_EQ(*round(enc, fresh, s), *s);

  // An answer that names another frame drops the base too.
  enc.encode(pop.tick(0.0, 0.5));
  enc.acknowledged(12345);
  EXPECT_FALSE(enc.has_base());
}

// A registry's series lifecycle on the wire: a removed series is a "series removed"
// entry (gone at the collector), and when its handle is recorded into again it is
// described anew and its change from zero is its whole total: back, exact.
TEST(wire_codec, a_removed_series_vanishes_at_the_decoder_and_comes_back_with_its_exact_total) {
  metron::registry reg;
  auto& c = reg.counter("jobs_total", {{"queue", "a"}});
  auto& h = reg.histogram("job_seconds");
  reg.counter("jobs_total", {{"queue", "b"}}).add(1);
  c.add(40);
  for (int i = 1; i <= 100; ++i)
    h.record(0.001 * i);
  wire::encoder enc;
  wire::decoder dec;
  auto snap = [&] { return std::make_shared<const snapshot>(reg.snapshot()); };
  auto first = round(enc, dec, snap());
  ASSERT_NE(first, nullptr);
  ASSERT_NE(first->find_counter("jobs_total", {{"queue", "a"}}), nullptr);
  ASSERT_TRUE(reg.remove("jobs_total", {{"queue", "a"}}));
  ASSERT_TRUE(reg.remove("job_seconds"));
  auto gone = round(enc, dec, snap());
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->find_counter("jobs_total", {{"queue", "a"}}), nullptr);
  EXPECT_EQ(gone->find_histogram("job_seconds"), nullptr);
  EXPECT_EQ(gone->find_family("job_seconds"), nullptr);
  ASSERT_NE(gone->find_counter("jobs_total", {{"queue", "b"}}), nullptr);
  c.add(2);
  h.record(0.5);
  auto s = snap();
  auto back = round(enc, dec, s);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(*back, *s);
  ASSERT_NE(back->find_counter("jobs_total", {{"queue", "a"}}), nullptr);
  EXPECT_EQ(back->find_counter("jobs_total", {{"queue", "a"}})->value(), 42u);
  ASSERT_NE(back->find_histogram("job_seconds"), nullptr);
  EXPECT_EQ(back->find_histogram("job_seconds")->count(), 101u);
  EXPECT_EQ(back->find_histogram("job_seconds")->buckets(), s->find_histogram("job_seconds")->buckets());
}

TEST(wire_codec, a_restarted_node_replaces_everything_the_decoder_held) {
  population before{11}, after{12, 10};
  wire::encoder enc;
  wire::decoder dec;
  for (int t = 0; t < 5; ++t)
    round(enc, dec, before.tick(0.3, 0.5));
  wire::encoder restarted; // a new process: a new encoder, its first frame full
  auto s = after.tick(1.0, 1.0);
  auto got = round(restarted, dec, s);
  EXPECT_EQ(*got, *s);
  EXPECT_EQ(dec.series(), s->series());
}

// -- hostile input -------------------------------------------------------------------

void put(wire::bytes& b, std::uint64_t x) {
  while (x >= 0x80) {
    b.push_back(static_cast<std::uint8_t>(x) | 0x80);
    x >>= 7;
  }
  b.push_back(static_cast<std::uint8_t>(x));
}

// A full frame's header and empty family sections.
wire::bytes full_header() {
  return {wire::magic, wire::version, 1, 1, 0, 0, 0, 0, 0};
}

void put_str(wire::bytes& b, const std::string& s) {
  put(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

wire::error refusal_of(const wire::bytes& frame, wire::limits lim = {}) {
  wire::decoder dec{lim};
  wire::error why{};
  auto out = dec.apply(frame, &why);
  EXPECT_FALSE(out);
  EXPECT_EQ(dec.held(), 0u);
  return why;
}

TEST(wire_codec, malformed_frames_are_refused_with_their_reason) {
  EXPECT_EQ(refusal_of({}), wire::error::truncated);
  EXPECT_EQ(refusal_of({0x6E, 1, 1, 1, 0}), wire::error::bad_header);
  EXPECT_EQ(refusal_of({wire::magic, 2, 1, 1, 0}), wire::error::bad_header);
  EXPECT_EQ(refusal_of({wire::magic, 1, 3, 1, 0}), wire::error::bad_header);
  EXPECT_EQ(refusal_of({wire::magic, 1, 1, 0, 0}), wire::error::bad_header);   // seq 0
  EXPECT_EQ(refusal_of({wire::magic, 1, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0}), wire::error::base);
  auto f = full_header();
  f.insert(f.end(), {0, 0});
  EXPECT_EQ(refusal_of(f), wire::error::truncated);
  f.push_back(0);
  EXPECT_TRUE(wire::decoder{}.apply(f)); // the smallest full frame: nothing at all
  f.push_back(0);
  EXPECT_EQ(refusal_of(f), wire::error::trailing);

  // An 11-byte varint, a count beyond the limit, a string longer than the frame.
  EXPECT_EQ(refusal_of({wire::magic, 1, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}),
            wire::error::bad_change);
  f = full_header();
  f.pop_back();
  f.pop_back();
  put(f, std::uint64_t{1} << 40); // families removed
  EXPECT_EQ(refusal_of(f), wire::error::limit);

  auto series = [](std::uint64_t id, std::uint8_t kind, const std::string& name, std::vector<std::string> kv) {
    auto b = full_header();
    b.push_back(0); // no series removed
    b.push_back(1); // one described
    put(b, id);
    b.push_back(kind);
    put_str(b, name);
    put(b, kv.size() / 2);
    for (auto& s : kv)
      put_str(b, s);
    return b;
  };
  auto ok = series(0, 0, "c_total", {"a", "1"});
  ok.push_back(0);
  EXPECT_TRUE(wire::decoder{}.apply(ok));
  EXPECT_EQ(refusal_of(series(0, 4, "x", {})), wire::error::bad_identity);           // kind
  EXPECT_EQ(refusal_of(series(0, 0, "1x", {})), wire::error::bad_identity);          // name
  EXPECT_EQ(refusal_of(series(0, 0, "x", {"__r", "v"})), wire::error::bad_identity); // reserved key
  EXPECT_EQ(refusal_of(series(0, 0, "x", {"b", "1", "a", "2"})), wire::error::bad_identity); // unsorted
  EXPECT_EQ(refusal_of(series(0, 0, "x", {"a", "\xff"})), wire::error::bad_identity);        // UTF-8
  EXPECT_EQ(refusal_of(series(0, 0, std::string(256, 'x'), {})), wire::error::limit);
  EXPECT_EQ(refusal_of(series(1u << 20, 0, "x", {})), wire::error::limit); // id beyond max_series

  // Two series with one identity; a change of an id never described; a bucket index
  // beyond the layout.
  auto two = full_header();
  two.insert(two.end(), {0, 2, 0, 0, 1, 'x', 0, 1, 0, 1, 'x', 0, 0});
  EXPECT_EQ(refusal_of(two), wire::error::duplicate);
  auto change = series(0, 0, "x", {});
  change.insert(change.end(), {1, 1, 5});
  EXPECT_EQ(refusal_of(change), wire::error::bad_id);
  auto bucket = series(0, 3, "h", {});
  bucket.insert(bucket.end(), {1, 0, 1, 1});
  put(bucket, metron::bucket_layout::size);
  bucket.push_back(2);
  EXPECT_EQ(refusal_of(bucket), wire::error::bad_change);

  // Budgets over many frames: series held, buckets held.
  wire::limits small;
  small.max_series = 4;
  auto five = full_header();
  five.insert(five.end(), {0, 5});
  for (int i = 0; i < 5; ++i) {
    put(five, static_cast<std::uint64_t>(i));
    five.push_back(0);
    put_str(five, std::string{"s"} + static_cast<char>('0' + i));
    five.push_back(0);
  }
  five.push_back(0);
  EXPECT_EQ(refusal_of(five, small), wire::error::limit);
  small = {};
  small.max_buckets = 10;
  auto many = series(0, 3, "h", {});
  many.insert(many.end(), {1, 0, 1, 11});
  for (int i = 0; i < 11; ++i)
    many.insert(many.end(), {0, 2});
  EXPECT_EQ(refusal_of(many, small), wire::error::limit);
}

// Fewer under the sanitizers, which multiply the time. A longer run by hand:
// -DWIRE_FUZZ_ROUNDS=... -DWIRE_FUZZ_SEED=...
#if defined(WIRE_FUZZ_ROUNDS)
constexpr int fuzz_rounds = WIRE_FUZZ_ROUNDS;
#elif defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int fuzz_rounds = 100'000;
#else
constexpr int fuzz_rounds = 300'000;
#endif
#ifndef WIRE_FUZZ_SEED
#define WIRE_FUZZ_SEED 2024
#endif

// Deterministic mutation fuzzing: real frames (full and delta, of a changing
// population) with bits flipped, bytes replaced, inserted, dropped, cut short or
// spliced from another frame, applied to a decoder holding the frame's base. A
// mutated frame is refused (state forgotten) or accepted (then the result is a
// well-formed snapshot); never a crash, never an allocation beyond the limits.
TEST(wire_codec, a_decoder_survives_hundreds_of_thousands_of_mutated_frames) {
  wire::limits lim;
  lim.max_series = 64;
  lim.max_families = 64;
  lim.max_buckets = 4096;
  lim.max_identity_bytes = 1 << 16;
  // Each case: a frame of one encoder (full every 8th) and a copy of the decoder as it
  // was before that frame, i.e. holding the frame's base.
  struct fuzz_case {
    wire::decoder base;
    wire::bytes frame;
  };
  std::vector<fuzz_case> cases;
  {
    population p{101, 12};
    wire::encoder e;
    wire::decoder d{lim};
    for (int t = 0; t < 40; ++t) {
      if (t % 8 == 0)
        e.reset();
      auto f = e.encode(p.tick(0.15, 0.6));
      cases.push_back({d, f});
      ASSERT_TRUE(d.apply(f));
      e.acknowledged(d.held());
    }
  }
  std::mt19937_64 rng{WIRE_FUZZ_SEED};
  std::size_t accepted = 0, refused = 0;
  for (int r = 0; r < fuzz_rounds; ++r) {
    auto& c = cases[rng() % cases.size()];
    auto dec = c.base;
    auto frame = c.frame;
    auto mutations = 1 + rng() % 4;
    for (std::uint64_t m = 0; m < mutations; ++m) {
      if (frame.empty())
        break;
      auto at = rng() % frame.size();
      switch (rng() % 7) {
        case 0:
          frame[at] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
          break;
        case 1:
          frame[at] = static_cast<std::uint8_t>(rng());
          break;
        case 2:
          frame.insert(frame.begin() + static_cast<long>(at), static_cast<std::uint8_t>(rng()));
          break;
        case 3:
          frame.erase(frame.begin() + static_cast<long>(at));
          break;
        case 4:
          frame.resize(at);
          break;
        case 5: { // splice a piece of another frame
          auto& other = cases[rng() % cases.size()].frame;
          auto from = rng() % other.size();
          auto len = std::min<std::size_t>(other.size() - from, 1 + rng() % 16);
          frame.insert(frame.begin() + static_cast<long>(at), other.begin() + static_cast<long>(from),
                       other.begin() + static_cast<long>(from + len));
          break;
        }
        case 6: // a large varint where one was
          frame[at] = 0xFF;
          if (at + 1 < frame.size())
            frame[at + 1] = 0xFF;
          break;
      }
    }
    wire::error why{};
    auto out = dec.apply(frame, &why);
    if (out) {
      ++accepted;
      expect_sorted(*out);
      ASSERT_LE(out->series(), lim.max_series);
      ASSERT_NE(dec.held(), 0u);
    } else {
      ++refused;
      ASSERT_NE(why, wire::error::none);
      ASSERT_EQ(dec.held(), 0u);
      ASSERT_EQ(dec.series(), 0u);
    }
  }
  EXPECT_GT(refused, static_cast<std::size_t>(fuzz_rounds) / 2);
  RecordProperty("accepted", static_cast<int>(accepted));
}

} // namespace
