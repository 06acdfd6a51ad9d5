// SequentialResidual vs ParallelResidual training steps (forward +
// backward) at equal parameters over N in {1..32} x F in {1..32} x k in
// {3, 5}, at 1 and 2 threads, 28x28, batch 16. The two layouts alternate
// inside one benchmark so that both see the same machine; the speedup
// counter is sequential time / parallel time.
// benchmarks/plot_layout_sweep.py turns the JSON output into tables and a
// heat map.
#include <benchmark/benchmark.h>

#include <chrono>

#include <shallow/shallow.hpp>

#include "bench_common.hpp"

using namespace shallow;

namespace {

constexpr Index kSweepBatch = 16;

// Args: layers N, channels F, kernel, threads.
void BM_LayoutSweep(benchmark::State& state) {
  using clock = std::chrono::steady_clock;
  const Index n = state.range(0), f = state.range(1), k = state.range(2);
  set_num_threads(int(state.range(3)));
  SequentialResidual<Dynamic> deep(n, f, k);
  ParallelResidual<Dynamic> wide(n, f, k);
  const Tensor4<float> x = random_batch(kSweepBatch, f, 28, 28);
  const Tensor4<float> dy = random_batch(kSweepBatch, f, 28, 28);
  auto step = [&](Layer<float>& block) {
    benchmark::DoNotOptimize(block.forward(x).data());
    benchmark::DoNotOptimize(block.backward(dy).data());
  };
  step(deep);
  step(wide);
  double seconds_deep = 0, seconds_wide = 0;
  for (auto _ : state) {
    const auto t0 = clock::now();
    step(deep);
    const auto t1 = clock::now();
    step(wide);
    seconds_deep += std::chrono::duration<double>(t1 - t0).count();
    seconds_wide += std::chrono::duration<double>(clock::now() - t1).count();
  }
  const double steps = double(state.iterations());
  state.counters["sequential_ms"] = 1e3 * seconds_deep / steps;
  state.counters["parallel_ms"] = 1e3 * seconds_wide / steps;
  state.counters["speedup"] = seconds_deep / seconds_wide;
}

void sweep_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "F", "k", "threads"});
  for (int threads : {1, 2})
    for (int k : {3, 5})
      for (int f : {1, 2, 4, 8, 16, 32})
        for (int n : {1, 2, 4, 8, 16, 32}) b->Args({n, f, k, threads});
}

}  // namespace

BENCHMARK(BM_LayoutSweep)->Apply(sweep_shapes)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
