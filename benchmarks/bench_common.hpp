// What the benchmark programs share: their input data.
#pragma once

#include <shallow/random.hpp>
#include <shallow/tensor.hpp>

// A batch of uniform values in [-1, 1), the same on every run.
inline shallow::Tensor4<float> random_batch(shallow::Index n, shallow::Index c, shallow::Index h, shallow::Index w) {
  shallow::Tensor4<float> x(n, c, h, w);
  shallow::Rng rng(1);
  for (shallow::Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.uniform(-1, 1));
  return x;
}
