/// \file
/// Fully connected layer: y = x W^T + b, W stored [out, in] (PyTorch's
/// layout). Each sample is read as a flat vector of C*H*W = in values, so it
/// follows Flatten or GlobalAvgPool without a reshape; the output is
/// N x out x 1 x 1. forward caches a copy of x.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "../core/init.hpp"
#include "../core/parallel.hpp"
#include "layer.hpp"
#include "spec.hpp"

namespace shallow {

/// A fully connected layer (the contract in this file's comment).
template <class T = float>
class Dense : public Layer<T> {
 public:
  /// in_features -> out_features, both positive (else ConfigError); weights drawn from default_seed.
  Dense(Index in_features, Index out_features, bool bias = true)
      : in_(in_features), out_(out_features), has_bias_(bias) {
    SHALLOW_CHECK(in_ > 0 && out_ > 0, ConfigError,
                  "Dense: feature counts must be positive, got in=" + std::to_string(in_) +
                      " out=" + std::to_string(out_));
    weight_.setZero(out_, in_);
    weight_grad_.setZero(out_, in_);
    bias_.setZero(has_bias_ ? out_ : 0);
    bias_grad_.setZero(has_bias_ ? out_ : 0);
    Rng rng(default_seed);
    reset_parameters(rng);
  }

  /// "dense in=I out=O bias=0|1".
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) {
    const long long in = s.integer("in"), out = s.integer("out");
    s.reserve_parameters(double(in) * double(out) + double(out));
    auto dense = std::make_unique<Dense<T>>(in, out, s.flag("bias"));
    s.finish();
    return dense;
  }
  std::string spec() const override { return SpecWriter("dense")("in", in_)("out", out_)("bias", has_bias_).str(); }

  void reset_parameters(Rng& rng) override {
    init_uniform(rng, weight_.data(), weight_.size(), in_);
    if (has_bias_) init_uniform(rng, bias_.data(), out_, in_);
  }

  /// Both passes split the work between the OpenMP team themselves, as the
  /// convolutions do; left to itself, Eigen would start a team of its own
  /// for these small products, which is slow when another process holds a core.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    const Index n = x.dimension(0);
    SHALLOW_CHECK(sample_shape(x).size() == in_, ShapeError,
                  spec() + ": expected samples of " + std::to_string(in_) + " values, got " +
                      to_string(sample_shape(x)));
    x_ = x;
    ensure_shape(y_, n, out_, 1, 1);
    auto y = as_matrix(y_, n, out_);
    const auto xm = as_matrix(x_, n, in_);
#pragma omp parallel
    {
      const Range r = share(n, thread_id(), team_size());
      const Index rows = r.end - r.begin;
      y.middleRows(r.begin, rows).noalias() = xm.middleRows(r.begin, rows) * weight_.transpose();
      if (has_bias_) y.middleRows(r.begin, rows).rowwise() += bias_.transpose();
    }
    return y_;
  }

  /// dW and db are split by output feature, so each element has one writer
  /// and the sums do not depend on how the batch is shared.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    const Index n = dy.dimension(0);
    const auto g = as_matrix(dy, n, out_);
    const auto xm = as_matrix(x_, n, in_);
    ensure_shape_like(dx_, x_);
    auto dx = as_matrix(dx_, n, in_);
#pragma omp parallel
    {
      const int tid = thread_id(), team = team_size();
      const Range o = share(out_, tid, team);
      const Index outs = o.end - o.begin;
      weight_grad_.middleRows(o.begin, outs).noalias() += g.middleCols(o.begin, outs).transpose() * xm;
      if (has_bias_) bias_grad_.segment(o.begin, outs) += g.middleCols(o.begin, outs).colwise().sum().transpose();
      const Range r = share(n, tid, team);
      dx.middleRows(r.begin, r.end - r.begin).noalias() = g.middleRows(r.begin, r.end - r.begin) * weight_;
    }
    return dx_;
  }

  std::vector<Parameter<T>> parameters() override {
    std::vector<Parameter<T>> ps;
    ps.push_back({"weight", VectorMap<T>(weight_.data(), weight_.size()),
                  VectorMap<T>(weight_grad_.data(), weight_grad_.size()), {out_, in_}});
    if (has_bias_)
      ps.push_back({"bias", VectorMap<T>(bias_.data(), out_), VectorMap<T>(bias_grad_.data(), out_), {out_}});
    return ps;
  }

  Shape output_shape(const Shape& in) const override {
    SHALLOW_CHECK(in.size() == in_, ShapeError,
                  spec() + ": expected samples of " + std::to_string(in_) + " values, got " + to_string(in));
    return {out_, 1, 1};
  }

  double macs(const Shape& in) const override {
    output_shape(in);
    return double(in_) * double(out_);
  }

  /// Values read per sample (C*H*W of the input).
  Index in_features() const { return in_; }
  /// Outputs per sample.
  Index out_features() const { return out_; }
  /// Whether the layer adds a bias.
  bool has_bias() const { return has_bias_; }
  /// The weights, out x in.
  MatrixR<T>& weight() { return weight_; }
  /// The weights, out x in.
  const MatrixR<T>& weight() const { return weight_; }
  /// The bias, out values (none without one).
  VectorX<T>& bias() { return bias_; }
  /// The bias, out values (none without one).
  const VectorX<T>& bias() const { return bias_; }

 private:
  Index in_, out_;
  bool has_bias_;
  MatrixR<T> weight_, weight_grad_;
  VectorX<T> bias_, bias_grad_;
  Tensor4<T> x_, y_, dx_;
};

}  // namespace shallow
