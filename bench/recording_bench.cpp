// bench/recording_bench.cpp — the hot path: cost of one record, per thread, at 1, 2
// and 4 (oversubscribed) pinned threads, next to the physical floor and the peers a
// user would otherwise pick.
//
// Names: floor/..., metron/<op> (lock-free mode, the default), metron_locked/<op>
// (the same registry API after set_lock_free(false)), peer/<library>.<op>.
// bench/report.py matches these names; rename both together.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <vector>

#include <benchmark/benchmark.h>

#include <metron/metron.hpp>

#ifdef METRON_BENCH_HAVE_PROMETHEUS
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/summary.h>
#endif
#ifdef METRON_BENCH_HAVE_TBB
#include <tbb/enumerable_thread_specific.h>
#endif
#include <boost/histogram.hpp>

#include "bench_support.hpp"
#include "peer_buckets.hpp"

namespace {

using namespace metron_bench;

const auto& values = latencies();

// -- floors ------------------------------------------------------------------------

struct alignas(64) private_line {
  std::atomic<std::uint64_t> value{0};
};
private_line private_lines[64]; // one per benchmark thread index

thread_local std::uint64_t tl_count = 0;

// -- metron: one registry per mode ---------------------------------------------------

struct metron_set {
  metron::registry reg;
  metron::counter& counter;
  metron::updown_counter& updown;
  metron::gauge& gauge;
  metron::histogram& histogram;

  explicit metron_set(bool lock_free)
    : counter(reg.counter("bench_requests_total")),
      updown(reg.updown_counter("bench_in_flight")),
      gauge(reg.gauge("bench_queue_depth")),
      histogram(reg.histogram("bench_latency_seconds")) {
    reg.set_lock_free(lock_free);
  }
};

metron_set& lock_free_set() {
  static metron_set s{true};
  return s;
}
metron_set& locked_set() {
  static metron_set s{false};
  return s;
}

metron::ring_buffer<double>& ring() {
  static metron::ring_buffer<double> r{4096};
  return r;
}

// -- peers -------------------------------------------------------------------------

alignas(64) std::atomic<std::uint64_t> shared_counter{0};

struct alignas(64) mutex_counter {
  std::mutex mutex;
  std::uint64_t value = 0;
} mutex_count;

/// The "traditional" collector: 20 buckets, count and sum behind one mutex.
struct alignas(64) mutex_histogram {
  std::mutex mutex;
  std::uint64_t buckets[peer_bucket_count + 1] = {}; // + the +Inf bucket
  std::uint64_t count = 0;
  double sum = 0;

  void record(double v) {
    auto b = peer_bucket_index(v);
    std::lock_guard<std::mutex> guard{mutex};
    buckets[b] += 1;
    count += 1;
    sum += v;
  }
} mutex_hist;

/// The same ring, traditional: a vector and an index behind one mutex.
struct alignas(64) mutex_ring {
  std::mutex mutex;
  std::vector<double> slots = std::vector<double>(4096);
  std::uint64_t head = 0;

  void push(double v) {
    std::lock_guard<std::mutex> guard{mutex};
    slots[head++ & 4095] = v;
  }
} mutex_ring_buf;

auto& boost_histogram() {
  using namespace boost::histogram;
  static auto h = make_histogram_with(dense_storage<accumulators::thread_safe<std::uint64_t>>(),
                                      axis::regular<double, axis::transform::log>(20, 1e-4, 10.0));
  return h;
}

#ifdef METRON_BENCH_HAVE_PROMETHEUS
prometheus::Counter prom_counter;
prometheus::Gauge prom_gauge;
prometheus::Histogram& prom_histogram() {
  static prometheus::Histogram h{peer_bounds()};
  return h;
}
prometheus::Summary& prom_summary() {
  // prometheus-cpp has no default objectives; these are the ones its README and
  // most users copy (and the Go client's former defaults).
  static prometheus::Summary s{prometheus::Summary::Quantiles{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}}};
  return s;
}
#endif

#ifdef METRON_BENCH_HAVE_TBB
tbb::enumerable_thread_specific<std::uint64_t> tbb_counter{0};
#endif

// -- registration ------------------------------------------------------------------

void register_metron(const char* prefix, metron_set& (*set)()) {
  std::string p = prefix;
  sweep((p + "/counter.add").c_str(), [set](benchmark::State& st) {
    auto& c = set().counter;
    run(st, [&](std::uint64_t) { c.add(); });
  });
  sweep((p + "/updown_counter.add").c_str(), [set](benchmark::State& st) {
    auto& u = set().updown;
    run(st, [&](std::uint64_t i) { u.add((i & 1) != 0 ? 1 : -1); });
  });
  sweep((p + "/gauge.set").c_str(), [set](benchmark::State& st) {
    auto& g = set().gauge;
    run(st, [&](std::uint64_t i) { g.set(values[i & value_mask]); });
  });
  sweep((p + "/gauge.add").c_str(), [set](benchmark::State& st) {
    auto& g = set().gauge;
    run(st, [&](std::uint64_t i) { g.add((i & 1) != 0 ? 1.0 : -1.0); });
  });
  sweep((p + "/histogram.record").c_str(), [set](benchmark::State& st) {
    auto& h = set().histogram;
    run(st, [&](std::uint64_t i) { h.record(values[i & value_mask]); });
  });
}

// -- exemplars: record(v) and record(v, exemplar) side by side ----------------------
// A queue holds 16 exemplars between two snapshots, so each iteration times 16 records
// (manual time: a steady_clock read before and after, the same in both benchmarks),
// then drains with an untimed snapshot. items_per_second counts records. The
// exemplars are built beforehand (building one is the caller's cost, not record's).
// record_exemplar_dropped is the steady state of a queue nobody drains: every
// exemplar is dropped and counted.

constexpr int exemplar_batch = 16; // core/src/exemplar_queue.hpp capacity

const std::vector<metron::exemplar>& trace_ids() {
  static const std::vector<metron::exemplar> ids = [] {
    std::vector<metron::exemplar> out;
    for (int i = 0; i < 64; ++i) {
      char buf[33];
      std::snprintf(buf, sizeof buf, "%016llx%016llx", 0x4bf92f3577b34da6ULL * static_cast<unsigned long long>(i + 1),
                    0xa3ce929d0e0e4736ULL ^ static_cast<unsigned long long>(i));
      out.emplace_back(std::string_view{buf, 32});
    }
    return out;
  }();
  return ids;
}

template <bool WithExemplar>
void record_batches(benchmark::State& st) {
  pin_this_thread(0);
  metron::histogram h;
  auto& ids = trace_ids();
  std::uint64_t i = 0;
  for (auto _ : st) {
    auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < exemplar_batch; ++k, ++i) {
      if constexpr (WithExemplar)
        h.record(values[i & value_mask], ids[i & 63]);
      else
        h.record(values[i & value_mask]);
    }
    auto t1 = std::chrono::steady_clock::now();
    st.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    benchmark::DoNotOptimize(h.snapshot());
  }
  st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * exemplar_batch);
  if (h.exemplars_dropped() != 0)
    st.SkipWithError("an exemplar was dropped: the batch must fit the queue");
}

const bool registered_exemplars = [] {
  benchmark::RegisterBenchmark("metron/histogram.record_x16", record_batches<false>)->UseManualTime();
  benchmark::RegisterBenchmark("metron/histogram.record_exemplar_x16", record_batches<true>)->UseManualTime();
  sweep("metron/histogram.record_exemplar_dropped", [](benchmark::State& st) {
    auto& h = lock_free_set().histogram;
    auto& ids = trace_ids();
    run(st, [&](std::uint64_t i) { h.record(values[i & value_mask], ids[i & 63]); });
  });
  return true;
}();

const bool registered = [] {
  sweep("floor/private_fetch_add", [](benchmark::State& st) {
    auto& line = private_lines[st.thread_index() % 64].value;
    run(st, [&](std::uint64_t) {
      line.fetch_add(1, std::memory_order_relaxed); // relaxed: the floor is a pure count, as in metron's cells
    });
  });
  // A control, not a floor of any metric: a loop of independent ALU operations and no
  // memory, bound by the core's issue width as histogram.record is (~5 instructions
  // per cycle), whose threads share nothing. Its 2-thread scaling shows what the host
  // did to core-bound figures during this run: on this project's VM a loop like it
  // measured 0.84-1.13 from one 0.13 s round to the next while a latency-bound loop
  // (one multiply-add chain) measured 0.98-1.00 in the same rounds.
  sweep("floor/alu_throughput", [](benchmark::State& st) {
    // In batches (bench_support.hpp: alu_loop), so the registers stay registers.
    constexpr std::uint64_t batch = 4096;
    pin_this_thread(st.thread_index());
    std::uint64_t i = static_cast<std::uint64_t>(st.thread_index()) * 1031;
    while (st.KeepRunningBatch(batch))
      i = alu_loop(batch, i);
    finish(st);
  });
  sweep("floor/thread_local_increment", [](benchmark::State& st) {
    run(st, [&](std::uint64_t) {
      tl_count += 1;
      benchmark::ClobberMemory(); // one load and store per op, not one add for the loop
    });
  });

  register_metron("metron", &lock_free_set);
  register_metron("metron_locked", &locked_set);
  sweep("metron/ring_buffer.push", [](benchmark::State& st) {
    auto& r = ring();
    run(st, [&](std::uint64_t i) { r.push(values[i & value_mask]); });
  });

  sweep("peer/shared_atomic.fetch_add", [](benchmark::State& st) {
    run(st, [&](std::uint64_t) {
      shared_counter.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count (the naive way, still atomic)
    });
  });
  sweep("peer/mutex.counter_add", [](benchmark::State& st) {
    run(st, [&](std::uint64_t) {
      std::lock_guard<std::mutex> guard{mutex_count.mutex};
      mutex_count.value += 1;
    });
  });
  sweep("peer/mutex.histogram20_record", [](benchmark::State& st) {
    run(st, [&](std::uint64_t i) { mutex_hist.record(values[i & value_mask]); });
  });
  sweep("peer/mutex.ring_push", [](benchmark::State& st) {
    run(st, [&](std::uint64_t i) { mutex_ring_buf.push(values[i & value_mask]); });
  });
  sweep("peer/boost_histogram.thread_safe_fill", [](benchmark::State& st) {
    auto& h = boost_histogram();
    run(st, [&](std::uint64_t i) { h(values[i & value_mask]); });
  });
#ifdef METRON_BENCH_HAVE_PROMETHEUS
  sweep("peer/prometheus_cpp.Counter.Increment", [](benchmark::State& st) {
    run(st, [&](std::uint64_t) { prom_counter.Increment(); });
  });
  sweep("peer/prometheus_cpp.Gauge.Set", [](benchmark::State& st) {
    run(st, [&](std::uint64_t i) { prom_gauge.Set(values[i & value_mask]); });
  });
  sweep("peer/prometheus_cpp.Histogram.Observe", [](benchmark::State& st) {
    auto& h = prom_histogram();
    run(st, [&](std::uint64_t i) { h.Observe(values[i & value_mask]); });
  });
  sweep("peer/prometheus_cpp.Summary.Observe", [](benchmark::State& st) {
    auto& s = prom_summary();
    run(st, [&](std::uint64_t i) { s.Observe(values[i & value_mask]); });
  });
#endif
#ifdef METRON_BENCH_HAVE_TBB
  sweep("peer/tbb.ets_counter_add", [](benchmark::State& st) {
    run(st, [&](std::uint64_t) {
      auto& local = tbb_counter.local();
      local += 1;
      benchmark::DoNotOptimize(local); // the add is stored every op, as a counter must
    });
  });
#endif
  return true;
}();

} // namespace
