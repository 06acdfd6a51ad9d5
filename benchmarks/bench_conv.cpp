// Convolution, residual-layout and whole-network training benchmarks, batch
// 64, float. A conv training step is forward + backward-data +
// backward-weights. Threads are an argument, so 1- and 2-thread numbers come
// from one run. GFLOP/s counts 2*N*H*W*Cout*Cin*k^2 per forward and twice
// that for the two backward passes. allocs/step counts heap allocations
// inside the timed loop (glibc builds without sanitizers).
// The N x F x k grid of both residual layouts is bench_layouts.cpp.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <vector>

#include <shallow/shallow.hpp>

#include "bench_common.hpp"

using namespace shallow;

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define SHALLOW_COUNT_ALLOCATIONS 1
// operator new and Eigen's aligned allocator both end in malloc, so counting
// malloc, calloc and realloc sees every allocation shallow makes.
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
static std::atomic<long> allocations{0};
extern "C" void* malloc(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t n, std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
extern "C" void* realloc(void* p, std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
#endif

namespace {

constexpr Index kBatch = 64;

long allocation_count() {
#ifdef SHALLOW_COUNT_ALLOCATIONS
  return allocations.load(std::memory_order_relaxed);
#else
  return 0;
#endif
}

// Runs `step` in the timed loop; sets GFLOP/s, images/s and allocs/step.
template <class Step>
void run(benchmark::State& state, double flops_per_step, Step step) {
  step();  // the first call sizes every workspace
  const long before = allocation_count();
  for (auto _ : state) {
    step();
    benchmark::ClobberMemory();
  }
  const double steps = double(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_step * 1e-9 * steps, benchmark::Counter::kIsRate);
  state.counters["images/s"] = benchmark::Counter(double(kBatch) * steps, benchmark::Counter::kIsRate);
#ifdef SHALLOW_COUNT_ALLOCATIONS
  state.counters["allocs/step"] = double(allocation_count() - before) / steps;
#endif
}

double conv_flops(Index c_in, Index c_out, Index hw, Index k) { return 2.0 * kBatch * hw * c_out * c_in * k * k; }

// Args: channels (in = out), spatial size, kernel, threads.
void BM_Conv2dStep(benchmark::State& state) {
  const Index c = state.range(0), s = state.range(1), k = state.range(2);
  set_num_threads(int(state.range(3)));
  Conv2d<float> conv(c, c, k);
  const Tensor4<float> x = random_batch(kBatch, c, s, s);
  const Tensor4<float> dy = random_batch(kBatch, c, s, s);
  run(state, 3 * conv_flops(c, c, s * s, k), [&] {
    benchmark::DoNotOptimize(conv.forward(x).data());
    benchmark::DoNotOptimize(conv.backward(dy).data());
  });
}

enum Pass { forward, backward_weights, backward_both };

// One pass of the step; backward-data alone is backward_both minus
// backward_weights.
template <Pass P>
void BM_Conv2dPass(benchmark::State& state) {
  const Index c = state.range(0), s = state.range(1), k = state.range(2);
  set_num_threads(int(state.range(3)));
  Conv2d<float> conv(c, c, k);
  const Tensor4<float> x = random_batch(kBatch, c, s, s);
  const Tensor4<float> dy = random_batch(kBatch, c, s, s);
  Tensor4<float> y, dx;
  run(state, (P == backward_both ? 2 : 1) * conv_flops(c, c, s * s, k), [&] {
    if (P == forward) conv.forward_into(x, y);
    if (P == backward_weights) conv.backward_into(x, dy, nullptr);
    if (P == backward_both) conv.backward_into(x, dy, &dx);
  });
}

// A conv step or pass with the algorithm forced, so the algorithms are timed
// on the same shapes in one run. Args: in, out, spatial size, kernel,
// algorithm (ConvAlgorithm as a number: 1 im2col, 2 planes, 3 winograd, 4 blocked),
// threads.
template <Pass P, bool Step>
void BM_ConvAlgorithm(benchmark::State& state) {
  const Index in = state.range(0), out = state.range(1), s = state.range(2), k = state.range(3);
  set_num_threads(int(state.range(5)));
  Conv2d<float> conv(in, out, k, 1, same_padding, true, ConvOptions{ConvAlgorithm(state.range(4))});
  const Tensor4<float> x = random_batch(kBatch, in, s, s);
  const Tensor4<float> dy = random_batch(kBatch, out, s, s);
  Tensor4<float> y, dx;
  const double flops = conv_flops(in, out, s * s, k) * (Step ? 3 : P == backward_both ? 2 : 1);
  run(state, flops, [&] {
    if (Step || P == forward) conv.forward_into(x, y);
    if (P == backward_weights) conv.backward_into(x, dy, nullptr);
    if (Step || P == backward_both) conv.backward_into(x, dy, &dx);
  });
}

// Args: layers N, channels F, kernel, threads; at 28x28.
template <class Block>
void BM_ResidualStep(benchmark::State& state) {
  const Index n = state.range(0), f = state.range(1), k = state.range(2);
  set_num_threads(int(state.range(3)));
  Block block(n, f, k);
  const Tensor4<float> x = random_batch(kBatch, f, 28, 28);
  const Tensor4<float> dy = random_batch(kBatch, f, 28, 28);
  run(state, 3 * double(n) * conv_flops(f, f, 28 * 28, k), [&] {
    benchmark::DoNotOptimize(block.forward(x).data());
    benchmark::DoNotOptimize(block.backward(dy).data());
  });
}

// The convolution flops of one training step of a build_model network.
double network_flops(const ModelConfig& c) {
  Index width = c.filters, h = c.input.h, w = c.input.w;
  double flops = conv_flops(c.input.c, width, h * w, c.kernel);
  for (Index s = 0; s < c.stages; ++s) {
    if (s > 0) {
      h = (h + 1) / 2;
      w = (w + 1) / 2;
      flops += conv_flops(width, 2 * width, h * w, 3);
      width *= 2;
    }
    flops += double(c.layers) * conv_flops(width, width, h * w, c.kernel);
  }
  return 3 * flops;
}

// A whole network's training step (bench_common.hpp). Args: network (0 the
// demo's MNIST network, 1 the cifar10 recipe's staged network), layout (0
// sequential, 1 parallel), threads. GFLOP/s counts the convolutions only.
void BM_NetworkStep(benchmark::State& state) {
  const Layout layout = state.range(1) == 0 ? Layout::sequential : Layout::parallel;
  const ModelConfig config = state.range(0) == 0 ? mnist_network(layout) : cifar_network(layout);
  set_num_threads(int(state.range(2)));
  NetworkStep step(config, kBatch);
  run(state, network_flops(config), [&] { step(); });
}

// The machine's multiply-add peak, the ceiling of any direct convolution:
// 16 independent chains of fused multiply-adds on full-width packets (more
// chains than the FMA latency times the pipes, so none waits), on every
// thread. GFLOP/s counts 2 per lane per FMA.
void BM_FmaPeak(benchmark::State& state) {
  using P = Eigen::internal::packet_traits<float>::type;
  constexpr int lanes = Eigen::internal::packet_traits<float>::size, chains = 16;
  constexpr long iterations = 1 << 20;
  const int threads = int(state.range(0));
  set_num_threads(threads);
  float sink = 0;
  for (auto _ : state) {
#pragma omp parallel reduction(+ : sink)
    {
      P acc[chains];
      const P a = Eigen::internal::pset1<P>(0.999999f), b = Eigen::internal::pset1<P>(1e-7f);
      for (int c = 0; c < chains; ++c) acc[c] = Eigen::internal::pset1<P>(float(c));
      for (long i = 0; i < iterations; ++i)
        for (int c = 0; c < chains; ++c) acc[c] = Eigen::internal::pmadd(acc[c], a, b);
      for (int c = 0; c < chains; ++c) sink += Eigen::internal::predux(acc[c]);
    }
  }
  benchmark::DoNotOptimize(sink);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * lanes * chains * double(iterations) * threads,
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
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

// The shapes of the Winograd targets, and the 5x5 ones that set
// the automatic choice for 5x5, with the two direct algorithms and Winograd.
void algorithm_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"in", "out", "HW", "k", "algo", "threads"});
  const int shapes[][4] = {{16, 16, 28, 3}, {16, 128, 28, 3}, {32, 32, 32, 3}, {64, 64, 32, 3}, {48, 48, 16, 3},
                           {96, 96, 8, 3},  {24, 24, 32, 3},  {8, 8, 28, 3},   {32, 32, 32, 5}, {1, 8, 28, 5},
                           {4, 4, 28, 5},   {8, 8, 28, 5},    {16, 16, 28, 5}, {8, 64, 28, 5},  {3, 24, 32, 5},
                           {64, 64, 16, 5}, {96, 96, 8, 5},   {4, 4, 8, 5},    {8, 8, 8, 5}};
  for (int threads : {1, 2})
    for (const auto& s : shapes)
      for (ConvAlgorithm a : {ConvAlgorithm::planes, ConvAlgorithm::blocked, ConvAlgorithm::winograd})
        b->Args({s[0], s[1], s[2], s[3], int(a), threads});
}

void residual_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"N", "F", "k", "threads"});
  for (int threads : {1, 2}) b->Args({8, 16, 3, threads});
}

void network_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"cifar", "parallel", "threads"});
  for (int network : {0, 1})
    for (int threads : {1, 2})
      for (int layout : {0, 1}) b->Args({network, layout, threads});
}

}  // namespace

#define SHALLOW_BENCH(...) __VA_ARGS__->Unit(benchmark::kMillisecond)->UseRealTime()

SHALLOW_BENCH(BENCHMARK(BM_FmaPeak)->ArgName("threads")->Arg(1)->Arg(2));
SHALLOW_BENCH(BENCHMARK(BM_Conv2dStep)->Apply(conv_shapes));
SHALLOW_BENCH(BENCHMARK_TEMPLATE(BM_Conv2dPass, forward)->Apply(conv_shapes));
SHALLOW_BENCH(BENCHMARK_TEMPLATE(BM_Conv2dPass, backward_weights)->Apply(conv_shapes));
SHALLOW_BENCH(BENCHMARK_TEMPLATE(BM_Conv2dPass, backward_both)->Apply(conv_shapes));
SHALLOW_BENCH(BENCHMARK_TEMPLATE(BM_ConvAlgorithm, forward, true)
                  ->Name("BM_ConvAlgorithmStep")
                  ->Apply(algorithm_shapes));
SHALLOW_BENCH(BENCHMARK_TEMPLATE(BM_ConvAlgorithm, forward, false)
                  ->Name("BM_ConvAlgorithmPass<forward>")
                  ->Apply(algorithm_shapes));
SHALLOW_BENCH(BENCHMARK_TEMPLATE(BM_ConvAlgorithm, backward_weights, false)
                  ->Name("BM_ConvAlgorithmPass<backward_weights>")
                  ->Apply(algorithm_shapes));
SHALLOW_BENCH(BENCHMARK_TEMPLATE(BM_ConvAlgorithm, backward_both, false)
                  ->Name("BM_ConvAlgorithmPass<backward_both>")
                  ->Apply(algorithm_shapes));
SHALLOW_BENCH(BENCHMARK_TEMPLATE(BM_ResidualStep, SequentialResidual<Dynamic>)->Apply(residual_shapes));
SHALLOW_BENCH(BENCHMARK_TEMPLATE(BM_ResidualStep, ParallelResidual<Dynamic>)->Apply(residual_shapes));
SHALLOW_BENCH(BENCHMARK(BM_NetworkStep)->Apply(network_shapes));

BENCHMARK_MAIN();
