// What a consumer's compiler flags cost: the demo's MNIST network and the
// cifar10 recipe's network, a training step at batch 64 in both layouts,
// built twice from this one file, header-only as a consumer would build it:
// bench_flags_default with the compiler's default flags (CMake Release:
// -O3, no -march) and bench_flags_native with -march=native. Compare the
// two runs' images/s (docs/performance.md).
#include <benchmark/benchmark.h>

#include <shallow/shallow.hpp>

#include "bench_common.hpp"

namespace {

// Args: network (0 MNIST, 1 cifar10), layout (0 sequential, 1 parallel), threads.
void BM_NetworkStep(benchmark::State& state) {
  using namespace shallow;
  const Layout layout = state.range(1) == 0 ? Layout::sequential : Layout::parallel;
  const ModelConfig config = state.range(0) == 0 ? mnist_network(layout) : cifar_network(layout);
  set_num_threads(int(state.range(2)));
  NetworkStep step(config, 64);
  step();
  for (auto _ : state) step();
  state.counters["images/s"] = benchmark::Counter(64, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_NetworkStep)
    ->ArgNames({"cifar", "parallel", "threads"})
    ->ArgsProduct({{0, 1}, {0, 1}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
