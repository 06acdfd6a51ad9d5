/// \file
/// Direct 3x3 and 5x5 'same' convolutions vectorised over channels
/// (blocked.hpp): the kernels read and write each image in place, NCHW,
/// computing blocks of lanes<T> output channels at a time; the weight
/// gradient reads dy copied into blocks, pixel-major.
///
///   forward           y_i  = correlate(W, x_i) + b
///   backward-weights  dW  += correlate(blocked(dy_i), x_i),  db += rowsum(dy_i) (while dy_i is blocked)
///   backward-data     dx_i = correlate(flip(W)^T, dy_i)
///
/// (correlations 'same': the padding is implied, never stored).
#pragma once

#include <algorithm>
#include <vector>

#include "blocked.hpp"
#include "conv_kernel.hpp"

namespace shallow {

/// Channel-blocked direct convolution for stride-1 'same' 3x3 and 5x5 kernels (the contract in this file's comment).
template <class T>
class BlockedConv final : public ConvKernel<T> {
 public:
  /// Stride-1 convolutions with a 3x3 or 5x5 kernel that keep the image size.
  static bool accepts(const ConvGeometry& g) {
    return g.keeps_size() && (g.kernel == 3 || g.kernel == 5) && g.pad_top == g.kernel / 2 &&
           g.pad_left == g.kernel / 2;
  }
  ConvAlgorithm algorithm() const override { return ConvAlgorithm::blocked; }

  void forward(const ConvGeometry& g, const Tensor4<T>& x, const MatrixR<T>& w, const T* bias, Tensor4<T>& y,
               ImageHook after) override {
    prepare(g);
    const Index k = g.kernel;
    pack_blocked(g.out_channels, g.channels, k, [&](Index o, Index c, Index j) { return w(o, c * k * k + j); },
                 forward_.data());
    const Index n = x.dimension(0);
#pragma omp parallel for schedule(dynamic)
    for (Index i = 0; i < n; ++i) {
      blocked_correlate(k, g.height, g.width, g.out_channels, g.channels, forward_.data(), x.data() + i * g.in_size(),
                        bias, y.data() + i * g.out_size());
      after(i);
    }
  }

  void backward(const ConvGeometry& g, const Tensor4<T>& x, const Tensor4<T>& dy, const MatrixR<T>& w,
                Tensor4<T>* dx, MatrixR<T>& dw, VectorX<T>* db, ImageHook before, ImageHook after) override {
    prepare(g);
    const Index k = g.kernel, kk = k * k, in = g.channels, out = g.out_channels, hw = g.cols();
    constexpr Index L = detail::lanes<T>;
    if (dx)
      pack_blocked(in, out, k, [&](Index c, Index o, Index j) { return w(o, c * kk + kk - 1 - j); },
                   backward_.data());
    partials_.run(x.dimension(0), dw, db, [&](int tid, Range r, MatrixR<T>& dw_t, VectorX<T>& db_t) {
      const auto t = std::size_t(tid);
      VectorX<T>& sums = sums_[t];
      sums.setZero();
      for (Index i = r.begin; i < r.end; ++i) {
        before(i);
        const T* dyi = dy.data() + i * g.out_size();
        to_blocked(dyi, out, hw, dy_[t].data(), db ? db_t.data() : nullptr);
        blocked_correlate_grad(k, g.height, g.width, out, in, dy_[t].data(), x.data() + i * g.in_size(),
                               zeros_.data(), sums.data());
        if (dx) {
          blocked_correlate(k, g.height, g.width, in, out, backward_.data(), dyi, static_cast<const T*>(nullptr),
                            dx->data() + i * g.in_size());
        }
        after(i);
      }
      // sums[b][c][j][l] is dW(b*L + l, c*kk + j).
      for (Index b = 0; b < channel_blocks<T>(out); ++b)
        for (Index j = 0; j < in * kk; ++j)
          for (Index l = 0; l < std::min(L, out - b * L); ++l) dw_t(b * L + l, j) += sums[(b * in * kk + j) * L + l];
    });
  }

 private:
  // One workspace set per thread for g; a no-op when g and the thread
  // count are those of the last call.
  void prepare(const ConvGeometry& g) {
    const auto threads = static_cast<std::size_t>(num_threads());
    if (g == geometry_ && dy_.size() >= threads) return;
    geometry_ = g;
    const Index k = g.kernel, in = g.channels, out = g.out_channels, L = detail::lanes<T>;
    const Index out_blocks = channel_blocks<T>(out);
    zeros_.setZero(g.width);
    forward_.resize(out_blocks * in * k * k * L);
    backward_.resize(channel_blocks<T>(in) * out * k * k * L);
    const std::size_t size = std::max(dy_.size(), threads);
    dy_.resize(size);
    sums_.resize(size);
    for (std::size_t t = 0; t < size; ++t) {
      dy_[t].resize(out_blocks * g.cols() * L);
      sums_[t].resize(out_blocks * in * k * k * L);
    }
    partials_.resize(size, out, g.rows());
  }

  ConvGeometry geometry_;
  VectorX<T> forward_, backward_;      // weights packed for the forward and backward-data correlations
  VectorX<T> zeros_;                   // a row of zeros: the kernel rows of the weight gradient outside the image
  std::vector<VectorX<T>> dy_, sums_;  // per thread: dy blocked, the weight gradient's packets
  GradientPartials<T> partials_;
};

}  // namespace shallow
