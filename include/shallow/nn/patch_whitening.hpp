/// \file
/// Patch whitening: a fixed first convolution that decorrelates the k x k
/// patches of the input images, as in the CIFAR-10 speed-runs of David Page
/// and Keller Jordan. fit(images) takes training images (normalised as the
/// network will see them), computes the covariance of all their k x k patches
/// (D = C k k values each) and sets the filters to its eigenvectors scaled
/// by 1 / sqrt(eigenvalue + eps), largest eigenvalue first; each filter is
/// followed by its negation, so the layer has 2 D output channels and a ReLU
/// after it loses nothing. The convolution is 'valid' (stride 1, no
/// padding): H x W -> (H - k + 1) x (W - k + 1).
///
///   filters  2D x (C k k), row-major as Conv2d's weight: a buffer, saved in
///            checkpoints and never trained
///   bias     2D values (bias=1, starting at 0): a trainable parameter
///
/// Layer contract: forward caches x; backward returns dL/dx and adds dL/dbias.
/// A layer that was never fitted (filters all zero, e.g. built from a spec
/// without loading its buffers) refuses to run rather than output zeros.
#pragma once

#include <Eigen/Eigenvalues>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../core/parallel.hpp"
#include "conv2d.hpp"
#include "layer.hpp"
#include "spec.hpp"

namespace shallow {

/// A fitted, frozen whitening convolution (the contract in this file's comment).
template <class T = float>
class PatchWhitening : public Layer<T> {
 public:
  /// An unfitted layer over k x k patches of `channels` channels (ConfigError unless both > 0 and eps > 0).
  PatchWhitening(Index channels, Index kernel, double eps = 5e-4, bool bias = true)
      : c_(channels), k_(kernel), eps_(eps), conv_(checked(channels, kernel, eps), 2 * channels * kernel * kernel,
                                                   kernel, 1, 0, bias) {
    conv_.weight().setZero();
    if (bias) conv_.bias().setZero();
  }

  /// "patch_whitening channels=C kernel=K eps=E bias=0|1"
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) {
    const long long c = s.integer("channels"), k = s.integer("kernel");
    const double d = double(c) * double(k) * double(k);
    s.reserve_parameters(2 * d * d + 2 * d);  // the filters and the bias
    auto layer = std::make_unique<PatchWhitening<T>>(c, k, s.number("eps"), s.flag("bias"));
    s.finish();
    return layer;
  }
  std::string spec() const override {
    return SpecWriter("patch_whitening")("channels", c_)("kernel", k_)("eps", eps_)("bias", conv_.has_bias()).str();
  }

  /// Sets the filters from the k x k patches of `images` (N x C x H x W,
  /// H and W >= k). Sums run in double, one partial sum per thread, added in
  /// thread order: the same filters for the same images at a thread count.
  void fit(const Tensor4<T>& images) {
    check_input(images, {c_, images.dimension(2), images.dimension(3)}, "PatchWhitening::fit");
    const Index n = images.dimension(0), h = images.dimension(2), w = images.dimension(3);
    const Index oh = h - k_ + 1, ow = w - k_ + 1, d = patch_size();
    SHALLOW_CHECK(n > 0 && oh > 0 && ow > 0, ShapeError,
                  spec() + ": fit needs images of at least " + std::to_string(k_) + "x" + std::to_string(k_) +
                      " pixels, got " + std::to_string(n) + " of " + to_string(sample_shape(images)));
    const int team = num_threads();
    std::vector<Eigen::MatrixXd> second(std::size_t(team), Eigen::MatrixXd::Zero(d, d));
    std::vector<Eigen::VectorXd> first(std::size_t(team), Eigen::VectorXd::Zero(d));
#pragma omp parallel num_threads(team)
    {
      const int tid = thread_id();
      const Range r = share(n, tid, team_size());
      // One image's patches, a row each: (c, ky, kx) as in the filters.
      Eigen::MatrixXd patches(oh * ow, d);
      for (Index i = r.begin; i < r.end; ++i) {
        const T* img = images.data() + i * c_ * h * w;
        for (Index c = 0; c < c_; ++c)
          for (Index ky = 0; ky < k_; ++ky)
            for (Index kx = 0; kx < k_; ++kx) {
              const Index col = (c * k_ + ky) * k_ + kx;
              for (Index y = 0; y < oh; ++y)
                for (Index x = 0; x < ow; ++x)
                  patches(y * ow + x, col) = double(img[(c * h + y + ky) * w + x + kx]);
            }
        second[std::size_t(tid)].noalias() += patches.transpose() * patches;
        first[std::size_t(tid)] += patches.colwise().sum().transpose();
      }
    }
    for (int t = 1; t < team; ++t) {
      second[0] += second[std::size_t(t)];
      first[0] += first[std::size_t(t)];
    }
    const double count = double(n) * double(oh) * double(ow);
    const Eigen::VectorXd mean = first[0] / count;
    const Eigen::MatrixXd covariance = second[0] / count - mean * mean.transpose();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(covariance);
    SHALLOW_CHECK(eigen.info() == Eigen::Success, NumericError, spec() + ": the patch covariance has no eigendecomposition");
    // Eigen sorts eigenvalues ascending: filter j takes the j-th largest.
    auto& weight = conv_.weight();
    for (Index j = 0; j < d; ++j) {
      const Index e = d - 1 - j;
      const double scale = 1 / std::sqrt(std::max(eigen.eigenvalues()[e], 0.0) + eps_);
      for (Index col = 0; col < d; ++col) {
        const double v = eigen.eigenvectors()(col, e) * scale;
        weight(j, col) = T(v);
        weight(d + j, col) = T(-v);
      }
    }
  }

  /// Whether fit (or a checkpoint) has set the filters.
  bool fitted() const { return !conv_.weight().isZero(0); }

  /// The whitened patches: C x H x W -> 2D x (H - k + 1) x (W - k + 1).
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    SHALLOW_CHECK(fitted(), ConfigError,
                  spec() + ": not fitted (call fit with training images, or load its filters from a checkpoint)");
    check_input(x, {c_, x.dimension(2), x.dimension(3)}, "PatchWhitening");
    return conv_.forward(x);
  }
  /// The convolution also computes the filters' gradient, which is dropped:
  /// the filters stay as fitted.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    conv_.weight_grad().setZero();
    return conv_.backward(dy);
  }

  std::vector<Parameter<T>> parameters() override {
    std::vector<Parameter<T>> ps;
    if (conv_.has_bias())
      ps.push_back({"bias", VectorMap<T>(conv_.bias().data(), conv_.out_channels()),
                    VectorMap<T>(conv_.bias_grad().data(), conv_.out_channels()), {conv_.out_channels()}});
    return ps;
  }
  std::vector<Buffer<T>> buffers() override {
    return {{"filters", VectorMap<T>(conv_.weight().data(), conv_.weight().size())}};
  }

  /// The filters are data, not initial weights: only the bias starts afresh.
  void reset_parameters(Rng& rng) override {
    (void)rng;
    if (conv_.has_bias()) conv_.bias().setZero();
  }

  Shape output_shape(const Shape& in) const override { return conv_.output_shape(in); }
  double macs(const Shape& in) const override { return conv_.macs(in); }

  /// C.
  Index channels() const { return c_; }
  /// k.
  Index kernel() const { return k_; }
  /// Added to each eigenvalue before its inverse square root.
  double eps() const { return eps_; }
  /// D = C k k.
  Index patch_size() const { return c_ * k_ * k_; }
  /// 2 D x D: row j < D is the j-th whitening filter, row D + j its negation.
  const MatrixR<T>& filters() const { return conv_.weight(); }

 private:
  static Index checked(Index channels, Index kernel, double eps) {
    SHALLOW_CHECK(channels > 0 && kernel > 0, ConfigError,
                  "PatchWhitening: channels and kernel must be positive, got channels=" + std::to_string(channels) +
                      " kernel=" + std::to_string(kernel));
    SHALLOW_CHECK(std::isfinite(eps) && eps > 0, ConfigError,
                  "PatchWhitening: eps must be finite and > 0, got " + format_number(eps));
    return channels;
  }

  Index c_, k_;
  double eps_;
  Conv2d<T> conv_;
};

}  // namespace shallow
