// 2-D convolution, parallel over the images of a batch.
//
// A stride-1 convolution that keeps the image size (the residual branches)
// runs on padded planes (im2col.hpp): per image, x is copied once into
// zero-padded channel planes and register-tiled kernels read every kernel
// tap as a shifted run of those planes, so no im2col matrix is built.
//   forward           y_i  = correlate(W, pad(x_i)) + b
//   backward-weights  dW  += correlate(pad(dy_i), pad(x_i)),  db += rowsum(dy_i)
//   backward-data     dx_i = correlate(flip(W)^T, pad(dy_i))
// Every other geometry takes the general path, im2col + GEMM per image (Gemm,
// gemm.hpp: Eigen's kernel, packing buffers kept per thread), with
// col = im2col(x_i):
//   forward           y_i   = W col + b              W: O x (C k k), row-major
//   backward-weights  dW   += dy_i col^T,  db += rowsum(dy_i)
//   backward-data     dx_i  = col2im(W^T dy_i)
// Forward hands out images one at a time (each is computed the same way on
// any thread, so a core taken by another process slows the step less).
// Backward gives each thread a contiguous share of the images and its own
// dW/db partial sums; the partials are added in thread order after the
// parallel region, so a result is bitwise reproducible at a given thread
// count. Workspaces (one set per thread) live in the layer and are reused.
//
// Layer contract: forward caches a copy of x; backward needs it, ADDS into
// weight and bias gradients and returns dL/dx. forward_into/backward_into are
// the same kernels without the cache, for blocks that keep their own inputs;
// their optional per-image hooks let a block fuse its elementwise work
// (activation, skip connection) into the convolution's parallel loop, on
// data still in cache, instead of extra serial passes over the batch.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "gemm.hpp"
#include "layer.hpp"
#include "im2col.hpp"
#include "parallel.hpp"
#include "init.hpp"
#include "spec.hpp"

namespace shallow {

namespace detail {
struct no_hook {
  void operator()(Index) const {}
};
}  // namespace detail

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
      if (height + 2 * padding_ < k_ || width + 2 * padding_ < k_)
        throw ShapeError(spec() + ": input " + std::to_string(height) + "x" + std::to_string(width) +
                         " is smaller than the kernel");
      g.out_h = (height + 2 * padding_ - k_) / stride_ + 1;
      g.out_w = (width + 2 * padding_ - k_) / stride_ + 1;
      g.pad_top = g.pad_left = padding_;
    }
    return g;
  }

  // y = conv(x), no cache. y must not be x. after(i) runs once per image i,
  // on the thread that computed it, as soon as image i of y is final; it may
  // touch only image i of any tensor.
  template <class After = detail::no_hook>
  void forward_into(const Tensor4<T>& x, Tensor4<T>& y, After after = {}) {
    require_input(x, {in_, x.dimension(2), x.dimension(3)}, "Conv2d");
    const ConvGeometry g = geometry(x.dimension(2), x.dimension(3));
    const Index n = x.dimension(0);
    ensure_shape(y, n, out_, g.out_h, g.out_w);
    prepare(g);
    if (planes_) return forward_planes(x, y, g, after);
#pragma omp parallel
    {
      const int tid = thread_id();
      MatrixR<T>& col = col_[tid];
      Gemm<T>& gemm = gemm_[tid].forward;
#pragma omp for schedule(dynamic)
      for (Index i = 0; i < n; ++i) {
        const T* xi = x.data() + i * g.in_size();
        MatrixMap<T> yi(y.data() + i * out_ * g.cols(), out_, g.cols());
        if (has_bias_)
          yi.colwise() = bias_;
        else
          yi.setZero();
        if (g.pointwise()) {
          gemm.add(weight_, ConstMatrixMap<T>(xi, g.rows(), g.cols()), yi);
        } else {
          im2col(g, xi, col.data());
          gemm.add(weight_, col, yi);
        }
        after(i);
      }
    }
  }

  // Adds dL/dW and dL/db for the batch (x, dy); writes dL/dx when dx is given.
  // before(i) runs before image i of dy is read (it may write it, through
  // the caller's own reference), after(i) once image i of dx is final; both
  // on the thread that takes image i, touching only image i of any tensor.
  template <class Before = detail::no_hook, class After = detail::no_hook>
  void backward_into(const Tensor4<T>& x, const Tensor4<T>& dy, Tensor4<T>* dx, Before before = {},
                     After after = {}) {
    const ConvGeometry g = geometry(x.dimension(2), x.dimension(3));
    const Index n = x.dimension(0);
    // Checked without require: its message would be built, and allocated, on every call.
    if (dy.dimension(0) != n || dy.dimension(1) != out_ || dy.dimension(2) != g.out_h ||
        dy.dimension(3) != g.out_w)
      throw ShapeError(spec() + ": gradient shape does not match the output of the input given");
    if (dx) ensure_shape_like(*dx, x);
    prepare(g);
    if (planes_) return backward_planes(x, dy, dx, g, before, after);
    in_shares(n, [&](int tid, Range r) {
      MatrixR<T>& col = col_[tid];
      MatrixR<T>& dcol = dcol_[tid];
      MatrixR<T>& dw = dw_[tid];
      VectorX<T>& db = db_[tid];
      GemmSet& gemm = gemm_[tid];
      for (Index i = r.begin; i < r.end; ++i) {
        before(i);
        const T* xi = x.data() + i * g.in_size();
        ConstMatrixMap<T> dyi(dy.data() + i * out_ * g.cols(), out_, g.cols());
        T* dxi = dx ? dx->data() + i * g.in_size() : nullptr;
        if (g.pointwise()) {
          gemm.weights.add(dyi, ConstMatrixMap<T>(xi, g.rows(), g.cols()).transpose(), dw);
          if (dxi) {
            MatrixMap<T> dxm(dxi, g.rows(), g.cols());
            dxm.setZero();
            gemm.data.add(weight_.transpose(), dyi, dxm);
          }
        } else {
          im2col(g, xi, col.data());
          gemm.weights.add(dyi, col.transpose(), dw);
          if (dxi) {
            dcol.setZero();
            gemm.data.add(weight_.transpose(), dyi, dcol);
            std::fill(dxi, dxi + g.in_size(), T(0));
            col2im(g, dcol.data(), dxi);
          }
        }
        if (has_bias_) db += dyi.rowwise().sum();
        after(i);
      }
    });
  }

  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    ensure_shape_like(x_, x);
    const Index sample = sample_shape(x).size();
    forward_into(x, y_, [&](Index i) { std::copy_n(x.data() + i * sample, sample, x_.data() + i * sample); });
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
  // The plane kernels (im2col.hpp) of a stride-1 convolution that keeps the
  // image size. Forward: per image, pad x into planes and correlate them with
  // the packed weights, a block of output channels at a time.
  template <class After>
  void forward_planes(const Tensor4<T>& x, Tensor4<T>& y, const ConvGeometry& g, After& after) {
    const Index taps = in_ * k_ * k_;
    pack_rows(out_, taps, [&](Index o, Index j) { return weight_(o, j); }, packed_.data());
    const Index n = x.dimension(0);
#pragma omp parallel
    {
      const int tid = thread_id();
      T* xp = xplanes_[tid].data();
#pragma omp for schedule(dynamic)
      for (Index i = 0; i < n; ++i) {
        to_planes(plane_, in_, g.pad_top, g.pad_left, x.data() + i * g.in_size(), xp);
        T* yi = y.data() + i * out_ * g.cols();
        correlate_planes(plane_, out_, taps, packed_.data(), tap_in_.data(), xp, tile_[tid].data(),
                         [&](Index o0, Index rows, const T* tile) {
                           for (Index o = o0; o < o0 + rows; ++o)
                             from_plane(tile + (o - o0) * plane_.stride, has_bias_ ? bias_[o] : T(0),
                                        yi + o * g.cols());
                         });
        after(i);
      }
    }
  }

  // Backward: the gradient planes are padded by k-1 minus the forward
  // padding, so that correlating them with the flipped, transposed weights
  // gives dx, and their junk columns are zero for the weight gradient.
  template <class Before, class After>
  void backward_planes(const Tensor4<T>& x, const Tensor4<T>& dy, Tensor4<T>* dx, const ConvGeometry& g,
                       Before& before, After& after) {
    const Index kk = k_ * k_, taps = out_ * kk, lanes = detail::lanes<T>;
    const Index top = k_ - 1 - g.pad_top, left = k_ - 1 - g.pad_left;
    if (dx)
      pack_rows(in_, taps,
                [&](Index c, Index j) {
                  const Index o = j / kk, ky = (j % kk) / k_, kx = j % k_;
                  return weight_(o, (c * k_ + k_ - 1 - ky) * k_ + k_ - 1 - kx);
                },
                packed_.data());
    const Index x_image = in_ * plane_.stride, dy_image = out_ * plane_.stride;
    in_shares(x.dimension(0), [&](int tid, Range r) {
      T* xp = xplanes_[tid].data();
      // Shifted so that the gradient rows, read at the origin, are aligned.
      T* dp = dplanes_[tid].data() + (lanes - plane_.origin(top, left) % lanes) % lanes;
      VectorX<T>& dwv = dwv_[tid];
      VectorX<T>& db = db_[tid];
      dwv.setZero();
      for (Index first = r.begin; first < r.end; first += plane_group_) {
        const Index images = std::min(plane_group_, r.end - first);
        for (Index e = 0; e < images; ++e) {
          before(first + e);
          const T* dyi = dy.data() + (first + e) * out_ * g.cols();
          to_planes(plane_, in_, g.pad_top, g.pad_left, x.data() + (first + e) * g.in_size(), xp + e * x_image);
          to_planes(plane_, out_, top, left, dyi, dp + e * dy_image);
          if (has_bias_) db += ConstMatrixMap<T>(dyi, out_, g.cols()).rowwise().sum();
        }
        if (per_lane_grad())
          correlate_planes_grad<T, true>(plane_, out_, in_ * kk, dp + plane_.origin(top, left), dy_image,
                                         tap_in_.data(), xp, x_image, images, dwv.data());
        else
          correlate_planes_grad<T, false>(plane_, out_, in_ * kk, dp + plane_.origin(top, left), dy_image,
                                          tap_in_.data(), xp, x_image, images, dw_[tid].data());
        for (Index e = 0; e < images; ++e) {
          if (dx) {
            T* dxi = dx->data() + (first + e) * g.in_size();
            correlate_planes(plane_, in_, taps, packed_.data(), tap_out_.data(), dp + e * dy_image,
                             tile_[tid].data(), [&](Index c0, Index rows, const T* tile) {
                               for (Index c = c0; c < c0 + rows; ++c)
                                 from_plane(tile + (c - c0) * plane_.stride, T(0), dxi + c * g.height * g.width);
                             });
          }
          after(first + e);
        }
      }
      if (per_lane_grad()) detail::sum_lanes(dwv.data(), dw_[tid].size(), dw_[tid].data());
    });
  }

  // One image per weight-gradient call keeps its sums per lane (im2col.hpp,
  // correlate_planes_grad); groups of small images sum into dW directly.
  bool per_lane_grad() const { return plane_group_ == 1; }

  // Copies one computed plane without its junk columns, adding b.
  void from_plane(const T* plane, T b, T* out) const {
    for (Index y = 0; y < plane_.height; ++y, plane += plane_.wp, out += plane_.width)
      for (Index x = 0; x < plane_.width; ++x) out[x] = plane[x] + b;
  }

  // The backward passes' parallel loop: body(tid, images) runs on every
  // thread of a team over a fixed share of the n images, accumulating into
  // that thread's zeroed partial sums dw_[tid] and db_[tid], which are then
  // added in thread order, so results are reproducible at a thread count.
  template <class Body>
  void in_shares(Index n, Body body) {
    int team = 1;
#pragma omp parallel
    {
      const int tid = thread_id();
#pragma omp master
      team = team_size();
      dw_[tid].setZero();
      db_[tid].setZero();
      body(tid, share(n, tid, team_size()));
    }
    for (int t = 0; t < team; ++t) {
      weight_grad_ += dw_[t];
      if (has_bias_) bias_grad_ += db_[t];
    }
  }

  // One workspace set per thread, sized for this geometry; a no-op when the
  // geometry and thread count are those of the last call.
  void prepare(const ConvGeometry& g) {
    const auto threads = static_cast<std::size_t>(num_threads());
    const Index lanes = detail::lanes<T>;
    if (g == workspace_geometry_ && col_.size() >= threads) return;
    workspace_geometry_ = g;
    planes_ = g.stride == 1 && g.out_h == g.height && g.out_w == g.width && !g.pointwise();
    const std::size_t size = std::max(col_.size(), threads);
    col_.resize(size);
    dcol_.resize(size);
    gemm_.resize(size);
    dw_.resize(size);
    db_.resize(size);
    xplanes_.resize(size);
    dwv_.resize(size);
    dplanes_.resize(size);
    tile_.resize(size);
    if (planes_) {
      plane_ = plane_layout<T>(k_, g.height, g.width);
      plane_group_ = std::max<Index>(1, detail::grad_positions / plane_.span);
      tap_in_.resize(std::size_t(in_ * k_ * k_));
      tap_out_.resize(std::size_t(out_ * k_ * k_));
      for (Index c = 0; c < std::max(in_, out_); ++c)
        for (Index ky = 0; ky < k_; ++ky)
          for (Index kx = 0; kx < k_; ++kx) {
            const auto j = std::size_t((c * k_ + ky) * k_ + kx);
            if (c < in_) tap_in_[j] = plane_.tap(c, ky, kx);
            if (c < out_) tap_out_[j] = plane_.tap(c, ky, kx);
          }
      packed_.resize(in_ * out_ * k_ * k_);
    }
    for (std::size_t t = 0; t < size; ++t) {
      if (planes_) {
        // Zero once: the kernels only ever write plane interiors.
        xplanes_[t].setZero(plane_group_ * in_ * plane_.stride);
        dplanes_[t].setZero(plane_group_ * out_ * plane_.stride + lanes);
        tile_[t].resize(detail::out_rows * plane_.stride);
        dwv_[t].resize(per_lane_grad() ? out_ * g.rows() * lanes : 0);
        col_[t].resize(0, 0);
        dcol_[t].resize(0, 0);
      } else if (!g.pointwise()) {
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
  bool planes_ = false;
  PlaneLayout plane_;
  Index plane_group_ = 1;  // images per call of the weight-gradient kernel
  std::vector<Index> tap_in_, tap_out_;  // plane offset of each (channel, ky, kx)
  VectorX<T> packed_;                    // weights as the plane kernels read them
  std::vector<MatrixR<T>> col_, dcol_, dw_;
  // The im2col path's three products, per thread, each keeping its buffers.
  struct GemmSet {
    Gemm<T> forward, weights, data;
  };
  std::vector<GemmSet> gemm_;
  std::vector<VectorX<T>> db_, xplanes_, dplanes_, tile_, dwv_;
};

}  // namespace shallow
