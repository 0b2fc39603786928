// bench/remote_write_bench.cpp — what a remote-write push costs to prepare: the
// encoder (render_text, read back, protobuf, snappy) for the suite's registries of
// 1,000 and 10,000 metrics (populated_registry.hpp: 45% counters, 45% gauges, 10%
// histograms, so 2.8 series per metric with the default 16-bound ladder), beside the
// baseline of rendering the same report for a /metrics scrape. Per series: CPU time,
// and bytes on the wire (compressed) and before compression.
//
//   build/bench/bench/metron_bench_remote_write
//
// The report is built from a snapshot without derived figures (no quantile
// summaries), as a scrape of a bare snapshot would be. At the end the ratio
// encode / render is printed per size.
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include <metron/prometheus/text_format.hpp>
#include <metron/remote_write/encoder.hpp>

#include "populated_registry.hpp"

namespace {

using namespace metron_bench;

metron::report_ptr report_of(int metrics) {
  auto& p = registry_of(metrics);
  return std::make_shared<const metron::report>(std::make_shared<const metron::snapshot>(p.reg.snapshot()), 1, 0.0,
                                                std::vector<metron::counter_figures>{},
                                                std::vector<metron::histogram_figures>{});
}

void render_metrics(benchmark::State& st) {
  auto r = report_of(static_cast<int>(st.range(0)));
  std::size_t bytes = 0;
  for (auto _ : st) {
    std::string text = metron::prometheus::render_text(*r);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  std::size_t series = metron::remote_write::read_exposition(metron::prometheus::render_text(*r)).size();
  st.counters["series"] = static_cast<double>(series);
  st.counters["ns_per_series"] = benchmark::Counter(static_cast<double>(series) * 1e-9,
                                                    benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  st.counters["text_bytes_per_series"] = static_cast<double>(bytes) / static_cast<double>(series);
}

void encode_remote_write(benchmark::State& st) {
  auto r = report_of(static_cast<int>(st.range(0)));
  metron::remote_write::encoder enc{metron::remote_write::config{}};
  std::size_t series = 0, wire = 0, raw = 0, requests = 0;
  for (auto _ : st) {
    auto batches = enc.encode(*r);
    series = wire = raw = 0;
    for (auto& b : batches) {
      series += b.samples;
      wire += b.body.size();
      raw += b.raw_bytes;
    }
    requests = batches.size();
    benchmark::DoNotOptimize(batches);
  }
  st.counters["series"] = static_cast<double>(series);
  st.counters["requests"] = static_cast<double>(requests);
  st.counters["ns_per_series"] = benchmark::Counter(static_cast<double>(series) * 1e-9,
                                                    benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  st.counters["wire_bytes_per_series"] = static_cast<double>(wire) / static_cast<double>(series);
  st.counters["proto_bytes_per_series"] = static_cast<double>(raw) / static_cast<double>(series);
}

BENCHMARK(render_metrics)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(encode_remote_write)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Prints encode / render CPU time per size after the usual console output.
class ratio_reporter : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (auto& r : runs)
      if (r.aggregate_name.empty() || r.aggregate_name == "median") // the median wins when repeated
        cpu_[r.run_name.str()] = r.GetAdjustedCPUTime();
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    for (const char* n : {"1000", "10000"}) {
      auto render = cpu_.find(std::string{"render_metrics/"} + n);
      auto encode = cpu_.find(std::string{"encode_remote_write/"} + n);
      if (render != cpu_.end() && encode != cpu_.end())
        std::printf("ratio encode_remote_write / render_metrics, %s metrics: %.2f\n", n, encode->second / render->second);
    }
  }

private:
  std::map<std::string, double> cpu_;
};

} // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
