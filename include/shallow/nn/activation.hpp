/// \file
/// Elementwise activations: the functions, and the layers that wrap them.
/// Each derivative is written in terms of the OUTPUT y, so a layer (or a
/// residual branch) caches only its output.
#pragma once

#include <cmath>
#include <memory>
#include <string>

#include "layer.hpp"
#include "spec.hpp"

namespace shallow {

/// The elementwise nonlinearities.
enum class Activation { identity, relu, leaky_relu, tanh, sigmoid };

/// The activation's spec name: "identity", "relu", "leaky_relu", "tanh" or "sigmoid".
inline std::string to_string(Activation a) {
  switch (a) {
    case Activation::identity: return "identity";
    case Activation::relu: return "relu";
    case Activation::leaky_relu: return "leaky_relu";
    case Activation::tanh: return "tanh";
    case Activation::sigmoid: return "sigmoid";
  }
  return "?";
}

/// The activation named s (to_string()'s names, or "leakyrelu"/"leaky-relu"); ConfigError for others.
inline Activation parse_activation(const std::string& s) {
  for (Activation a : {Activation::identity, Activation::relu, Activation::leaky_relu, Activation::tanh,
                       Activation::sigmoid})
    if (s == to_string(a)) return a;
  if (s == "leakyrelu" || s == "leaky-relu") return Activation::leaky_relu;
  throw ConfigError("unknown activation '" + s + "' (identity, relu, leaky_relu, tanh, sigmoid)");
}

/// Leaky ReLU's slope for negative inputs unless one is given.
inline constexpr double default_negative_slope = 0.01;

/// A finite slope; ConfigError naming `who` otherwise (a NaN slope would
/// turn every negative input into NaN).
inline double checked_slope(double slope, const char* who) {
  SHALLOW_CHECK(std::isfinite(slope), ConfigError,
                std::string(who) + ": negative_slope must be finite, got " + format_number(slope));
  return slope;
}

/// y = f(z) over n values; y may alias z.
template <class T>
void activate(Activation a, const T* z, T* y, Index n, T slope = T(default_negative_slope)) {
  Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> zin(z, n);
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> out(y, n);
  switch (a) {
    case Activation::identity: if (y != z) out = zin; break;
    case Activation::relu: out = zin.max(T(0)); break;
    case Activation::leaky_relu: out = (zin > T(0)).select(zin, slope * zin); break;
    case Activation::tanh: out = zin.tanh(); break;
    case Activation::sigmoid: out = zin.logistic(); break;
  }
}

/// dz = dy * f'(z), with f' written through y = f(z); dz may alias dy.
template <class T>
void activate_backward(Activation a, const T* y, const T* dy, T* dz, Index n,
                       T slope = T(default_negative_slope)) {
  Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> out(y, n), g(dy, n);
  Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> dzin(dz, n);
  switch (a) {
    case Activation::identity: if (dz != dy) dzin = g; break;
    case Activation::relu: dzin = (out > T(0)).select(g, T(0)); break;
    case Activation::leaky_relu: dzin = (out > T(0)).select(g, slope * g); break;
    case Activation::tanh: dzin = g * (T(1) - out.square()); break;
    case Activation::sigmoid: dzin = g * out * (T(1) - out); break;
  }
}

/// An activation as a layer. forward caches its output; backward needs it.
template <class T>
class ActivationLayer : public Layer<T> {
 public:
  /// Activation a; negative_slope (finite, else ConfigError) is used by leaky_relu only.
  explicit ActivationLayer(Activation a, double negative_slope = default_negative_slope)
      : kind_(a), slope_(checked_slope(negative_slope, "activation")) {}

  /// "relu", "tanh", "sigmoid", "identity" or "leaky_relu negative_slope=X".
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) {
    const Activation a = parse_activation(s.name());
    auto layer = std::make_unique<ActivationLayer<T>>(
        a, a == Activation::leaky_relu ? s.number("negative_slope") : default_negative_slope);
    s.finish();
    return layer;
  }
  /// The activation's name, with negative_slope for leaky_relu.
  std::string spec() const override {
    SpecWriter w(to_string(kind_));
    if (kind_ == Activation::leaky_relu) w("negative_slope", slope_);
    return w.str();
  }

  /// f(x), elementwise; caches it for backward.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    ensure_shape_like(y_, x);
    activate(kind_, x.data(), y_.data(), x.size(), T(slope_));
    return y_;
  }
  /// dy * f'(x), through the cached output.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    ensure_shape_like(dx_, dy);
    activate_backward(kind_, y_.data(), dy.data(), dx_.data(), dy.size(), T(slope_));
    return dx_;
  }

  /// in: the shape is kept.
  Shape output_shape(const Shape& in) const override { return in; }
  /// The activation computed.
  Activation kind() const { return kind_; }
  /// Leaky ReLU's slope for negative inputs.
  double negative_slope() const { return slope_; }

 private:
  Activation kind_;
  double slope_;
  Tensor4<T> y_, dx_;
};

/// Activation::relu as a layer.
template <class T = float>
struct ReLU : ActivationLayer<T> {
  ReLU() : ActivationLayer<T>(Activation::relu) {}
};
/// Activation::leaky_relu as a layer.
template <class T = float>
struct LeakyReLU : ActivationLayer<T> {
  /// Leaky ReLU with this finite slope for negative inputs.
  explicit LeakyReLU(double negative_slope = default_negative_slope)
      : ActivationLayer<T>(Activation::leaky_relu, negative_slope) {}
};
/// Activation::tanh as a layer.
template <class T = float>
struct Tanh : ActivationLayer<T> {
  Tanh() : ActivationLayer<T>(Activation::tanh) {}
};
/// Activation::sigmoid as a layer.
template <class T = float>
struct Sigmoid : ActivationLayer<T> {
  Sigmoid() : ActivationLayer<T>(Activation::sigmoid) {}
};
/// Activation::identity as a layer: passes values through.
template <class T = float>
struct Identity : ActivationLayer<T> {
  Identity() : ActivationLayer<T>(Activation::identity) {}
};

}  // namespace shallow
