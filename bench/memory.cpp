// bench/memory.cpp — metron_memory: what metrics cost in memory, measured twice:
// by the metrics' own bytes() and by a counting global operator new (every
// allocation carries a small header with its size, so the live heap bytes are known
// exactly at any point). Prints a Markdown table; bench/report.sh includes it.
//
// "Per active thread": a thread records into a metric for the first time while the
// earlier threads are still alive (so each holds its own slot / shard); the heap
// growth caused by that first record is the cost of one more recording thread.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <metron/metron.hpp>

#include "service_workload.hpp"

// -- a counting operator new -----------------------------------------------------------

namespace {

std::atomic<long long> live_bytes{0};
std::atomic<long long> allocations{0};

constexpr std::size_t header = 16; // keeps the default new alignment (16)

void* counted_alloc(std::size_t size, std::size_t align) noexcept {
  std::size_t pad = align > header ? align : header;
  std::size_t total = pad + size;
  total = (total + align - 1) / align * align;
  void* raw = align > header ? std::aligned_alloc(align, total) : std::malloc(total);
  if (raw == nullptr)
    return nullptr;
  auto* user = static_cast<unsigned char*>(raw) + pad;
  reinterpret_cast<std::size_t*>(user)[-1] = size;
  reinterpret_cast<std::size_t*>(user)[-2] = pad;
  live_bytes.fetch_add(static_cast<long long>(size), std::memory_order_relaxed); // relaxed: a pure count; the reader synchronises through the thread it measures (future/join)
  allocations.fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
  return user;
}

void counted_free(void* p) noexcept {
  if (p == nullptr)
    return;
  auto* user = static_cast<unsigned char*>(p);
  std::size_t size = reinterpret_cast<std::size_t*>(user)[-1];
  std::size_t pad = reinterpret_cast<std::size_t*>(user)[-2];
  live_bytes.fetch_sub(static_cast<long long>(size), std::memory_order_relaxed); // relaxed: as in counted_alloc
  std::free(user - pad);
}

void* checked(void* p) {
  if (p == nullptr)
    throw std::bad_alloc{};
  return p;
}

} // namespace

void* operator new(std::size_t n) { return checked(counted_alloc(n, 16)); }
void* operator new[](std::size_t n) { return checked(counted_alloc(n, 16)); }
void* operator new(std::size_t n, std::align_val_t a) { return checked(counted_alloc(n, static_cast<std::size_t>(a))); }
void* operator new[](std::size_t n, std::align_val_t a) { return checked(counted_alloc(n, static_cast<std::size_t>(a))); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 16); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n, 16); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return counted_alloc(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }

namespace {

long long live() {
  return live_bytes.load(std::memory_order_relaxed); // relaxed: callers read after the writers are done (join / future)
}

void row(const char* what, long long heap, long long by_bytes, const char* note = "") {
  std::printf("| %s | %lld | %lld | %s |\n", what, heap, by_bytes, note);
}

/// Heap growth caused by the first record of threads 1..n into one metric, each
/// thread kept alive until all have recorded (so each holds its own slot).
template <class Record>
std::vector<long long> per_thread(int n, Record record) {
  std::vector<long long> deltas(static_cast<std::size_t>(n));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::vector<std::thread> threads;
  metron::counter warm; // cells exist already: recording into it allocates nothing
  for (int t = 0; t < n; ++t) {
    std::promise<void> done;
    auto recorded = done.get_future();
    threads.emplace_back([&, t, done = std::move(done)]() mutable {
      warm.add(); // claims this thread's slot (and its thread-exit hook) first
      long long before = live();
      record();
      deltas[static_cast<std::size_t>(t)] = live() - before;
      done.set_value();
      released.wait();
    });
    recorded.wait();
  }
  release.set_value();
  for (auto& th : threads)
    th.join();
  return deltas;
}

std::string join(const std::vector<long long>& v) {
  std::string s;
  for (auto x : v)
    s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

/// The service workload (service_workload.hpp): heap per histogram and per
/// (histogram x recording thread) for 1..16 threads, metron beside prometheus-cpp.
void service_rows() {
  std::printf("\n### Service workload: 1,000 histograms, 200 log-normal records (median 5 ms, sigma 1) "
              "per histogram from each thread\n\n");
  std::printf("| threads | metron heap per histogram | metron per (histogram x thread) | metron idle per histogram"
              " | prometheus-cpp heap per histogram | metron / prometheus-cpp |\n|---:|---:|---:|---:|---:|---:|\n");
  for (int threads : {1, 2, 4, 8, 16}) {
    long long b = live();
    auto* m = new metron_bench::metron_service;
    long long idle = live() - b;
    m->record(threads);
    long long metron_heap = live() - b;
    delete m;
    long long prom_heap = -1;
#ifdef METRON_BENCH_HAVE_PROMETHEUS
    b = live();
    auto* p = new metron_bench::prometheus_service;
    p->record(threads);
    prom_heap = live() - b;
    delete p;
#endif
    const double n = metron_bench::service_histograms;
    std::printf("| %d | %.0f | %.0f | %.0f | %.0f | %.1f× |\n", threads, metron_heap / n,
                (metron_heap - idle) / (n * threads), idle / n, prom_heap / n,
                prom_heap > 0 ? static_cast<double>(metron_heap) / static_cast<double>(prom_heap) : 0.0);
  }
}

} // namespace

int main() {
  std::printf("hardware threads: %u; sizeof(counter) = %zu, sizeof(histogram) = %zu, "
              "sizeof(histogram::shard) = %zu, a bucket block = %zu (narrow) / %zu (wide), slab chunk = %zu\n\n",
              std::thread::hardware_concurrency(), sizeof(metron::counter), sizeof(metron::histogram),
              sizeof(metron::histogram::shard), sizeof(metron::histogram::shard::narrow_block),
              sizeof(metron::histogram::shard::wide_block), sizeof(metron::detail::slab::chunk));
  std::printf("| what | heap bytes (counting operator new) | bytes() | note |\n|---|---:|---:|---|\n");

  // -- idle metrics, standalone ---------------------------------------------------------
  {
    long long b = live();
    auto* c = new metron::counter;
    row("idle counter (standalone)", live() - b, static_cast<long long>(c->bytes()), "object; cells live in the recording threads' slabs");
    b = live();
    auto* u = new metron::updown_counter;
    row("idle updown_counter (standalone)", live() - b, static_cast<long long>(u->bytes()));
    b = live();
    auto* g = new metron::gauge;
    row("idle gauge (standalone)", live() - b, static_cast<long long>(sizeof(metron::gauge)),
        "gauge has no bytes(); sizeof shown");
    b = live();
    auto* h = new metron::histogram;
    row("idle histogram (standalone)", live() - b, static_cast<long long>(h->bytes()), "shards allocated on first record");
    delete c;
    delete u;
    delete g;
    delete h;
  }

  // -- idle metrics in a registry (map nodes, names and labels included) ----------------
  {
    metron::registry reg;
    reg.counter("warm_total"); // the registry's first family allocates its own bookkeeping
    long long b = live();
    reg.counter("mem_requests_total", {{"method", "GET"}});
    row("idle counter in a registry (new family)", live() - b, -1, "incl. family, map nodes, name, labels");
    b = live();
    reg.counter("mem_requests_total", {{"method", "PUT"}});
    row("idle counter in a registry (new label set)", live() - b, -1, "incl. map node and labels");
    b = live();
    reg.gauge("mem_queue_depth");
    row("idle gauge in a registry (new family)", live() - b, -1, "");
    b = live();
    reg.histogram("mem_latency_seconds");
    row("idle histogram in a registry (new family)", live() - b, -1, "");
  }

  // -- retired series: what a churned identity keeps while the registry lives -----------
  {
    metron::registry reg{metron::registry_config{.max_label_sets = 1u << 20}};
    reg.counter("mem_churn_total", {{"id", "warm"}}).add(); // family, slab chunk, this thread's slot
    reg.histogram("mem_churn_seconds", {{"id", "warm"}}).record(0.002);
    const int ids = 1000;
    long long b = live();
    for (int i = 0; i < ids; ++i) {
      reg.counter("mem_churn_total", {{"id", std::to_string(100000 + i)}}).add();
      reg.remove("mem_churn_total", {{"id", std::to_string(100000 + i)}});
    }
    row("retired counter (created, 1 add, removed), per identity", (live() - b) / ids, -1,
        "kept until the registry dies: object, map node, identity, flat entry");
    b = live();
    for (int i = 0; i < ids; ++i) {
      reg.histogram("mem_churn_seconds", {{"id", std::to_string(100000 + i)}}).record(0.002);
      reg.remove("mem_churn_seconds", {{"id", std::to_string(100000 + i)}});
    }
    row("retired histogram (created, 1 record, removed), per identity", (live() - b) / ids, -1,
        "the same, plus the shard and bucket block its one recording thread allocated");
  }

  // -- per active recording thread ------------------------------------------------------
  const int n = 4;
  {
    metron::counter c;
    auto d = per_thread(n, [&] { c.add(); });
    row("counter: added per recording thread", d.back(), 0,
        ("threads 1..4: " + join(d) + " (8 B in the thread's slab; a 4 KiB chunk per 512 ids on first use)").c_str());
  }
  {
    metron::gauge g;
    auto d = per_thread(n, [&] { g.set(1.5); });
    row("gauge: added per recording thread", d.back(), 0, ("threads 1..4: " + join(d)).c_str());
  }
  {
    metron::histogram h;
    long long idle = static_cast<long long>(h.bytes());
    auto d = per_thread(n, [&] { h.record(0.002); });
    long long after = static_cast<long long>(h.bytes());
    row("histogram: added per recording thread", d.front(), (after - idle) / n,
        ("threads 1..4: " + join(d) + "; bytes() after 4 threads: " + std::to_string(after)).c_str());
  }
  {
    metron::registry reg;
    reg.set_lock_free(false);
    auto& h = reg.histogram("mem_locked_seconds");
    long long idle = static_cast<long long>(h.bytes());
    auto d = per_thread(n, [&] { h.record(0.002); });
    row("histogram, locked mode: first record, then per thread", d.front(),
        static_cast<long long>(h.bytes()) - idle, ("threads 1..4: " + join(d) + " (one sparse shard, shared)").c_str());
  }
  {
    long long b = live();
    auto* r = new metron::ring_buffer<double>{4096};
    row("ring_buffer<double>(4096)", live() - b, -1, "one cache line per slot");
    delete r;
  }
  std::printf("\n(bytes() = -1: not reported by the type.)\n");
  service_rows();
  return 0;
}
