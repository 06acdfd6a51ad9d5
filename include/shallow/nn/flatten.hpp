/// \file
/// N x C x H x W -> N x (C*H*W) x 1 x 1. The memory is already in that order
/// (row-major NCHW), so both passes are copies with a new shape.
#pragma once

#include <memory>
#include <string>

#include "layer.hpp"
#include "spec.hpp"

namespace shallow {

/// N x C x H x W -> N x (C*H*W) x 1 x 1 (the contract in this file's comment).
template <class T = float>
class Flatten : public Layer<T> {
 public:
  /// "flatten".
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) {
    s.finish();
    return std::make_unique<Flatten<T>>();
  }
  std::string spec() const override { return "flatten"; }

  /// x as N x (C*H*W) x 1 x 1.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    in_dims_ = x.dimensions();
    ensure_shape(y_, x.dimension(0), x.dimension(1) * x.dimension(2) * x.dimension(3), 1, 1);
    as_vector(y_) = as_vector(x);
    return y_;
  }
  /// dy in the shape of the last forward's input.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    ensure_shape(dx_, in_dims_[0], in_dims_[1], in_dims_[2], in_dims_[3]);
    as_vector(dx_) = as_vector(dy);
    return dx_;
  }
  Shape output_shape(const Shape& in) const override { return {in.size(), 1, 1}; }

 private:
  Tensor4<T> y_, dx_;
  typename Tensor4<T>::Dimensions in_dims_{};
};

}  // namespace shallow
