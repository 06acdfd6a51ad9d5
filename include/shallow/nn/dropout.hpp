/// \file
/// Inverted dropout: in training each value is zeroed with probability p and
/// the survivors scaled by 1/(1-p); in evaluation it is the identity. forward
/// caches the scaled mask; backward multiplies by it. The mask comes from the
/// layer's own Rng, so a seed reproduces it.
#pragma once

#include <cmath>
#include <memory>
#include <string>

#include "../core/random.hpp"
#include "layer.hpp"
#include "spec.hpp"

namespace shallow {

/// Inverted dropout (the contract in this file's comment).
template <class T = float>
class Dropout : public Layer<T> {
 public:
  /// Drops values with probability p in [0, 1) (else ConfigError), the mask drawn from an Rng seeded with seed.
  explicit Dropout(double p = 0.5, std::uint64_t seed = 0xd209) : p_(p), rng_(seed) {
    SHALLOW_CHECK(p_ >= 0 && p_ < 1, ConfigError, "Dropout: p must be in [0, 1), got " + format_number(p_));
  }

  /// "dropout p=P".
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) {
    auto dropout = std::make_unique<Dropout<T>>(s.number("p"));
    s.finish();
    return dropout;
  }
  std::string spec() const override { return SpecWriter("dropout")("p", p_).str(); }

  /// Restarts the mask stream from seed.
  void reseed(std::uint64_t seed) { rng_.seed(seed); }
  /// The generator of the masks, e.g. to checkpoint its state.
  Rng& rng() { return rng_; }

  /// x times a fresh scaled mask when training; x itself (mask 1) in evaluation.
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
  /// dy times the last forward's mask.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    ensure_shape_like(dx_, dy);
    as_vector(dx_) = as_vector(dy).cwiseProduct(as_vector(mask_));
    return dx_;
  }

  Shape output_shape(const Shape& in) const override { return in; }

 private:
  double p_;
  Rng rng_;
  Tensor4<T> y_, mask_, dx_;
};

}  // namespace shallow
