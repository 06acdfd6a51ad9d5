/// \file
/// Pixel normalisation: 8-bit pixels scaled to [0, 1], then per channel
/// (v - mean) / stddev. The one place that turns stored pixels into network
/// inputs, for training batches (DataLoader) and for prediction alike, so
/// both see bitwise the same values.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/format.hpp"
#include "../core/tensor.hpp"
#include "dataset.hpp"

namespace shallow {

/// Per-channel normalisation of 8-bit pixels: (v / 255 - mean) / stddev.
class Normalize {
 public:
  /// No normalisation: mean 0 and stddev 1 for however many channels.
  Normalize() = default;
  /// ConfigError unless both have one finite value per channel and every
  /// stddev is positive (a zero would turn every pixel into an infinity).
  Normalize(std::vector<double> mean, std::vector<double> stddev) : mean_(std::move(mean)), sd_(std::move(stddev)) {
    SHALLOW_CHECK(mean_.size() == sd_.size() && !mean_.empty(), ConfigError,
                  "Normalize: need one mean and one stddev per channel, got " + std::to_string(mean_.size()) +
                      " and " + std::to_string(sd_.size()));
    for (std::size_t c = 0; c < mean_.size(); ++c)
      SHALLOW_CHECK(std::isfinite(mean_[c]) && std::isfinite(sd_[c]) && sd_[c] > 0, ConfigError,
                    "Normalize: channel " + std::to_string(c) + " has mean " + format_number(mean_[c]) +
                        " and stddev " + format_number(sd_[c]) + "; need finite values and stddev > 0");
  }

  /// The mean and standard deviation of every channel of `data`, from one
  /// histogram per channel (a constant channel gets stddev 1).
  static Normalize fit(const Dataset& data) {
    const Shape& shape = data.shape;
    std::vector<double> mean(std::size_t(shape.c), 0.0), sd(std::size_t(shape.c), 1.0);
    const Index plane = shape.h * shape.w;
    if (data.size() == 0 || plane == 0) return Normalize(mean, sd);
    for (Index c = 0; c < shape.c; ++c) {
      // Integer sums are exact; a histogram keeps this one pass over bytes.
      std::uint64_t hist[256] = {};
      for (Index i = 0; i < data.size(); ++i) {
        const std::uint8_t* p = data.image(i) + c * plane;
        for (Index j = 0; j < plane; ++j) ++hist[p[j]];
      }
      double n = 0, s = 0, s2 = 0;
      for (int v = 0; v < 256; ++v) {
        const double x = v / 255.0, k = double(hist[v]);
        n += k;
        s += k * x;
        s2 += k * x * x;
      }
      const double m = s / n;
      mean[std::size_t(c)] = m;
      const double var = s2 / n - m * m;
      sd[std::size_t(c)] = var > 1e-12 ? std::sqrt(var) : 1.0;
    }
    return Normalize(mean, sd);
  }

  /// Whether this only scales pixels to [0, 1] (no mean or stddev given).
  bool identity() const { return mean_.empty(); }
  /// 0 for the identity, which fits any channel count.
  Index channels() const { return Index(mean_.size()); }
  /// One mean per channel, on the [0, 1] scale; empty for the identity.
  const std::vector<double>& mean() const { return mean_; }
  /// One standard deviation per channel, on the [0, 1] scale; empty for the identity.
  const std::vector<double>& stddev() const { return sd_; }

  /// Channel c's pixel value v maps to T(v * scale(c)) + T(shift(c)).
  double scale(Index c) const { return 1.0 / (255.0 * (identity() ? 1.0 : sd_[std::size_t(c)])); }
  /// Channel c's offset after scale(): -mean / stddev (0 for the identity).
  double shift(Index c) const { return identity() ? 0.0 : -mean_[std::size_t(c)] / sd_[std::size_t(c)]; }

  /// ShapeError unless this normalises images of `channels` channels.
  void check_channels(Index channels) const {
    SHALLOW_CHECK(identity() || this->channels() == channels, ShapeError,
                  "Normalize: has " + std::to_string(this->channels()) + " channels, the images " +
                      std::to_string(channels));
  }

  /// One image of shape s (planar bytes) into s.size() values.
  template <class T>
  void apply(const std::uint8_t* image, const Shape& s, T* out) const {
    check_channels(s.c);
    const Index plane = s.h * s.w;
    for (Index c = 0; c < s.c; ++c) {
      const double k = scale(c);
      const T b = T(shift(c));
      for (Index i = 0; i < plane; ++i) out[c * plane + i] = T(image[c * plane + i] * k) + b;
    }
  }

 private:
  std::vector<double> mean_, sd_;
};

}  // namespace shallow
