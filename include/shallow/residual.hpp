// The two layouts of N residual branches f_i(x) = act(conv_i(x)) of C -> C
// channels ("same" padding, stride 1):
//
//   SequentialResidual (deep):    h_0 = x,  h_i = h_{i-1} + f_i(h_{i-1}),  y = h_N
//   ParallelResidual (shallow):   y = x + sum_i f_i(x)
//
// Both hold the same parameters, listed in the same order (branch 1's weight
// [C, C, k, k] and bias [C], then branch 2's, ...), so copy_parameters moves
// weights between them, and with the same seed they start from the same ones.
//
// ParallelResidual computes its N branches as ONE convolution of C -> N*C
// channels: x is padded (or im2col'd) once per pass instead of N times, and
// each kernel call works on N times as many output channels. Branch i is
// output channels [i*C, (i+1)*C) of that convolution, which in the
// row-major [out, in, k, k] weight is a contiguous block, so its parameter
// views are plain slices.
//
// Both layouts run their activation, skip connection and input caching
// through Conv2d's per-image hooks, inside the convolution's parallel loop.
//
// N is a template parameter, or Dynamic for a count chosen at run time
// (SequentialResidual<Dynamic>(n, channels, kernel)); both are the same code.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "activation.hpp"
#include "conv2d.hpp"

namespace shallow {

inline constexpr int Dynamic = -1;

struct ResidualOptions {
  Activation activation = Activation::relu;
  bool bias = true;
  std::uint64_t seed = default_seed;
};

namespace detail {

// Validates a block's sizes; returns the width of all its branches together.
inline Index check_residual(Index n, Index channels, Index kernel) {
  require(n > 0, "residual block: need at least one branch, got " + std::to_string(n));
  require(channels > 0, "residual block: channels must be positive, got " + std::to_string(channels));
  require(kernel > 0, "residual block: kernel must be positive, got " + std::to_string(kernel));
  return n * channels;
}

inline std::string residual_spec(const char* layout, Index n, Index c, Index k, const ResidualOptions& o) {
  return std::string(layout) + " layers=" + std::to_string(n) + " channels=" + std::to_string(c) +
         " kernel=" + std::to_string(k) + " activation=" + to_string(o.activation) +
         " bias=" + (o.bias ? "1" : "0");
}

template <class T>
class SequentialResidualImpl : public Layer<T> {
 public:
  SequentialResidualImpl(Index n, Index channels, Index kernel, ResidualOptions opt)
      : n_(n), c_(channels), k_(kernel), opt_(opt) {
    check_residual(n, channels, kernel);
    for (Index i = 0; i < n; ++i) convs_.emplace_back(channels, channels, kernel, 1, same_padding, opt.bias);
    Rng rng(opt.seed);
    reset_parameters(rng);
    h_.resize(n + 1);
    a_.resize(n);
  }

  void reset_parameters(Rng& rng) override {
    for (auto& conv : convs_) conv.reset_parameters(rng);
  }

  // Caches every h_{i-1} (the input of branch i) and every branch output a_i.
  // The activation and the skip connection run per image inside each
  // convolution's parallel loop; branch 1 reads x and copies it into h_0 there.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    require_input(x, {c_, x.dimension(2), x.dimension(3)}, "SequentialResidual");
    const Index sample = sample_shape(x).size();
    for (auto& h : h_) ensure_shape_like(h, x);
    for (Index i = 0; i < n_; ++i) {
      const Tensor4<T>& in = i == 0 ? x : h_[i];
      Tensor4<T>& a = a_[i];
      T* out = h_[i + 1].data();
      convs_[i].forward_into(in, a, [&](Index b) {
        const Index at = b * sample;
        if (i == 0) std::copy_n(x.data() + at, sample, h_[0].data() + at);
        activate(opt_.activation, a.data() + at, a.data() + at, sample);
        VectorMap<T>(out + at, sample) = VectorMap<T>(a.data() + at, sample) + as_vector(in).segment(at, sample);
      });
    }
    return h_[n_];
  }

  // Walks the chain back: g = dL/dh_i; dL/dh_{i-1} = g + conv_i^T(act'(a_i) * g),
  // per image inside each convolution's parallel loop. The last branch reads
  // dy itself.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    if (dy.dimensions() != h_[n_].dimensions())
      throw ShapeError(spec() + ": gradient shape differs from the last output");
    const Index sample = sample_shape(dy).size();
    ensure_shape_like(g_, dy);
    ensure_shape_like(dz_, dy);
    ensure_shape_like(dh_, dy);
    for (Index i = n_ - 1; i >= 0; --i) {
      const T* g = i == n_ - 1 ? dy.data() : g_.data();
      convs_[i].backward_into(
          h_[i], dz_, &dh_,
          [&](Index b) {
            const Index at = b * sample;
            activate_backward(opt_.activation, a_[i].data() + at, g + at, dz_.data() + at, sample);
          },
          [&](Index b) {
            const Index at = b * sample;
            VectorMap<T>(g_.data() + at, sample) =
                Eigen::Map<const VectorX<T>>(g + at, sample) + VectorMap<T>(dh_.data() + at, sample);
          });
    }
    return g_;
  }

  std::vector<Parameter<T>> parameters() override {
    std::vector<Parameter<T>> ps;
    for (Index i = 0; i < n_; ++i)
      for (auto& p : convs_[i].parameters()) {
        p.name = "branch" + std::to_string(i + 1) + "." + p.name;
        ps.push_back(std::move(p));
      }
    return ps;
  }

  Shape output_shape(const Shape& in) const override {
    require(in.c == c_, spec() + ": expected " + std::to_string(c_) + " channels, got " + to_string(in));
    return in;
  }
  std::string spec() const override { return residual_spec("sequential_residual", n_, c_, k_, opt_); }

  Index layers() const { return n_; }
  Index channels() const { return c_; }
  Index kernel() const { return k_; }
  Conv2d<T>& branch(Index i) { return convs_.at(static_cast<std::size_t>(i)); }

 private:
  Index n_, c_, k_;
  ResidualOptions opt_;
  std::vector<Conv2d<T>> convs_;
  std::vector<Tensor4<T>> h_, a_;
  Tensor4<T> g_, dz_, dh_;
};

template <class T>
class ParallelResidualImpl : public Layer<T> {
 public:
  ParallelResidualImpl(Index n, Index channels, Index kernel, ResidualOptions opt)
      : n_(n), c_(channels), k_(kernel), opt_(opt),
        conv_(channels, check_residual(n, channels, kernel), kernel, 1, same_padding, opt.bias) {
    Rng rng(opt.seed);
    reset_parameters(rng);
  }

  // Branch by branch, weights then bias, as SequentialResidual draws them.
  void reset_parameters(Rng& rng) override {
    for (Index i = 0; i < n_; ++i) conv_.reset_rows(rng, i * c_, c_);
  }

  // Caches x and the N activated branch outputs a (N*C channels). Caching
  // x, the activation and the sum run per image inside the convolution's
  // parallel loop.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    require_input(x, {c_, x.dimension(2), x.dimension(3)}, "ParallelResidual");
    ensure_shape_like(x_, x);
    ensure_shape_like(y_, x);
    const Index sample = sample_shape(x).size();
    conv_.forward_into(x, a_, [&](Index b) {
      std::copy_n(x.data() + b * sample, sample, x_.data() + b * sample);
      T* a = a_.data() + b * n_ * sample;
      activate(opt_.activation, a, a, n_ * sample);
      auto y = VectorMap<T>(y_.data() + b * sample, sample);
      y = as_vector(x).segment(b * sample, sample);
      for (Index i = 0; i < n_; ++i) y += VectorMap<T>(a + i * sample, sample);
    });
    return y_;
  }

  // Every branch receives dy: dz_i = act'(a_i) * dy, then one backward pass of
  // the fused convolution; the skip connection adds dy itself. Both run per
  // image inside the convolution's parallel loop.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    if (dy.dimensions() != y_.dimensions())
      throw ShapeError(spec() + ": gradient shape differs from the last output");
    ensure_shape_like(dz_, a_);
    const Index sample = sample_shape(dy).size();
    conv_.backward_into(
        x_, dz_, &dx_,
        [&](Index b) {
          for (Index i = 0; i < n_; ++i) {
            const Index at = (b * n_ + i) * sample;
            activate_backward(opt_.activation, a_.data() + at, dy.data() + b * sample, dz_.data() + at, sample);
          }
        },
        [&](Index b) { VectorMap<T>(dx_.data() + b * sample, sample) += as_vector(dy).segment(b * sample, sample); });
    return dx_;
  }

  std::vector<Parameter<T>> parameters() override {
    const Index w = c_ * c_ * k_ * k_;
    std::vector<Parameter<T>> ps;
    for (Index i = 0; i < n_; ++i) {
      const std::string prefix = "branch" + std::to_string(i + 1) + ".";
      ps.push_back({prefix + "weight", VectorMap<T>(conv_.weight().data() + i * w, w),
                    VectorMap<T>(conv_.weight_grad().data() + i * w, w), {c_, c_, k_, k_}});
      if (opt_.bias)
        ps.push_back({prefix + "bias", VectorMap<T>(conv_.bias().data() + i * c_, c_),
                      VectorMap<T>(conv_.bias_grad().data() + i * c_, c_), {c_}});
    }
    return ps;
  }

  Shape output_shape(const Shape& in) const override {
    require(in.c == c_, spec() + ": expected " + std::to_string(c_) + " channels, got " + to_string(in));
    return in;
  }
  std::string spec() const override { return residual_spec("parallel_residual", n_, c_, k_, opt_); }

  Index layers() const { return n_; }
  Index channels() const { return c_; }
  Index kernel() const { return k_; }
  // The fused C -> N*C convolution.
  Conv2d<T>& fused() { return conv_; }

 private:
  Index n_, c_, k_;
  ResidualOptions opt_;
  Conv2d<T> conv_;
  Tensor4<T> x_, a_, y_, dz_, dx_;
};

}  // namespace detail

// N residual layers one after another. With N fixed: (channels, kernel);
// with N = Dynamic: (layers, channels, kernel). A selects the activation of
// each branch; with Dynamic the options choose it.
template <int N, class T = float, Activation A = Activation::relu>
class SequentialResidual : public detail::SequentialResidualImpl<T> {
 public:
  SequentialResidual(Index channels, Index kernel, ResidualOptions opt = {})
      : detail::SequentialResidualImpl<T>(N, channels, kernel, with_activation(opt)) {
    static_assert(N > 0, "SequentialResidual<N>(channels, kernel): N is fixed here; use Dynamic with a count");
  }
  SequentialResidual(Index layers, Index channels, Index kernel, ResidualOptions opt)
      : detail::SequentialResidualImpl<T>(layers, channels, kernel, opt) {
    static_assert(N == Dynamic, "SequentialResidual(layers, channels, kernel, options) needs N = Dynamic");
  }
  SequentialResidual(Index layers, Index channels, Index kernel)
      : SequentialResidual(layers, channels, kernel, ResidualOptions{}) {}

 private:
  static ResidualOptions with_activation(ResidualOptions o) {
    o.activation = A;
    return o;
  }
};

// N residual branches side by side on the same input, summed.
template <int N, class T = float, Activation A = Activation::relu>
class ParallelResidual : public detail::ParallelResidualImpl<T> {
 public:
  ParallelResidual(Index channels, Index kernel, ResidualOptions opt = {})
      : detail::ParallelResidualImpl<T>(N, channels, kernel, with_activation(opt)) {
    static_assert(N > 0, "ParallelResidual<N>(channels, kernel): N is fixed here; use Dynamic with a count");
  }
  ParallelResidual(Index layers, Index channels, Index kernel, ResidualOptions opt)
      : detail::ParallelResidualImpl<T>(layers, channels, kernel, opt) {
    static_assert(N == Dynamic, "ParallelResidual(layers, channels, kernel, options) needs N = Dynamic");
  }
  ParallelResidual(Index layers, Index channels, Index kernel)
      : ParallelResidual(layers, channels, kernel, ResidualOptions{}) {}

 private:
  static ResidualOptions with_activation(ResidualOptions o) {
    o.activation = A;
    return o;
  }
};

enum class Layout { sequential, parallel };

inline std::string to_string(Layout l) { return l == Layout::sequential ? "sequential" : "parallel"; }
inline Layout parse_layout(const std::string& s) {
  if (s == "sequential" || s == "deep") return Layout::sequential;
  if (s == "parallel" || s == "shallow") return Layout::parallel;
  throw Error("unknown layout '" + s + "' (sequential, parallel)");
}

// Either layout with everything chosen at run time, for tools built from flags.
template <class T = float>
std::unique_ptr<Layer<T>> make_residual(Layout layout, Index layers, Index channels, Index kernel,
                                        ResidualOptions opt = {}) {
  if (layout == Layout::sequential)
    return std::make_unique<SequentialResidual<Dynamic, T>>(layers, channels, kernel, opt);
  return std::make_unique<ParallelResidual<Dynamic, T>>(layers, channels, kernel, opt);
}

}  // namespace shallow
