/// \file
/// Batch normalisation over N, H, W for each channel (PyTorch's BatchNorm2d).
/// Training: normalise with the batch mean and biased variance, and move the
/// running statistics by `momentum` (running_var takes the unbiased variance).
/// Evaluation: normalise with the running statistics. Without a trained
/// scale (scale = false, airbench94's batch norm) gamma stays 1 and only beta
/// is a parameter.
/// forward caches x_hat and 1/sqrt(var + eps) per channel; backward needs them.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "layer.hpp"
#include "spec.hpp"

namespace shallow {

/// Batch normalisation per channel (the contract in this file's comment).
template <class T = float>
class BatchNorm2d : public Layer<T> {
 public:
  /// channels > 0, a finite eps > 0 and 0 <= momentum <= 1, else ConfigError; gamma 1, beta 0, running mean 0 and variance 1.
  explicit BatchNorm2d(Index channels, double eps = 1e-5, double momentum = 0.1, bool scale = true)
      : c_(channels), eps_(eps), momentum_(momentum), scale_(scale) {
    SHALLOW_CHECK(c_ > 0, ConfigError, "BatchNorm2d: channels must be positive, got " + std::to_string(c_));
    SHALLOW_CHECK(eps_ > 0 && momentum_ >= 0 && momentum_ <= 1 && std::isfinite(eps_), ConfigError,
                  "BatchNorm2d: need a finite eps > 0 and 0 <= momentum <= 1, got eps=" + format_number(eps_) +
                      " momentum=" + format_number(momentum_));
    gamma_.setOnes(c_);
    beta_.setZero(c_);
    gamma_grad_.setZero(c_);
    beta_grad_.setZero(c_);
    running_mean_.setZero(c_);
    running_var_.setOnes(c_);
  }

  /// "batchnorm2d channels=C eps=E momentum=M [scale=0]" (scale=0: no trained scale).
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) {
    const long long channels = s.integer("channels");
    s.reserve_parameters(4.0 * double(channels));  // and the running statistics
    auto bn = std::make_unique<BatchNorm2d<T>>(channels, s.number("eps"), s.number("momentum"),
                                               s.flag("scale", true));
    s.finish();
    return bn;
  }
  std::string spec() const override {
    SpecWriter w("batchnorm2d");
    w("channels", c_)("eps", eps_)("momentum", momentum_);
    if (!scale_) w("scale", false);  // older specs, all with a scale, read the same
    return w.str();
  }

  /// Normalises x (channels() channels) with the batch statistics when training, else the running ones; training needs more than one value per channel (ShapeError).
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    check_input(x, {c_, x.dimension(2), x.dimension(3)}, "BatchNorm2d");
    const Index n = x.dimension(0), area = x.dimension(2) * x.dimension(3), m = n * area;
    SHALLOW_CHECK(!this->training() || m > 1, ShapeError, spec() + ": training needs more than one value per channel");
    ensure_shape_like(xhat_, x);
    ensure_shape_like(y_, x);
    mean_.resize(c_);
    inv_std_.resize(c_);
#pragma omp parallel for schedule(static)
    for (Index c = 0; c < c_; ++c) {
      double mean, var;
      if (this->training()) {
        // Two passes: E[x^2] - E[x]^2 cancels badly in float.
        double sum = 0, sq = 0;
        for (Index b = 0; b < n; ++b) sum += static_cast<double>(plane_of(x, b, c, area).sum());
        mean = sum / m;
        for (Index b = 0; b < n; ++b)
          sq += static_cast<double>((plane_of(x, b, c, area) - T(mean)).square().sum());
        var = sq / m;
        running_mean_[c] = T((1 - momentum_) * running_mean_[c] + momentum_ * mean);
        running_var_[c] = T((1 - momentum_) * running_var_[c] + momentum_ * var * m / (m - 1));
      } else {
        mean = running_mean_[c];
        var = running_var_[c];
      }
      mean_[c] = T(mean);
      inv_std_[c] = T(1 / std::sqrt(var + eps_));
      for (Index b = 0; b < n; ++b) {
        auto xh = plane_of(xhat_, b, c, area);
        xh = (plane_of(x, b, c, area) - mean_[c]) * inv_std_[c];
        plane_of(y_, b, c, area) = xh * gamma_[c] + beta_[c];
      }
    }
    return y_;
  }

  /// Training: dx = gamma*inv_std/M * (M*dy - sum(dy) - x_hat*sum(dy*x_hat));
  /// evaluation: the statistics are constants, dx = gamma*inv_std*dy.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    const Index n = dy.dimension(0), area = dy.dimension(2) * dy.dimension(3), m = n * area;
    ensure_shape_like(dx_, dy);
#pragma omp parallel for schedule(static)
    for (Index c = 0; c < c_; ++c) {
      T sum_dy = 0, sum_dy_xhat = 0;
      for (Index b = 0; b < n; ++b) {
        auto g = plane_of(dy, b, c, area);
        sum_dy += g.sum();
        sum_dy_xhat += (g * plane_of(xhat_, b, c, area)).sum();
      }
      if (scale_) gamma_grad_[c] += sum_dy_xhat;
      beta_grad_[c] += sum_dy;
      const T k = gamma_[c] * inv_std_[c];
      for (Index b = 0; b < n; ++b) {
        auto dx = plane_of(dx_, b, c, area);
        if (this->training())
          dx = k / T(m) * (T(m) * plane_of(dy, b, c, area) - sum_dy - plane_of(xhat_, b, c, area) * sum_dy_xhat);
        else
          dx = k * plane_of(dy, b, c, area);
      }
    }
    return dx_;
  }

  std::vector<Parameter<T>> parameters() override {
    std::vector<Parameter<T>> ps;
    if (scale_) ps.push_back({"weight", VectorMap<T>(gamma_.data(), c_), VectorMap<T>(gamma_grad_.data(), c_), {c_}});
    ps.push_back({"bias", VectorMap<T>(beta_.data(), c_), VectorMap<T>(beta_grad_.data(), c_), {c_}});
    return ps;
  }
  std::vector<Buffer<T>> buffers() override {
    return {{"running_mean", VectorMap<T>(running_mean_.data(), c_)},
            {"running_var", VectorMap<T>(running_var_.data(), c_)}};
  }

  Shape output_shape(const Shape& in) const override {
    SHALLOW_CHECK(in.c == c_, ShapeError,
                  spec() + ": expected " + std::to_string(c_) + " channels, got " + to_string(in));
    return in;
  }
  /// The number of channels normalised.
  Index channels() const { return c_; }
  /// Added to the variance before its square root.
  double eps() const { return eps_; }
  /// Whether gamma is a trained parameter (else it stays 1).
  bool has_scale() const { return scale_; }
  /// Per-channel scale (the parameter "weight", with a trained scale).
  const VectorX<T>& gamma() const { return gamma_; }
  /// Per-channel shift (the parameter "bias").
  const VectorX<T>& beta() const { return beta_; }
  /// Running mean per channel, for evaluation.
  const VectorX<T>& running_mean() const { return running_mean_; }
  /// Running (unbiased) variance per channel, for evaluation.
  const VectorX<T>& running_var() const { return running_var_; }

 private:
  using PlaneMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  using ConstPlaneMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  PlaneMap plane_of(Tensor4<T>& t, Index b, Index c, Index area) const {
    return PlaneMap(t.data() + (b * c_ + c) * area, area);
  }
  ConstPlaneMap plane_of(const Tensor4<T>& t, Index b, Index c, Index area) const {
    return ConstPlaneMap(t.data() + (b * c_ + c) * area, area);
  }

  Index c_;
  double eps_, momentum_;
  bool scale_;
  VectorX<T> gamma_, beta_, gamma_grad_, beta_grad_, running_mean_, running_var_, mean_, inv_std_;
  Tensor4<T> xhat_, y_, dx_;
};

}  // namespace shallow
