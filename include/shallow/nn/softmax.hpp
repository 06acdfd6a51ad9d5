/// \file
/// Softmax of one sample's k logits, computed from log-sum-exp so large
/// logits do not overflow.
#pragma once

#include <cmath>

#include "../core/tensor.hpp"

namespace shallow {

/// p = softmax(z) over k values (p may alias z); returns log(sum(exp(z))), so
/// that -log p[i] = result - z[i] without another pass.
template <class T>
T softmax(const T* z, Index k, T* p) {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  const Eigen::Map<const Array> in(z, k);
  const T max = in.maxCoeff();
  Eigen::Map<Array> out(p, k);
  out = (in - max).exp();
  const T sum = out.sum();
  out /= sum;
  return max + std::log(sum);
}

}  // namespace shallow
