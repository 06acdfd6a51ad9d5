/// \file
/// The two layouts of N residual branches f_i(x) = act(conv_i(x)) of C -> C
/// channels ("same" padding, stride 1), or f_i(x) = act(BN_i(conv_i(x))) with
/// ResidualOptions::batchnorm (a BatchNorm2d per branch, as ResNet's blocks):
///
///   SequentialResidual (deep):    h_0 = x,  h_i = h_{i-1} + f_i(h_{i-1}),  y = h_N
///   ParallelResidual (shallow):   y = x + sum_i f_i(x)
///
/// Both hold the same parameters, listed in the same order (branch 1's weight
/// [C, C, k, k], bias [C] and, with batch norm, its norm's weight and bias
/// [C], then branch 2's, ...), so copy_parameters moves
/// weights between them, and with the same seed they start from the same ones.
///
/// ParallelResidual computes its N branches as ONE convolution of C -> N*C
/// channels: x is padded once per pass instead of N times, and each kernel
/// call works on N times as many output channels. Branch i is output channels
/// [i*C, (i+1)*C) of that convolution, which in the row-major [out, in, k, k]
/// weight is a contiguous block, so its parameter views are plain slices.
///
/// Both layouts run their activation, skip connection and input caching
/// through Conv2d's per-image hooks, inside the convolution's parallel loop.
/// Batch normalisation needs the whole batch between the convolution and the
/// activation, so with it the activation and the sum run in a loop of their
/// own; the parallel layout then normalises its N*C fused channels with one
/// BatchNorm2d, whose channels are per channel, so per branch.
///
/// The branch count N is a template parameter, or Dynamic for a count chosen
/// at run time: SequentialResidual<4>(channels, kernel) and
/// SequentialResidual<Dynamic>(4, channels, kernel) are the same code and the
/// same computation. A fixed N spells the block's shape in its type (a
/// Stack<...> then says its whole architecture) and makes N < 1 a compile
/// error; it buys no other speed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../core/format.hpp"
#include "../core/init.hpp"
#include "activation.hpp"
#include "batchnorm.hpp"
#include "conv2d.hpp"

namespace shallow {

/// A branch count chosen at run time rather than in the type.
inline constexpr int Dynamic = -1;

/// How the branches of a residual block are combined (this file's comment).
enum class Layout { sequential, parallel };

/// "sequential" or "parallel".
inline std::string to_string(Layout l) { return l == Layout::sequential ? "sequential" : "parallel"; }
/// The layout named s ("sequential" or "deep", "parallel" or "shallow"); ConfigError for others.
inline Layout parse_layout(const std::string& s) {
  if (s == "sequential" || s == "deep") return Layout::sequential;
  if (s == "parallel" || s == "shallow") return Layout::parallel;
  throw ConfigError("unknown layout '" + s + "' (sequential, parallel)");
}

/// The eps of the branches' batch norms (ResidualOptions::batchnorm).
inline constexpr double branch_batchnorm_eps = 1e-5;

/// The settings both residual layouts share.
struct ResidualOptions {
  /// The nonlinearity of each branch.
  Activation activation = Activation::relu;
  /// Leaky ReLU's slope for negative inputs; finite.
  double negative_slope = default_negative_slope;      // of leaky_relu
  /// Whether the branch convolutions add a bias.
  bool bias = true;
  /// The algorithm of the branch convolutions (automatic: the library's choice).
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;  // of the branch convolutions
  /// Whether each branch normalises its convolution's output: act(BN(conv(x))).
  bool batchnorm = false;
  /// Of the branches' BatchNorm2d running statistics (with batchnorm).
  double batchnorm_momentum = 0.1;
  /// Whether the branches' batch norms train a scale (with batchnorm; else it stays 1).
  bool batchnorm_scale = true;
  /// Seeds the initial weights.
  std::uint64_t seed = default_seed;                   // of the initial weights
};

/// What both layouts share: sizes, options, the activation, spec and shape.
template <class T>
class ResidualBlock : public Layer<T> {
 public:
  /// Sequential or parallel.
  Layout layout() const { return layout_; }
  /// The number of branches (N).
  Index layers() const { return n_; }
  /// Channels in and out (C).
  Index channels() const { return c_; }
  /// Kernel side of the branch convolutions (k).
  Index kernel() const { return k_; }
  /// The options the block was built with.
  const ResidualOptions& options() const { return opt_; }

  /// in: the shape is kept; ShapeError unless in has channels() channels.
  Shape output_shape(const Shape& in) const override {
    SHALLOW_CHECK(in.c == c_, ShapeError,
                  spec() + ": expected " + std::to_string(c_) + " channels, got " + to_string(in));
    return in;
  }
  /// Sequential: h_0..h_N, a_1..a_N and three gradient buffers; parallel: x,
  /// y, dx and the N branch outputs and their gradients; batch norm adds each
  /// norm's x_hat, output and gradient, and the convolution's output (one
  /// buffer the sequential branches share, N*C channels in parallel).
  double memory_values(const Shape& in) const override {
    output_shape(in);
    const Index norms = opt_.batchnorm ? 3 * n_ + (layout_ == Layout::parallel ? n_ : 1) : 0;
    return double(2 * n_ + 4 + norms) * double(in.size());
  }
  /// N convolutions of C -> C channels over the image, either layout.
  double macs(const Shape& in) const override {
    output_shape(in);
    return double(n_) * double(c_) * double(c_) * double(k_ * k_) * double(in.h * in.w);
  }

  /// "sequential_residual layers=N channels=C kernel=K activation=A bias=0|1"
  /// (or parallel_), with negative_slope= for a leaky_relu slope other than
  /// the default, algorithm= for a forced convolution algorithm, and
  /// "batchnorm=1 batchnorm_momentum=M" for normalised branches (and
  /// batchnorm_scale=0 when their scale is not trained).
  std::string spec() const override {
    SpecWriter w(to_string(layout_) + "_residual");
    w("layers", n_)("channels", c_)("kernel", k_)("activation", to_string(opt_.activation))("bias", opt_.bias);
    if (opt_.activation == Activation::leaky_relu && opt_.negative_slope != default_negative_slope)
      w("negative_slope", opt_.negative_slope);
    if (opt_.algorithm != ConvAlgorithm::automatic) w("algorithm", to_string(opt_.algorithm));
    if (opt_.batchnorm) w("batchnorm", true)("batchnorm_momentum", opt_.batchnorm_momentum);
    if (opt_.batchnorm && !opt_.batchnorm_scale) w("batchnorm_scale", false);
    return w.str();
  }
  /// Either layout, by the spec's name.
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s);

 protected:
  /// ConfigError unless n, channels and kernel are positive and the slope is finite.
  ResidualBlock(Layout layout, Index n, Index channels, Index kernel, const ResidualOptions& opt)
      : layout_(layout), n_(n), c_(channels), k_(kernel), opt_(opt) {
    SHALLOW_CHECK(n > 0, ConfigError, "residual block: need at least one branch, got " + std::to_string(n));
    SHALLOW_CHECK(channels > 0, ConfigError, "residual block: channels must be positive, got " + std::to_string(channels));
    SHALLOW_CHECK(kernel > 0, ConfigError, "residual block: kernel must be positive, got " + std::to_string(kernel));
    checked_slope(opt.negative_slope, "residual block");
  }

  /// A C -> out_channels 'same' convolution of the block's kernel, bias and algorithm.
  Conv2d<T> branch_conv(Index out_channels) const {
    return Conv2d<T>(c_, out_channels, k_, 1, same_padding, opt_.bias, ConvOptions{opt_.algorithm});
  }
  /// The batch norm of `channels` branch channels (ConfigError for a bad momentum).
  BatchNorm2d<T> branch_norm(Index channels) const {
    return BatchNorm2d<T>(channels, branch_batchnorm_eps, opt_.batchnorm_momentum, opt_.batchnorm_scale);
  }
  /// Appends channels [first, first + C) of bn's parameters and buffers, as
  /// branch i's "branchI.bn.<name>" (I = i + 1).
  void add_norm_slices(BatchNorm2d<T>& bn, Index i, Index first, std::vector<Parameter<T>>* ps,
                       std::vector<Buffer<T>>* bs) const {
    const std::string prefix = "branch" + std::to_string(i + 1) + ".bn.";
    if (ps)
      for (auto& p : bn.parameters())
        ps->push_back({prefix + p.name, VectorMap<T>(p.value.data() + first, c_), VectorMap<T>(p.grad.data() + first, c_), {c_}});
    if (bs)
      for (auto& b : bn.buffers()) bs->push_back({prefix + b.name, VectorMap<T>(b.value.data() + first, c_)});
  }
  /// Applies the activation to count values in place.
  void activate_(T* z, Index count) const { activate(opt_.activation, z, z, count, T(opt_.negative_slope)); }
  /// dz = dy * f'(y) over count values, f the activation.
  void activate_backward_(const T* y, const T* dy, T* dz, Index count) const {
    activate_backward(opt_.activation, y, dy, dz, count, T(opt_.negative_slope));
  }
  /// ShapeError unless dy has the shape of y, the last output.
  void check_gradient_shape(const Tensor4<T>& dy, const Tensor4<T>& y) const {
    SHALLOW_CHECK(dy.dimensions() == y.dimensions(), ShapeError, spec() + ": gradient shape differs from the last output");
  }

 private:
  Layout layout_;
  Index n_, c_, k_;
  ResidualOptions opt_;
};

/// The sequential layout with a run-time branch count: the base of SequentialResidual, and what make_residual() returns.
template <class T>
class SequentialResidualBlock : public ResidualBlock<T> {
 public:
  /// n branches of channels -> channels, kernel x kernel; weights drawn from opt.seed.
  SequentialResidualBlock(Index n, Index channels, Index kernel, const ResidualOptions& opt)
      : ResidualBlock<T>(Layout::sequential, n, channels, kernel, opt) {
    for (Index i = 0; i < n; ++i) {
      convs_.push_back(this->branch_conv(channels));
      if (opt.batchnorm) norms_.push_back(this->branch_norm(channels));
    }
    Rng rng(opt.seed);
    reset_parameters(rng);
    h_.resize(std::size_t(n + 1));
    a_.resize(std::size_t(n));
  }

  /// Draws each branch's weights and bias in turn (batch norms start at 1 and 0).
  void reset_parameters(Rng& rng) override {
    for (auto& conv : convs_) conv.reset_parameters(rng);
  }
  /// Training or inference mode, for the block and its branch norms.
  void train(bool on = true) override {
    Layer<T>::train(on);
    for (auto& bn : norms_) bn.train(on);
  }

  /// Caches every h_{i-1} (the input of branch i) and every branch output
  /// a_i (and, with batch norm, each norm's own cache). Without batch norm
  /// the activation and the skip connection run per image inside each
  /// convolution's parallel loop; branch 1 reads x and copies it into h_0 there.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    check_input(x, {this->channels(), x.dimension(2), x.dimension(3)}, "SequentialResidual");
    const Index sample = sample_shape(x).size(), n = this->layers(), batch = x.dimension(0);
    for (auto& h : h_) ensure_shape_like(h, x);
    for (Index i = 0; i < n; ++i) {
      const Tensor4<T>& in = i == 0 ? x : h_[std::size_t(i)];
      Tensor4<T>& a = a_[std::size_t(i)];
      T* out = h_[std::size_t(i + 1)].data();
      const auto activate_and_add = [&](Index b) {  // h_i = h_{i-1} + act(a_i) for image b
        const Index at = b * sample;
        this->activate_(a.data() + at, sample);
        VectorMap<T>(out + at, sample) = VectorMap<T>(a.data() + at, sample) + as_vector(in).segment(at, sample);
      };
      const auto keep_input = [&](Index b) {
        if (i == 0) std::copy_n(x.data() + b * sample, sample, h_[0].data() + b * sample);
      };
      if (norms_.empty()) {
        convs_[std::size_t(i)].forward_into(in, a, [&](Index b) {
          keep_input(b);
          activate_and_add(b);
        });
        continue;
      }
      convs_[std::size_t(i)].forward_into(in, z_, keep_input);    // z: [B, C, H, W]
      const Tensor4<T>& normed = norms_[std::size_t(i)].forward(z_);
      ensure_shape_like(a, z_);
#pragma omp parallel for schedule(static)
      for (Index b = 0; b < batch; ++b) {
        std::copy_n(normed.data() + b * sample, sample, a.data() + b * sample);
        activate_and_add(b);
      }
    }
    return h_[std::size_t(n)];
  }

  /// Walks the chain back: g = dL/dh_i; dL/dh_{i-1} = g + conv_i^T(act'(a_i) * g)
  /// (with BN_i's backward between), per image inside each convolution's
  /// parallel loop (with batch norm, act' in a loop of its own before the
  /// norm's backward). The last branch reads dy itself.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    const Index n = this->layers();
    this->check_gradient_shape(dy, h_[std::size_t(n)]);
    const Index sample = sample_shape(dy).size(), batch = dy.dimension(0);
    ensure_shape_like(g_, dy);
    ensure_shape_like(dz_, dy);
    ensure_shape_like(dh_, dy);
    for (Index i = n - 1; i >= 0; --i) {
      const T* g = i == n - 1 ? dy.data() : g_.data();
      const T* a = a_[std::size_t(i)].data();
      const auto activation_gradient = [&](Index b) {  // dz = act'(a_i) * g for image b
        const Index at = b * sample;
        this->activate_backward_(a + at, g + at, dz_.data() + at, sample);
      };
      const auto add_skip = [&](Index b) {  // dL/dh_{i-1} = g + dh for image b
        const Index at = b * sample;
        VectorMap<T>(g_.data() + at, sample) =
            Eigen::Map<const VectorX<T>>(g + at, sample) + VectorMap<T>(dh_.data() + at, sample);
      };
      if (norms_.empty()) {
        convs_[std::size_t(i)].backward_into(h_[std::size_t(i)], dz_, &dh_, activation_gradient, add_skip);
        continue;
      }
#pragma omp parallel for schedule(static)
      for (Index b = 0; b < batch; ++b) activation_gradient(b);
      convs_[std::size_t(i)].backward_into(h_[std::size_t(i)], norms_[std::size_t(i)].backward(dz_), &dh_, {}, add_skip);
    }
    return g_;
  }

  /// Each branch's weight and bias, named "branchI.weight", "branchI.bias"
  /// (I from 1), and with batch norm "branchI.bn.weight", "branchI.bn.bias".
  std::vector<Parameter<T>> parameters() override {
    std::vector<Parameter<T>> ps;
    for (std::size_t i = 0; i < convs_.size(); ++i) {
      for (auto& p : convs_[i].parameters()) {
        p.name = "branch" + std::to_string(i + 1) + "." + p.name;
        ps.push_back(std::move(p));
      }
      if (!norms_.empty()) this->add_norm_slices(norms_[i], Index(i), 0, &ps, nullptr);
    }
    return ps;
  }
  /// With batch norm, "branchI.bn.running_mean" and "branchI.bn.running_var".
  std::vector<Buffer<T>> buffers() override {
    std::vector<Buffer<T>> bs;
    for (std::size_t i = 0; i < norms_.size(); ++i) this->add_norm_slices(norms_[i], Index(i), 0, nullptr, &bs);
    return bs;
  }

  /// Branch i's convolution, i in [0, layers()); std::out_of_range otherwise.
  Conv2d<T>& branch(Index i) { return convs_.at(static_cast<std::size_t>(i)); }

 private:
  std::vector<Conv2d<T>> convs_;
  std::vector<BatchNorm2d<T>> norms_;  // one per branch, with batch norm
  std::vector<Tensor4<T>> h_, a_;
  Tensor4<T> z_, g_, dz_, dh_;
};

/// The parallel layout with a run-time branch count: the base of ParallelResidual, and what make_residual() returns.
template <class T>
class ParallelResidualBlock : public ResidualBlock<T> {
 public:
  /// n branches of channels -> channels, kernel x kernel, as one fused convolution; weights drawn from opt.seed.
  ParallelResidualBlock(Index n, Index channels, Index kernel, const ResidualOptions& opt)
      : ResidualBlock<T>(Layout::parallel, n, channels, kernel, opt), conv_(this->branch_conv(n * channels)) {
    if (opt.batchnorm) norm_.emplace(this->branch_norm(n * channels));
    Rng rng(opt.seed);
    reset_parameters(rng);
  }

  /// Branch by branch, weights then bias, as SequentialResidual draws them.
  void reset_parameters(Rng& rng) override {
    for (Index i = 0; i < this->layers(); ++i) conv_.reset_rows(rng, i * this->channels(), this->channels());
  }
  /// Training or inference mode, for the block and its branch norm.
  void train(bool on = true) override {
    Layer<T>::train(on);
    if (norm_) norm_->train(on);
  }

  /// Caches x and the N activated branch outputs a (N*C channels), and with
  /// batch norm the norm's own cache. Caching x, and without batch norm the
  /// activation and the sum, run per image inside the convolution's parallel loop.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    check_input(x, {this->channels(), x.dimension(2), x.dimension(3)}, "ParallelResidual");
    ensure_shape_like(x_, x);
    ensure_shape_like(y_, x);
    const Index sample = sample_shape(x).size(), n = this->layers(), batch = x.dimension(0);
    const auto keep_input = [&](Index b) { std::copy_n(x.data() + b * sample, sample, x_.data() + b * sample); };
    const auto activate_and_sum = [&](Index b) {  // y = x + sum_i act(a_i) for image b
      T* a = a_.data() + b * n * sample;
      this->activate_(a, n * sample);
      auto y = VectorMap<T>(y_.data() + b * sample, sample);
      y = as_vector(x).segment(b * sample, sample);
      for (Index i = 0; i < n; ++i) y += VectorMap<T>(a + i * sample, sample);
    };
    if (!norm_) {
      conv_.forward_into(x, a_, [&](Index b) {
        keep_input(b);
        activate_and_sum(b);
      });
      return y_;
    }
    conv_.forward_into(x, z_, keep_input);  // z: [B, N*C, H, W]
    const Tensor4<T>& normed = norm_->forward(z_);
    ensure_shape_like(a_, z_);
#pragma omp parallel for schedule(static)
    for (Index b = 0; b < batch; ++b) {
      std::copy_n(normed.data() + b * n * sample, n * sample, a_.data() + b * n * sample);
      activate_and_sum(b);
    }
    return y_;
  }

  /// Every branch receives dy: dz_i = act'(a_i) * dy (then the norm's
  /// backward), then one backward pass of the fused convolution; the skip
  /// connection adds dy itself. Without batch norm both run per image inside
  /// the convolution's parallel loop.
  const Tensor4<T>& backward(const Tensor4<T>& dy) override {
    this->check_gradient_shape(dy, y_);
    ensure_shape_like(dz_, a_);
    const Index sample = sample_shape(dy).size(), n = this->layers(), batch = dy.dimension(0);
    const auto activation_gradient = [&](Index b) {
      for (Index i = 0; i < n; ++i) {
        const Index at = (b * n + i) * sample;
        this->activate_backward_(a_.data() + at, dy.data() + b * sample, dz_.data() + at, sample);
      }
    };
    const auto add_skip = [&](Index b) {
      VectorMap<T>(dx_.data() + b * sample, sample) += as_vector(dy).segment(b * sample, sample);
    };
    if (!norm_) {
      conv_.backward_into(x_, dz_, &dx_, activation_gradient, add_skip);
      return dx_;
    }
#pragma omp parallel for schedule(static)
    for (Index b = 0; b < batch; ++b) activation_gradient(b);
    conv_.backward_into(x_, norm_->backward(dz_), &dx_, {}, add_skip);
    return dx_;
  }

  /// Each branch's weight and bias, as slices of the fused convolution, named
  /// "branchI.weight", "branchI.bias" (I from 1), and with batch norm
  /// "branchI.bn.weight", "branchI.bn.bias", slices of the fused norm.
  std::vector<Parameter<T>> parameters() override {
    const Index c = this->channels(), k = this->kernel(), w = c * c * k * k;
    std::vector<Parameter<T>> ps;
    for (Index i = 0; i < this->layers(); ++i) {
      const std::string prefix = "branch" + std::to_string(i + 1) + ".";
      ps.push_back({prefix + "weight", VectorMap<T>(conv_.weight().data() + i * w, w),
                    VectorMap<T>(conv_.weight_grad().data() + i * w, w), {c, c, k, k}});
      if (this->options().bias)
        ps.push_back({prefix + "bias", VectorMap<T>(conv_.bias().data() + i * c, c),
                      VectorMap<T>(conv_.bias_grad().data() + i * c, c), {c}});
      if (norm_) this->add_norm_slices(*norm_, i, i * c, &ps, nullptr);
    }
    return ps;
  }
  /// With batch norm, "branchI.bn.running_mean" and "branchI.bn.running_var".
  std::vector<Buffer<T>> buffers() override {
    std::vector<Buffer<T>> bs;
    if (norm_)
      for (Index i = 0; i < this->layers(); ++i) this->add_norm_slices(*norm_, i, i * this->channels(), nullptr, &bs);
    return bs;
  }

  /// The fused C -> N*C convolution.
  Conv2d<T>& fused() { return conv_; }

 private:
  Conv2d<T> conv_;
  std::optional<BatchNorm2d<T>> norm_;  // of the N*C fused channels, with batch norm
  Tensor4<T> x_, z_, a_, y_, dz_, dx_;
};

/// N residual layers one after another. With N fixed: (channels, kernel
/// [, options]); with N = Dynamic: (layers, channels, kernel [, options]).
template <int N, class T = float>
class SequentialResidual : public SequentialResidualBlock<T> {
  static_assert(N > 0 || N == Dynamic, "SequentialResidual<N>: N must be positive, or Dynamic");

 public:
  /// N branches of channels -> channels, kernel x kernel (N fixed).
  template <int M = N, std::enable_if_t<M != Dynamic, int> = 0>
  SequentialResidual(Index channels, Index kernel, const ResidualOptions& opt = {})
      : SequentialResidualBlock<T>(N, channels, kernel, opt) {}
  /// layers branches of channels -> channels, kernel x kernel (N = Dynamic).
  template <int M = N, std::enable_if_t<M == Dynamic, int> = 0>
  SequentialResidual(Index layers, Index channels, Index kernel, const ResidualOptions& opt = {})
      : SequentialResidualBlock<T>(layers, channels, kernel, opt) {}
};

/// N residual branches side by side on the same input, summed.
template <int N, class T = float>
class ParallelResidual : public ParallelResidualBlock<T> {
  static_assert(N > 0 || N == Dynamic, "ParallelResidual<N>: N must be positive, or Dynamic");

 public:
  /// N branches of channels -> channels, kernel x kernel (N fixed).
  template <int M = N, std::enable_if_t<M != Dynamic, int> = 0>
  ParallelResidual(Index channels, Index kernel, const ResidualOptions& opt = {})
      : ParallelResidualBlock<T>(N, channels, kernel, opt) {}
  /// layers branches of channels -> channels, kernel x kernel (N = Dynamic).
  template <int M = N, std::enable_if_t<M == Dynamic, int> = 0>
  ParallelResidual(Index layers, Index channels, Index kernel, const ResidualOptions& opt = {})
      : ParallelResidualBlock<T>(layers, channels, kernel, opt) {}
};

/// Either layout with everything chosen at run time, for tools built from flags.
template <class T = float>
std::unique_ptr<ResidualBlock<T>> make_residual(Layout layout, Index layers, Index channels, Index kernel,
                                                const ResidualOptions& opt = {}) {
  if (layout == Layout::sequential) return std::make_unique<SequentialResidualBlock<T>>(layers, channels, kernel, opt);
  return std::make_unique<ParallelResidualBlock<T>>(layers, channels, kernel, opt);
}

template <class T>
std::unique_ptr<Layer<T>> ResidualBlock<T>::from_spec(const SpecReader& s) {
  const std::string& name = s.name();
  const std::string suffix = "_residual";
  SHALLOW_CHECK(name.size() > suffix.size() && ends_with(name, suffix), ConfigError,
                "ResidualBlock::from_spec: '" + name + "' is not a residual block");
  const Layout layout = parse_layout(name.substr(0, name.size() - suffix.size()));
  ResidualOptions o;
  o.activation = parse_activation(s.text("activation"));
  o.bias = s.flag("bias");
  if (s.has("negative_slope")) o.negative_slope = s.number("negative_slope");
  if (s.has("algorithm")) o.algorithm = parse_conv_algorithm(s.text("algorithm"));
  o.batchnorm = s.flag("batchnorm", o.batchnorm);
  if (o.batchnorm || s.has("batchnorm_momentum")) o.batchnorm_momentum = s.number("batchnorm_momentum");
  o.batchnorm_scale = s.flag("batchnorm_scale", o.batchnorm_scale);
  const long long n = s.integer("layers"), c = s.integer("channels"), k = s.integer("kernel");
  s.reserve_parameters(double(n) * (double(c) * double(c) * double(k) * double(k) + double(o.batchnorm ? 5 : 1) * double(c)));
  auto block = make_residual<T>(layout, n, c, k, o);
  s.finish();
  return block;
}

}  // namespace shallow
