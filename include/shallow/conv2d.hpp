// 2-D convolution by im2col + GEMM, parallel over the images of a batch.
//
// Per image i (C x H x W in, O x out_h x out_w out), with col = im2col(x_i):
//   forward           y_i   = W col + b              W: O x (C k k), row-major
//   backward-weights  dW   += dy_i col^T,  db += rowsum(dy_i)
//   backward-data     dx_i  = col2im(W^T dy_i)
// Each thread takes a contiguous share of the images and keeps its own col
// workspace and dW/db partial sums; the partials are added in thread order
// after the parallel region, so a result is bitwise reproducible at a given
// thread count. Workspaces live in the layer and are reused across calls.
//
// Layer contract: forward caches a copy of x; backward needs it, ADDS into
// weight and bias gradients and returns dL/dx. forward_into/backward_into are
// the same kernels without the cache, for blocks that keep their own inputs.
#pragma once

#include <string>
#include <vector>

#include "layer.hpp"
#include "im2col.hpp"
#include "parallel.hpp"
#include "init.hpp"
#include "spec.hpp"

namespace shallow {

// Padding that keeps out = ceil(in / stride); for an even kernel the extra
// row/column goes to the bottom/right, as in PyTorch and TensorFlow.
inline constexpr Index same_padding = -1;

template <class T = float>
class Conv2d : public Layer<T> {
 public:
  Conv2d(Index in_channels, Index out_channels, Index kernel, Index stride = 1, Index padding = same_padding,
         bool bias = true)
      : in_(in_channels), out_(out_channels), k_(kernel), stride_(stride), padding_(padding), has_bias_(bias) {
    require(in_ > 0 && out_ > 0, "Conv2d: channel counts must be positive, got in=" + std::to_string(in_) +
                                     " out=" + std::to_string(out_));
    require(k_ > 0 && stride_ > 0, "Conv2d: kernel and stride must be positive, got kernel=" +
                                       std::to_string(k_) + " stride=" + std::to_string(stride_));
    require(padding_ >= 0 || padding_ == same_padding,
            "Conv2d: padding must be >= 0 or same_padding, got " + std::to_string(padding_));
    weight_.setZero(out_, in_ * k_ * k_);
    weight_grad_.setZero(out_, in_ * k_ * k_);
    bias_.setZero(has_bias_ ? out_ : 0);
    bias_grad_.setZero(has_bias_ ? out_ : 0);
    Rng rng(default_seed);
    reset_parameters(rng);
  }

  void reset_parameters(Rng& rng) override { reset_rows(rng, 0, out_); }

  // Draws output channels [first, first + count): their weights, then their
  // biases. ParallelResidual initialises branch by branch through this, so it
  // draws the same numbers as a SequentialResidual with the same seed.
  void reset_rows(Rng& rng, Index first, Index count) {
    const Index fan_in = in_ * k_ * k_;
    init_uniform(rng, weight_.data() + first * fan_in, count * fan_in, fan_in);
    if (has_bias_) init_uniform(rng, bias_.data() + first, count, fan_in);
  }

  ConvGeometry geometry(Index height, Index width) const {
    ConvGeometry g;
    g.channels = in_;
    g.height = height;
    g.width = width;
    g.kernel = k_;
    g.stride = stride_;
    if (padding_ == same_padding) {
      g.out_h = (height + stride_ - 1) / stride_;
      g.out_w = (width + stride_ - 1) / stride_;
      g.pad_top = std::max<Index>((g.out_h - 1) * stride_ + k_ - height, 0) / 2;
      g.pad_left = std::max<Index>((g.out_w - 1) * stride_ + k_ - width, 0) / 2;
    } else {
      require(height + 2 * padding_ >= k_ && width + 2 * padding_ >= k_,
              spec() + ": input " + std::to_string(height) + "x" + std::to_string(width) +
                  " is smaller than the kernel");
      g.out_h = (height + 2 * padding_ - k_) / stride_ + 1;
      g.out_w = (width + 2 * padding_ - k_) / stride_ + 1;
      g.pad_top = g.pad_left = padding_;
    }
    return g;
  }

  // y = conv(x), no cache. y must not be x.
  void forward_into(const Tensor4<T>& x, Tensor4<T>& y) {
    require_input(x, {in_, x.dimension(2), x.dimension(3)}, "Conv2d");
    const ConvGeometry g = geometry(x.dimension(2), x.dimension(3));
    const Index n = x.dimension(0);
    ensure_shape(y, n, out_, g.out_h, g.out_w);
    prepare(g);
#pragma omp parallel
    {
      const int tid = thread_id();
      const Range r = share(n, tid, team_size());
      MatrixR<T>& col = col_[tid];
      for (Index i = r.begin; i < r.end; ++i) {
        const T* xi = x.data() + i * g.in_size();
        MatrixMap<T> yi(y.data() + i * out_ * g.cols(), out_, g.cols());
        if (g.pointwise()) {
          yi.noalias() = weight_ * ConstMatrixMap<T>(xi, g.rows(), g.cols());
        } else {
          im2col(g, xi, col.data());
          yi.noalias() = weight_ * col;
        }
        if (has_bias_) yi.colwise() += bias_;
      }
    }
  }

  // Adds dL/dW and dL/db for the batch (x, dy); writes dL/dx when dx is given.
  void backward_into(const Tensor4<T>& x, const Tensor4<T>& dy, Tensor4<T>* dx) {
    const ConvGeometry g = geometry(x.dimension(2), x.dimension(3));
    const Index n = x.dimension(0);
    require(dy.dimension(0) == n && dy.dimension(1) == out_ && dy.dimension(2) == g.out_h &&
                dy.dimension(3) == g.out_w,
            spec() + ": gradient shape does not match the output of the input given");
    if (dx) ensure_shape_like(*dx, x);
    prepare(g);
    int team = 1;
#pragma omp parallel
    {
      const int tid = thread_id();
#pragma omp master
      team = team_size();
      const Range r = share(n, tid, team_size());
      MatrixR<T>& col = col_[tid];
      MatrixR<T>& dcol = dcol_[tid];
      MatrixR<T>& dw = dw_[tid];
      VectorX<T>& db = db_[tid];
      dw.setZero();
      db.setZero();
      for (Index i = r.begin; i < r.end; ++i) {
        const T* xi = x.data() + i * g.in_size();
        ConstMatrixMap<T> dyi(dy.data() + i * out_ * g.cols(), out_, g.cols());
        T* dxi = dx ? dx->data() + i * g.in_size() : nullptr;
        if (g.pointwise()) {
          dw.noalias() += dyi * ConstMatrixMap<T>(xi, g.rows(), g.cols()).transpose();
          if (dxi) MatrixMap<T>(dxi, g.rows(), g.cols()).noalias() = weight_.transpose() * dyi;
        } else {
          im2col(g, xi, col.data());
          dw.noalias() += dyi * col.transpose();
          if (dxi) {
            dcol.noalias() = weight_.transpose() * dyi;
            std::fill(dxi, dxi + g.in_size(), T(0));
            col2im(g, dcol.data(), dxi);
          }
        }
        if (has_bias_) db += dyi.rowwise().sum();
      }
    }
    for (int t = 0; t < team; ++t) {
      weight_grad_ += dw_[t];
      if (has_bias_) bias_grad_ += db_[t];
    }
  }

  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    x_ = x;
    forward_into(x_, y_);
    return y_;
  }
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    backward_into(x_, dy, &dx_);
    return dx_;
  }

  std::vector<Parameter<T>> parameters() override {
    std::vector<Parameter<T>> ps;
    ps.push_back({"weight", VectorMap<T>(weight_.data(), weight_.size()),
                  VectorMap<T>(weight_grad_.data(), weight_grad_.size()), {out_, in_, k_, k_}});
    if (has_bias_)
      ps.push_back({"bias", VectorMap<T>(bias_.data(), out_), VectorMap<T>(bias_grad_.data(), out_), {out_}});
    return ps;
  }

  Shape output_shape(const Shape& in) const override {
    require(in.c == in_, spec() + ": expected " + std::to_string(in_) + " input channels, got " + to_string(in));
    const ConvGeometry g = geometry(in.h, in.w);
    return {out_, g.out_h, g.out_w};
  }

  std::string spec() const override {
    return "conv2d in=" + std::to_string(in_) + " out=" + std::to_string(out_) + " kernel=" + std::to_string(k_) +
           " stride=" + std::to_string(stride_) +
           " padding=" + (padding_ == same_padding ? std::string("same") : std::to_string(padding_)) +
           " bias=" + (has_bias_ ? "1" : "0");
  }

  Index in_channels() const { return in_; }
  Index out_channels() const { return out_; }
  Index kernel() const { return k_; }
  bool has_bias() const { return has_bias_; }
  // O x (C k k) row-major, i.e. PyTorch's [out, in, kh, kw] flattened.
  MatrixR<T>& weight() { return weight_; }
  const MatrixR<T>& weight() const { return weight_; }
  VectorX<T>& bias() { return bias_; }
  const VectorX<T>& bias() const { return bias_; }
  MatrixR<T>& weight_grad() { return weight_grad_; }
  VectorX<T>& bias_grad() { return bias_grad_; }

 private:
  // One workspace set per thread, sized for this geometry; a no-op when the
  // geometry and thread count are those of the last call.
  void prepare(const ConvGeometry& g) {
    const auto threads = static_cast<std::size_t>(num_threads());
    if (g == workspace_geometry_ && col_.size() >= threads) return;
    workspace_geometry_ = g;
    col_.resize(std::max(col_.size(), threads));
    dcol_.resize(col_.size());
    dw_.resize(col_.size());
    db_.resize(col_.size());
    for (std::size_t t = 0; t < col_.size(); ++t) {
      if (!g.pointwise()) {
        col_[t].resize(g.rows(), g.cols());
        dcol_[t].resize(g.rows(), g.cols());
      }
      dw_[t].resize(out_, g.rows());
      db_[t].resize(has_bias_ ? out_ : 0);
    }
  }

  Index in_, out_, k_, stride_, padding_;
  bool has_bias_;
  MatrixR<T> weight_, weight_grad_;
  VectorX<T> bias_, bias_grad_;
  Tensor4<T> x_, y_, dx_;
  ConvGeometry workspace_geometry_;
  std::vector<MatrixR<T>> col_, dcol_, dw_;
  std::vector<VectorX<T>> db_;
};

}  // namespace shallow
