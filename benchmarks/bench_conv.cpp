// Convolution and residual-layout micro-benchmarks: one training step is
// forward + backward-data + backward-weights. Threads are an argument, so 1-
// and 2-thread numbers come from one run. GFLOP/s counts 2*N*H*W*Cout*Cin*k^2
// per forward and twice that for the two backward passes.
#include <benchmark/benchmark.h>

#include <shallow/shallow.hpp>

using namespace shallow;

namespace {

constexpr Index kBatch = 64;

Tensor4<float> random_batch(Index n, Index c, Index h, Index w) {
  Tensor4<float> x(n, c, h, w);
  Rng rng(1);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.uniform(-1, 1));
  return x;
}

void set_flops(benchmark::State& state, double flops_per_step) {
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops_per_step * 1e-9 * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["images/s"] =
      benchmark::Counter(double(kBatch) * double(state.iterations()), benchmark::Counter::kIsRate);
}

double conv_flops(Index c_in, Index c_out, Index hw, Index k) { return 2.0 * kBatch * hw * c_out * c_in * k * k; }

// Args: channels (in = out), spatial size, kernel, threads.
void BM_Conv2dStep(benchmark::State& state) {
  const Index c = state.range(0), s = state.range(1), k = state.range(2);
  set_num_threads(int(state.range(3)));
  Conv2d<float> conv(c, c, k);
  const Tensor4<float> x = random_batch(kBatch, c, s, s);
  const Tensor4<float> dy = random_batch(kBatch, c, s, s);
  for (auto _ : state) {
    benchmark::DoNotOptimize(conv.forward(x).data());
    benchmark::DoNotOptimize(conv.backward(dy).data());
  }
  set_flops(state, 3 * conv_flops(c, c, s * s, k));
}

// Args: layers N, channels F, kernel, threads; at 28x28.
template <class Block>
void BM_ResidualStep(benchmark::State& state) {
  const Index n = state.range(0), f = state.range(1), k = state.range(2);
  set_num_threads(int(state.range(3)));
  Block block(n, f, k);
  const Tensor4<float> x = random_batch(kBatch, f, 28, 28);
  const Tensor4<float> dy = random_batch(kBatch, f, 28, 28);
  for (auto _ : state) {
    benchmark::DoNotOptimize(block.forward(x).data());
    benchmark::DoNotOptimize(block.backward(dy).data());
  }
  set_flops(state, 3 * double(n) * conv_flops(f, f, 28 * 28, k));
}

void conv_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"C", "HW", "k", "threads"});
  for (int threads : {1, 2}) {
    b->Args({1, 28, 3, threads});
    b->Args({8, 28, 3, threads});
    b->Args({16, 28, 3, threads});
    b->Args({32, 32, 3, threads});
    b->Args({64, 32, 3, threads});
  }
}

void residual_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "F", "k", "threads"});
  for (int threads : {1, 2}) b->Args({8, 16, 3, threads});
}

}  // namespace

BENCHMARK(BM_Conv2dStep)->Apply(conv_shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_ResidualStep, SequentialResidual<Dynamic>)
    ->Apply(residual_shapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_TEMPLATE(BM_ResidualStep, ParallelResidual<Dynamic>)
    ->Apply(residual_shapes)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
