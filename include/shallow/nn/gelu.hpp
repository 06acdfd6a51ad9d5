/// \file
/// GELU, the Gaussian error linear unit, exact (PyTorch's nn.GELU() default):
///   y = x Phi(x) = x/2 (1 + erf(x / sqrt 2)),  dy/dx = Phi(x) + x phi(x).
/// Unlike activation.hpp's functions its derivative cannot be written through
/// the output (GELU is not monotonic below about -0.75), so this layer caches
/// its input. It has no form inside a residual branch, whose activation is
/// taken from the output; use it between layers.
#pragma once

#include <unsupported/Eigen/SpecialFunctions>

#include <algorithm>
#include <memory>
#include <string>

#include "layer.hpp"
#include "spec.hpp"

namespace shallow {

/// y = x Phi(x), elementwise. forward caches x (and returns y); backward needs x.
template <class T = float>
class GELU : public Layer<T> {
 public:
  /// "gelu".
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) {
    s.finish();
    return std::make_unique<GELU<T>>();
  }
  std::string spec() const override { return "gelu"; }

  /// x Phi(x); caches x.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    ensure_shape_like(x_, x);
    ensure_shape_like(y_, x);
    const Index n = x.dimension(0), sample = x.size() / std::max<Index>(n, 1);
#pragma omp parallel for schedule(static)
    for (Index b = 0; b < n; ++b) {
      const auto in = array_of(x, b * sample, sample);
      array_of(x_, b * sample, sample) = in;
      array_of(y_, b * sample, sample) = T(0.5) * in * (T(1) + (in * T(sqrt_half)).erf());
    }
    return y_;
  }
  /// dy * (Phi(x) + x phi(x)), through the cached input.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    ensure_shape_like(dx_, dy);
    const Index n = dy.dimension(0), sample = dy.size() / std::max<Index>(n, 1);
#pragma omp parallel for schedule(static)
    for (Index b = 0; b < n; ++b) {
      const auto x = array_of(x_, b * sample, sample);
      const auto cdf = T(0.5) * (T(1) + (x * T(sqrt_half)).erf());
      const auto pdf = T(inv_sqrt_2pi) * (T(-0.5) * x.square()).exp();
      array_of(dx_, b * sample, sample) = array_of(dy, b * sample, sample) * (cdf + x * pdf);
    }
    return dx_;
  }

  /// in: the shape is kept.
  Shape output_shape(const Shape& in) const override { return in; }

 private:
  static constexpr double sqrt_half = 0.70710678118654752440, inv_sqrt_2pi = 0.39894228040143267794;
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  static Eigen::Map<const Array> array_of(const Tensor4<T>& t, Index at, Index n) { return {t.data() + at, n}; }
  static Eigen::Map<Array> array_of(Tensor4<T>& t, Index at, Index n) { return {t.data() + at, n}; }

  Tensor4<T> x_, y_, dx_;
};

}  // namespace shallow
