/// \file
/// Spatial pooling: max, average, and global average.
#pragma once

#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "layer.hpp"
#include "spec.hpp"

namespace shallow {

namespace detail {
struct PoolGeometry {
  Index kernel, stride, padding;

  PoolGeometry(const char* name, Index k, Index s, Index p) : kernel(k), stride(s ? s : k), padding(p) {
    SHALLOW_CHECK(kernel > 0 && stride > 0 && padding >= 0 && 2 * padding <= kernel, ConfigError,
                  spec(name) + ": need kernel > 0, stride > 0 and 0 <= padding <= kernel/2");
  }
  Index out(Index in) const { return (in + 2 * padding - kernel) / stride + 1; }
  Shape output(const Shape& in, const char* name) const {
    SHALLOW_CHECK(in.h + 2 * padding >= kernel && in.w + 2 * padding >= kernel, ShapeError,
                  spec(name) + ": input " + to_string(in) + " is smaller than the kernel");
    return {in.c, out(in.h), out(in.w)};
  }
  std::string spec(const char* name) const {
    return SpecWriter(name)("kernel", kernel)("stride", stride)("padding", padding).str();
  }
};

// A pooling layer L from "name kernel=K stride=S padding=P".
template <class L>
std::unique_ptr<L> pool_from_spec(const SpecReader& s) {
  auto layer = std::make_unique<L>(s.integer("kernel"), s.integer("stride"), s.integer("padding"));
  s.finish();
  return layer;
}
}  // namespace detail

/// Max over each window (padding never wins). forward caches, for every
/// output, the flat index of the input that won; backward routes dy there.
template <class T = float>
class MaxPool2d : public Layer<T> {
 public:
  /// stride 0: the kernel size.
  explicit MaxPool2d(Index kernel, Index stride = 0, Index padding = 0) : g_("maxpool2d", kernel, stride, padding) {}

  /// "maxpool2d kernel=K stride=S padding=P".
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) { return detail::pool_from_spec<MaxPool2d>(s); }
  std::string spec() const override { return g_.spec("maxpool2d"); }

  /// The max of each window; caches where each came from.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    const Shape in = sample_shape(x), out = g_.output(in, "maxpool2d");
    const Index n = x.dimension(0);
    ensure_shape(y_, n, out.c, out.h, out.w);
    argmax_.resize(static_cast<std::size_t>(y_.size()));
    in_dims_ = x.dimensions();
#pragma omp parallel for schedule(static)
    for (Index plane = 0; plane < n * in.c; ++plane) {
      const T* xp = x.data() + plane * in.h * in.w;
      for (Index oy = 0; oy < out.h; ++oy)
        for (Index ox = 0; ox < out.w; ++ox) {
          T best = -std::numeric_limits<T>::infinity();
          Index arg = -1;
          for (Index ky = 0; ky < g_.kernel; ++ky) {
            const Index iy = oy * g_.stride - g_.padding + ky;
            if (iy < 0 || iy >= in.h) continue;
            for (Index kx = 0; kx < g_.kernel; ++kx) {
              const Index ix = ox * g_.stride - g_.padding + kx;
              if (ix < 0 || ix >= in.w) continue;
              const T v = xp[iy * in.w + ix];
              if (arg < 0 || v > best) {
                best = v;
                arg = iy * in.w + ix;
              }
            }
          }
          const Index o = (plane * out.h + oy) * out.w + ox;
          y_.data()[o] = best;
          argmax_[static_cast<std::size_t>(o)] = plane * in.h * in.w + arg;
        }
    }
    return y_;
  }

  /// dy routed to the inputs that won in the last forward, zero elsewhere.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    ensure_shape(dx_, in_dims_[0], in_dims_[1], in_dims_[2], in_dims_[3]);
    dx_.setZero();
    // Windows of one plane may overlap, so one thread owns each plane.
    const Index planes = in_dims_[0] * in_dims_[1], per_plane = dy.size() / std::max<Index>(planes, 1);
#pragma omp parallel for schedule(static)
    for (Index plane = 0; plane < planes; ++plane)
      for (Index o = plane * per_plane; o < (plane + 1) * per_plane; ++o)
        dx_.data()[argmax_[static_cast<std::size_t>(o)]] += dy.data()[o];
    return dx_;
  }

  Shape output_shape(const Shape& in) const override { return g_.output(in, "maxpool2d"); }
  /// Window side.
  Index kernel() const { return g_.kernel; }
  /// Step between windows.
  Index stride() const { return g_.stride; }
  /// Padding on every side.
  Index padding() const { return g_.padding; }

 private:
  detail::PoolGeometry g_;
  Tensor4<T> y_, dx_;
  std::vector<Index> argmax_;
  typename Tensor4<T>::Dimensions in_dims_{};
};

/// Mean over each window, padding counted as zeros (PyTorch's default
/// count_include_pad=True). Caches only the input shape.
template <class T = float>
class AvgPool2d : public Layer<T> {
 public:
  /// stride 0: the kernel size.
  explicit AvgPool2d(Index kernel, Index stride = 0, Index padding = 0) : g_("avgpool2d", kernel, stride, padding) {}

  /// "avgpool2d kernel=K stride=S padding=P".
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) { return detail::pool_from_spec<AvgPool2d>(s); }
  std::string spec() const override { return g_.spec("avgpool2d"); }

  /// The mean of each window, padding counted as zeros.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    const Shape in = sample_shape(x), out = g_.output(in, "avgpool2d");
    const Index n = x.dimension(0);
    ensure_shape(y_, n, out.c, out.h, out.w);
    in_dims_ = x.dimensions();
    const T scale = T(1) / T(g_.kernel * g_.kernel);
#pragma omp parallel for schedule(static)
    for (Index plane = 0; plane < n * in.c; ++plane) {
      const T* xp = x.data() + plane * in.h * in.w;
      for (Index oy = 0; oy < out.h; ++oy)
        for (Index ox = 0; ox < out.w; ++ox) {
          T sum = 0;
          for_window(in, oy, ox, [&](Index i) { sum += xp[i]; });
          y_.data()[(plane * out.h + oy) * out.w + ox] = sum * scale;
        }
    }
    return y_;
  }

  /// Each dy spread evenly over its window's inputs.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    ensure_shape(dx_, in_dims_[0], in_dims_[1], in_dims_[2], in_dims_[3]);
    dx_.setZero();
    const Shape in{in_dims_[1], in_dims_[2], in_dims_[3]};
    const Index oh = dy.dimension(2), ow = dy.dimension(3);
    const T scale = T(1) / T(g_.kernel * g_.kernel);
#pragma omp parallel for schedule(static)
    for (Index plane = 0; plane < in_dims_[0] * in.c; ++plane) {
      T* dxp = dx_.data() + plane * in.h * in.w;
      for (Index oy = 0; oy < oh; ++oy)
        for (Index ox = 0; ox < ow; ++ox) {
          const T g = dy.data()[(plane * oh + oy) * ow + ox] * scale;
          for_window(in, oy, ox, [&](Index i) { dxp[i] += g; });
        }
    }
    return dx_;
  }

  Shape output_shape(const Shape& in) const override { return g_.output(in, "avgpool2d"); }
  /// Window side.
  Index kernel() const { return g_.kernel; }
  /// Step between windows.
  Index stride() const { return g_.stride; }
  /// Padding on every side.
  Index padding() const { return g_.padding; }

 private:
  // Calls f with the in-plane index of every input pixel of window (oy, ox).
  template <class F>
  void for_window(const Shape& in, Index oy, Index ox, F&& f) const {
    for (Index ky = 0; ky < g_.kernel; ++ky) {
      const Index iy = oy * g_.stride - g_.padding + ky;
      if (iy < 0 || iy >= in.h) continue;
      for (Index kx = 0; kx < g_.kernel; ++kx) {
        const Index ix = ox * g_.stride - g_.padding + kx;
        if (ix >= 0 && ix < in.w) f(iy * in.w + ix);
      }
    }
  }

  detail::PoolGeometry g_;
  Tensor4<T> y_, dx_;
  typename Tensor4<T>::Dimensions in_dims_{};
};

/// N x C x H x W -> N x C x 1 x 1, the mean of each plane.
template <class T = float>
class GlobalAvgPool : public Layer<T> {
 public:
  /// "global_avgpool".
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) {
    s.finish();
    return std::make_unique<GlobalAvgPool<T>>();
  }
  std::string spec() const override { return "global_avgpool"; }

  /// The mean of each plane, N x C x 1 x 1; ShapeError for empty planes.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    in_dims_ = x.dimensions();
    const Index planes = x.dimension(0) * x.dimension(1), area = x.dimension(2) * x.dimension(3);
    SHALLOW_CHECK(area > 0, ShapeError, "global_avgpool: empty input planes");
    ensure_shape(y_, x.dimension(0), x.dimension(1), 1, 1);
    as_vector(y_) = as_matrix(x, planes, area).rowwise().mean();
    return y_;
  }
  /// Each dy spread evenly over its plane.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient(dy, y_);
    ensure_shape(dx_, in_dims_[0], in_dims_[1], in_dims_[2], in_dims_[3]);
    const Index planes = in_dims_[0] * in_dims_[1], area = in_dims_[2] * in_dims_[3];
    auto dx = as_matrix(dx_, planes, area);
    for (Index p = 0; p < planes; ++p) dx.row(p).setConstant(dy.data()[p] / T(area));
    return dx_;
  }
  Shape output_shape(const Shape& in) const override { return {in.c, 1, 1}; }

 private:
  Tensor4<T> y_, dx_;
  typename Tensor4<T>::Dimensions in_dims_{};
};

}  // namespace shallow
