// Checks every convolution kernel class must pass beyond its numbers:
// bitwise reproducibility at a thread count and the per-image hooks'
// contract (conv_kernel.hpp).
#pragma once

#include <catch2/catch.hpp>

#include <shallow/shallow.hpp>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace conv_checks {

using namespace shallow;

// n x c x h x w values uniform in [-1, 1], from seed.
template <class T>
Tensor4<T> random_batch(Index n, Index c, Index h, Index w, std::uint64_t seed) {
  Tensor4<T> t(n, c, h, w);
  Rng rng(seed);
  for (Index i = 0; i < t.size(); ++i) t.data()[i] = T(rng.uniform(-1, 1));
  return t;
}

// Runs forward and backward twice at 1 and at 2 threads: each pair agrees
// bitwise, and so do y and dx across the thread counts.
template <class Kernel>
void check_reproducible(Index n, Index in, Index out, Index h, Index w, Index k) {
  const Tensor4<float> x = random_batch<float>(n, in, h, w, 21), dy = random_batch<float>(n, out, h, w, 22);
  const MatrixR<float> weight = MatrixR<float>::Random(out, in * k * k);
  const VectorX<float> bias = VectorX<float>::Random(out);
  const ConvGeometry g = conv_geometry(in, out, k, 1, same_padding, h, w);
  struct Result {
    Tensor4<float> y, dx;
    MatrixR<float> dw;
    VectorX<float> db;
  };
  auto run = [&](int threads) {
    set_num_threads(threads);
    Kernel kernel;
    Result r;
    r.y.resize(n, out, h, w);
    r.dx.resize(n, in, h, w);
    r.dw.setZero(out, in * k * k);
    r.db.setZero(out);
    kernel.forward(g, x, weight, bias.data(), r.y, {});
    kernel.backward(g, x, dy, weight, &r.dx, r.dw, &r.db, {}, {});
    return r;
  };
  const int threads = num_threads();
  auto same = [](const float* a, const float* b, Index size) { return std::equal(a, a + size, b); };
  for (int t : {1, 2}) {
    const Result a = run(t), b = run(t);
    INFO(t << " threads");
    CHECK(same(a.y.data(), b.y.data(), a.y.size()));
    CHECK(same(a.dx.data(), b.dx.data(), a.dx.size()));
    CHECK(same(a.dw.data(), b.dw.data(), a.dw.size()));
    CHECK(same(a.db.data(), b.db.data(), a.db.size()));
  }
  // Each image is computed alike on any thread: y and dx do not depend on
  // the thread count either.
  const Result one = run(1), two = run(2);
  CHECK(same(one.y.data(), two.y.data(), one.y.size()));
  CHECK(same(one.dx.data(), two.dx.data(), one.dx.size()));
  set_num_threads(threads);
}

// Each hook is called once per image, after(i) on final data, before(i)
// before dy is read, at 1 and 2 threads.
template <class Kernel>
void check_hooks() {
  // Small images in one group, then large ones in rows of tiles (37x41: 5 of 11).
  for (const auto& [h, w] : {std::pair<Index, Index>{6, 7}, {37, 41}}) {
    INFO(h << "x" << w);
    const Index n = 9, in = 5, out = 6;
    const Tensor4<float> x = random_batch<float>(n, in, h, w, 31);
    const Tensor4<float> dy = random_batch<float>(n, out, h, w, 32);
    const ConvGeometry g = conv_geometry(in, out, 3, 1, same_padding, h, w);
    const MatrixR<float> weight = MatrixR<float>::Random(out, in * 9);
    const int threads = num_threads();
    for (int t : {1, 2}) {
      set_num_threads(t);
      INFO(t << " threads");
      Kernel kernel;
      Tensor4<float> y(n, out, h, w), seen = y;
      std::vector<int> calls(std::size_t(n), 0);
      kernel.forward(g, x, weight, nullptr, y, [&](Index i) {
        ++calls[std::size_t(i)];
        std::copy_n(y.data() + i * g.out_size(), g.out_size(), seen.data() + i * g.out_size());
      });
      CHECK(std::all_of(calls.begin(), calls.end(), [](int c) { return c == 1; }));
      CHECK(std::equal(y.data(), y.data() + y.size(), seen.data()));

      // before(i) doubles image i of dy: the result equals that of a doubled dy.
      Tensor4<float> doubled = dy, scaled = dy;
      for (Index i = 0; i < doubled.size(); ++i) doubled.data()[i] *= 2;
      Tensor4<float> dx(n, in, h, w), dx_seen = dx, dx_ref = dx;
      MatrixR<float> dw = MatrixR<float>::Zero(out, in * 9), dw_ref = dw;
      VectorX<float> db = VectorX<float>::Zero(out), db_ref = db;
      kernel.backward(g, x, doubled, weight, &dx_ref, dw_ref, &db_ref, {}, {});
      // Counted per image: each image is touched by one thread only.
      std::vector<int> before(std::size_t(n), 0), after(std::size_t(n), 0), before_first(std::size_t(n), 0);
      kernel.backward(
          g, x, scaled, weight, &dx, dw, &db,
          [&](Index i) {
            before_first[std::size_t(i)] = after[std::size_t(i)] == 0;
            ++before[std::size_t(i)];
            for (Index k = 0; k < g.out_size(); ++k) scaled.data()[i * g.out_size() + k] *= 2;
          },
          [&](Index i) {
            ++after[std::size_t(i)];
            std::copy_n(dx.data() + i * g.in_size(), g.in_size(), dx_seen.data() + i * g.in_size());
          });
      CHECK(std::all_of(before.begin(), before.end(), [](int c) { return c == 1; }));
      CHECK(std::all_of(after.begin(), after.end(), [](int c) { return c == 1; }));
      CHECK(std::all_of(before_first.begin(), before_first.end(), [](int c) { return c == 1; }));
      CHECK(std::equal(dx.data(), dx.data() + dx.size(), dx_seen.data()));
      CHECK(std::equal(dx.data(), dx.data() + dx.size(), dx_ref.data()));
      CHECK(dw == dw_ref);
      CHECK(db == db_ref);
    }
    set_num_threads(threads);
  }
}

}  // namespace conv_checks
