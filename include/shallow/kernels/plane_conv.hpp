/// \file
/// Stride-1 convolutions that keep the image size, on padded planes
/// (planes.hpp): per image, x is copied once into zero-padded channel planes
/// and register-tiled kernels read every kernel tap as a shifted run of those
/// planes, so no im2col matrix is built.
///
///   forward           y_i  = correlate(W, pad(x_i)) + b
///   backward-weights  dW  += correlate(pad(dy_i), pad(x_i)),  db += rowsum(dy_i)
///   backward-data     dx_i = correlate(flip(W)^T, pad(dy_i))
///
/// The gradient planes are padded by k-1 minus the forward padding, so that
/// correlating them with the flipped, transposed weights gives dx, and their
/// junk columns are zero for the weight gradient. Small images reach the
/// weight-gradient kernel in groups (about grad_positions outputs a call).
#pragma once

#include <algorithm>
#include <vector>

#include "conv_kernel.hpp"
#include "planes.hpp"

namespace shallow {

/// Stride-1 'same' convolutions on padded planes (the contract in this file's comment).
template <class T>
class PlaneConv final : public ConvKernel<T> {
 public:
  /// Stride-1 convolutions that keep the image size, but not 1x1 ones (im2col's pointwise path is faster).
  static bool accepts(const ConvGeometry& g) { return g.keeps_size() && !g.pointwise(); }
  ConvAlgorithm algorithm() const override { return ConvAlgorithm::planes; }

  void forward(const ConvGeometry& g, const Tensor4<T>& x, const MatrixR<T>& w, const T* bias, Tensor4<T>& y,
               ImageHook after) override {
    prepare(g);
    const Index taps = g.rows(), out = g.out_channels;
    pack_rows(out, taps, [&](Index o, Index j) { return w(o, j); }, packed_.data());
    const Index n = x.dimension(0);
#pragma omp parallel
    {
      const int tid = thread_id();
      T* xp = xplanes_[std::size_t(tid)].data();
#pragma omp for schedule(dynamic)
      for (Index i = 0; i < n; ++i) {
        to_planes(plane_, g.channels, g.pad_top, g.pad_left, x.data() + i * g.in_size(), xp);
        T* yi = y.data() + i * g.out_size();
        correlate_planes(plane_, out, taps, packed_.data(), tap_in_.data(), xp, tile_[std::size_t(tid)].data(),
                         [&](Index o0, Index rows, const T* tile) {
                           for (Index o = o0; o < o0 + rows; ++o)
                             from_plane(tile + (o - o0) * plane_.stride, bias ? bias[o] : T(0), yi + o * g.cols());
                         });
        after(i);
      }
    }
  }

  void backward(const ConvGeometry& g, const Tensor4<T>& x, const Tensor4<T>& dy, const MatrixR<T>& w,
                Tensor4<T>* dx, MatrixR<T>& dw, VectorX<T>* db, ImageHook before, ImageHook after) override {
    prepare(g);
    const Index k = g.kernel, kk = k * k, in = g.channels, out = g.out_channels, taps = out * kk;
    const Index lanes = detail::lanes<T>;
    const Index top = k - 1 - g.pad_top, left = k - 1 - g.pad_left;
    if (dx)
      pack_rows(in, taps,
                [&](Index c, Index j) {
                  const Index o = j / kk, ky = (j % kk) / k, kx = j % k;
                  return w(o, (c * k + k - 1 - ky) * k + k - 1 - kx);
                },
                packed_.data());
    const Index x_image = in * plane_.stride, dy_image = out * plane_.stride;
    partials_.run(x.dimension(0), dw, db, [&](int tid, Range r, MatrixR<T>& dw_t, VectorX<T>& db_t) {
      const auto t = std::size_t(tid);
      T* xp = xplanes_[t].data();
      // Shifted so that the gradient rows, read at the origin, are aligned.
      T* dp = dplanes_[t].data() + (lanes - plane_.origin(top, left) % lanes) % lanes;
      VectorX<T>& dwv = dwv_[t];
      dwv.setZero();
      for (Index first = r.begin; first < r.end; first += group_) {
        const Index images = std::min(group_, r.end - first);
        for (Index e = 0; e < images; ++e) {
          before(first + e);
          const T* dyi = dy.data() + (first + e) * g.out_size();
          to_planes(plane_, in, g.pad_top, g.pad_left, x.data() + (first + e) * g.in_size(), xp + e * x_image);
          to_planes(plane_, out, top, left, dyi, dp + e * dy_image);
          if (db) db_t += ConstMatrixMap<T>(dyi, out, g.cols()).rowwise().sum();
        }
        if (per_lane_grad())
          correlate_planes_grad<T, true>(plane_, out, in * kk, dp + plane_.origin(top, left), dy_image,
                                         tap_in_.data(), xp, x_image, images, dwv.data());
        else
          correlate_planes_grad<T, false>(plane_, out, in * kk, dp + plane_.origin(top, left), dy_image,
                                          tap_in_.data(), xp, x_image, images, dw_t.data());
        for (Index e = 0; e < images; ++e) {
          if (dx) {
            T* dxi = dx->data() + (first + e) * g.in_size();
            correlate_planes(plane_, in, taps, packed_.data(), tap_out_.data(), dp + e * dy_image,
                             tile_[t].data(), [&](Index c0, Index rows, const T* tile) {
                               for (Index c = c0; c < c0 + rows; ++c)
                                 from_plane(tile + (c - c0) * plane_.stride, T(0), dxi + c * g.height * g.width);
                             });
          }
          after(first + e);
        }
      }
      if (per_lane_grad()) detail::sum_lanes(dwv.data(), dw_t.size(), dw_t.data());
    });
  }

 private:
  // One image per weight-gradient call keeps its sums per lane (planes.hpp,
  // correlate_planes_grad); groups of small images sum into dW directly.
  bool per_lane_grad() const { return group_ == 1; }

  // Copies one computed plane without its junk columns, adding b.
  void from_plane(const T* plane, T b, T* out) const {
    for (Index y = 0; y < plane_.height; ++y, plane += plane_.wp, out += plane_.width)
      for (Index x = 0; x < plane_.width; ++x) out[x] = plane[x] + b;
  }

  // One workspace set per thread for g; a no-op when g and the thread
  // count are those of the last call.
  void prepare(const ConvGeometry& g) {
    const auto threads = static_cast<std::size_t>(num_threads());
    if (g == geometry_ && xplanes_.size() >= threads) return;
    geometry_ = g;
    const Index k = g.kernel, in = g.channels, out = g.out_channels, lanes = detail::lanes<T>;
    plane_ = plane_layout<T>(k, g.height, g.width);
    group_ = std::max<Index>(1, detail::grad_positions / plane_.span);
    tap_in_.resize(std::size_t(in * k * k));
    tap_out_.resize(std::size_t(out * k * k));
    for (Index c = 0; c < std::max(in, out); ++c)
      for (Index ky = 0; ky < k; ++ky)
        for (Index kx = 0; kx < k; ++kx) {
          const auto j = std::size_t((c * k + ky) * k + kx);
          if (c < in) tap_in_[j] = plane_.tap(c, ky, kx);
          if (c < out) tap_out_[j] = plane_.tap(c, ky, kx);
        }
    packed_.resize(in * out * k * k);
    const std::size_t size = std::max(xplanes_.size(), threads);
    xplanes_.resize(size);
    dplanes_.resize(size);
    tile_.resize(size);
    dwv_.resize(size);
    for (std::size_t t = 0; t < size; ++t) {
      // Zero once: the kernels only ever write plane interiors.
      xplanes_[t].setZero(group_ * in * plane_.stride);
      dplanes_[t].setZero(group_ * out * plane_.stride + lanes);
      tile_[t].resize(detail::out_rows * plane_.stride);
      dwv_[t].resize(per_lane_grad() ? out * g.rows() * lanes : 0);
    }
    partials_.resize(size, out, g.rows());
  }

  ConvGeometry geometry_;
  PlaneLayout plane_;
  Index group_ = 1;                      // images per call of the weight-gradient kernel
  std::vector<Index> tap_in_, tap_out_;  // plane offset of each (channel, ky, kx)
  VectorX<T> packed_;                    // weights as the plane kernels read them
  std::vector<VectorX<T>> xplanes_, dplanes_, tile_, dwv_;
  GradientPartials<T> partials_;
};

}  // namespace shallow
