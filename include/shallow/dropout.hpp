// Inverted dropout: in training each value is zeroed with probability p and
// the survivors scaled by 1/(1-p); in evaluation it is the identity. forward
// caches the scaled mask; backward multiplies by it. The mask comes from the
// layer's own Rng, so a seed reproduces it.
#pragma once

#include <string>

#include "layer.hpp"
#include "random.hpp"
#include "spec.hpp"

namespace shallow {

template <class T = float>
class Dropout : public Layer<T> {
 public:
  explicit Dropout(double p = 0.5, std::uint64_t seed = 0xd209) : p_(p), rng_(seed) {
    require(p_ >= 0 && p_ < 1, "Dropout: p must be in [0, 1), got " + format_number(p_));
  }

  void reseed(std::uint64_t seed) { rng_.seed(seed); }
  Rng& rng() { return rng_; }

  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    ensure_shape_like(y_, x);
    ensure_shape_like(mask_, x);
    if (this->training() && p_ > 0) {
      const T keep = T(1 / (1 - p_));
      for (Index i = 0; i < x.size(); ++i) mask_.data()[i] = rng_.uniform() < p_ ? T(0) : keep;
    } else {
      mask_.setConstant(T(1));
    }
    as_vector(y_) = as_vector(x).cwiseProduct(as_vector(mask_));
    return y_;
  }
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    ensure_shape_like(dx_, dy);
    as_vector(dx_) = as_vector(dy).cwiseProduct(as_vector(mask_));
    return dx_;
  }

  Shape output_shape(const Shape& in) const override { return in; }
  std::string spec() const override { return "dropout p=" + format_number(p_); }

 private:
  double p_;
  Rng rng_;
  Tensor4<T> y_, mask_, dx_;
};

}  // namespace shallow
