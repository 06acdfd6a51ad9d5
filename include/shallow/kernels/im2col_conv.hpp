/// \file
/// The general convolution: im2col + GEMM per image, for any kernel, stride
/// and padding. With col = im2col(x_i) ((C k k) x (out_h out_w), im2col.hpp):
///
///   forward           y_i   = W col + b
///   backward-weights  dW   += dy_i col^T,  db += rowsum(dy_i)
///   backward-data     dx_i  = col2im(W^T dy_i)
///
/// The products run Eigen's GEMM kernel through Gemm (gemm.hpp), which keeps
/// its packing buffers per thread. A 1x1, stride-1, unpadded convolution
/// skips im2col: the image already is its col matrix.
#pragma once

#include <algorithm>
#include <vector>

#include "conv_kernel.hpp"
#include "gemm.hpp"
#include "im2col.hpp"

namespace shallow {

/// im2col + GEMM per image: any kernel, stride and padding (the contract in this file's comment).
template <class T>
class Im2colConv final : public ConvKernel<T> {
 public:
  /// Every geometry.
  static bool accepts(const ConvGeometry&) { return true; }
  ConvAlgorithm algorithm() const override { return ConvAlgorithm::im2col; }

  void forward(const ConvGeometry& g, const Tensor4<T>& x, const MatrixR<T>& w, const T* bias, Tensor4<T>& y,
               ImageHook after) override {
    prepare(g);
    const Index n = x.dimension(0), out = g.out_channels;
#pragma omp parallel
    {
      const int tid = thread_id();
      MatrixR<T>& col = col_[std::size_t(tid)];
      Gemm<T>& gemm = gemm_[std::size_t(tid)].forward;
#pragma omp for schedule(dynamic)
      for (Index i = 0; i < n; ++i) {
        const T* xi = x.data() + i * g.in_size();
        MatrixMap<T> yi(y.data() + i * g.out_size(), out, g.cols());
        if (bias)
          yi.colwise() = Eigen::Map<const VectorX<T>>(bias, out);
        else
          yi.setZero();
        if (g.pointwise()) {
          gemm.add(w, ConstMatrixMap<T>(xi, g.rows(), g.cols()), yi);
        } else {
          im2col(g, xi, col.data());
          gemm.add(w, col, yi);
        }
        after(i);
      }
    }
  }

  void backward(const ConvGeometry& g, const Tensor4<T>& x, const Tensor4<T>& dy, const MatrixR<T>& w,
                Tensor4<T>* dx, MatrixR<T>& dw, VectorX<T>* db, ImageHook before, ImageHook after) override {
    prepare(g);
    partials_.run(x.dimension(0), dw, db, [&](int tid, Range r, MatrixR<T>& dw_t, VectorX<T>& db_t) {
      MatrixR<T>& col = col_[std::size_t(tid)];
      MatrixR<T>& dcol = dcol_[std::size_t(tid)];
      GemmSet& gemm = gemm_[std::size_t(tid)];
      for (Index i = r.begin; i < r.end; ++i) {
        before(i);
        const T* xi = x.data() + i * g.in_size();
        ConstMatrixMap<T> dyi(dy.data() + i * g.out_size(), g.out_channels, g.cols());
        T* dxi = dx ? dx->data() + i * g.in_size() : nullptr;
        if (g.pointwise()) {
          gemm.weights.add(dyi, ConstMatrixMap<T>(xi, g.rows(), g.cols()).transpose(), dw_t);
          if (dxi) {
            MatrixMap<T> dxm(dxi, g.rows(), g.cols());
            dxm.setZero();
            gemm.data.add(w.transpose(), dyi, dxm);
          }
        } else {
          im2col(g, xi, col.data());
          gemm.weights.add(dyi, col.transpose(), dw_t);
          if (dxi) {
            dcol.setZero();
            gemm.data.add(w.transpose(), dyi, dcol);
            std::fill(dxi, dxi + g.in_size(), T(0));
            col2im(g, dcol.data(), dxi);
          }
        }
        if (db) db_t += dyi.rowwise().sum();
        after(i);
      }
    });
  }

 private:
  // One workspace set per thread for g; a no-op when g and the thread
  // count are those of the last call.
  void prepare(const ConvGeometry& g) {
    const auto threads = static_cast<std::size_t>(num_threads());
    if (g == geometry_ && col_.size() >= threads) return;
    geometry_ = g;
    const std::size_t size = std::max(col_.size(), threads);
    col_.resize(size);
    dcol_.resize(size);
    gemm_.resize(size);
    for (std::size_t t = 0; t < size; ++t) {
      const Index rows = g.pointwise() ? 0 : g.rows(), cols = g.pointwise() ? 0 : g.cols();
      col_[t].resize(rows, cols);
      dcol_[t].resize(rows, cols);
    }
    partials_.resize(size, g.out_channels, g.rows());
  }

  // The three products, per thread, each keeping its buffers.
  struct GemmSet {
    Gemm<T> forward, weights, data;
  };
  ConvGeometry geometry_;
  std::vector<MatrixR<T>> col_, dcol_;
  std::vector<GemmSet> gemm_;
  GradientPartials<T> partials_;
};

}  // namespace shallow
