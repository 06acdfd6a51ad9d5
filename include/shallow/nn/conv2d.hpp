/// \file
/// 2-D convolution: the parameters and the choice of an algorithm.
///
///   weight  O x (C k k), row-major: PyTorch's [out, in, kh, kw] flattened
///   bias    O values (optional)
///
/// The arithmetic lives in kernels/: every stride-1 'same' convolution runs
/// on padded planes (PlaneConv), every other geometry im2col + GEMM
/// (Im2colConv), unless ConvOptions::algorithm forces one; a forced algorithm
/// that cannot take a geometry is a ConfigError, never a silent fallback.
///
/// Layer contract: forward caches a copy of x; backward needs it, ADDS into
/// the weight and bias gradients and returns dL/dx. forward_into and
/// backward_into are the same computation without the cache, for blocks that
/// keep their own inputs; their optional per-image hooks (ImageHook,
/// conv_kernel.hpp) fuse a block's elementwise work into the convolution's
/// parallel loop.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "../core/cpu.hpp"
#include "../core/init.hpp"
#include "../kernels/conv_algorithms.hpp"
#include "layer.hpp"
#include "spec.hpp"

namespace shallow {

/// How a Conv2d computes.
struct ConvOptions {
  /// The algorithm; automatic leaves the choice to choose_conv_algorithm(), any other is forced.
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;
};

/// A 2-D convolution layer (the contract in this file's comment).
template <class T = float>
class Conv2d : public Layer<T> {
 public:
  /// in_channels -> out_channels with a kernel x kernel kernel; padding >= 0 or same_padding. ConfigError for non-positive sizes; weights drawn from default_seed.
  Conv2d(Index in_channels, Index out_channels, Index kernel, Index stride = 1, Index padding = same_padding,
         bool bias = true, ConvOptions options = {})
      : in_(in_channels), out_(out_channels), k_(kernel), stride_(stride), padding_(padding), has_bias_(bias),
        options_(options) {
    SHALLOW_CHECK(in_ > 0 && out_ > 0, ConfigError,
                  "Conv2d: channel counts must be positive, got in=" + std::to_string(in_) +
                      " out=" + std::to_string(out_));
    SHALLOW_CHECK(k_ > 0 && stride_ > 0, ConfigError,
                  "Conv2d: kernel and stride must be positive, got kernel=" + std::to_string(k_) +
                      " stride=" + std::to_string(stride_));
    SHALLOW_CHECK(padding_ >= 0 || padding_ == same_padding, ConfigError,
                  "Conv2d: padding must be >= 0 or same_padding, got " + std::to_string(padding_));
    weight_.setZero(out_, in_ * k_ * k_);
    weight_grad_.setZero(out_, in_ * k_ * k_);
    bias_.setZero(has_bias_ ? out_ : 0);
    bias_grad_.setZero(has_bias_ ? out_ : 0);
    Rng rng(default_seed);
    reset_parameters(rng);
  }

  /// "conv2d in=C out=O kernel=K stride=S padding=same|P bias=0|1
  /// [algorithm=A]": the algorithm only when one was forced.
  static std::unique_ptr<Layer<T>> from_spec(const SpecReader& s) {
    const Index padding = s.text("padding") == "same" ? same_padding : s.integer("padding");
    ConvOptions o;
    if (s.has("algorithm")) o.algorithm = parse_conv_algorithm(s.text("algorithm"));
    const long long in = s.integer("in"), out = s.integer("out"), k = s.integer("kernel");
    s.reserve_parameters(double(in) * double(out) * double(k) * double(k) + double(out));
    auto conv = std::make_unique<Conv2d<T>>(in, out, k, s.integer("stride"), padding, s.flag("bias"), o);
    s.finish();
    return conv;
  }
  std::string spec() const override {
    SpecWriter w("conv2d");
    w("in", in_)("out", out_)("kernel", k_)("stride", stride_);
    if (padding_ == same_padding)
      w("padding", "same");
    else
      w("padding", padding_);
    w("bias", has_bias_);
    if (options_.algorithm != ConvAlgorithm::automatic) w("algorithm", to_string(options_.algorithm));
    return w.str();
  }

  void reset_parameters(Rng& rng) override { reset_rows(rng, 0, out_); }

  /// Draws output channels [first, first + count): their weights, then their
  /// biases. ParallelResidual initialises branch by branch through this, so it
  /// draws the same numbers as a SequentialResidual with the same seed.
  void reset_rows(Rng& rng, Index first, Index count) {
    const Index fan_in = in_ * k_ * k_;
    init_uniform(rng, weight_.data() + first * fan_in, count * fan_in, fan_in);
    if (has_bias_) init_uniform(rng, bias_.data() + first, count, fan_in);
  }

  /// The geometry of this convolution over height x width images; ShapeError when they are smaller than the kernel.
  ConvGeometry geometry(Index height, Index width) const {
    return conv_geometry(in_, out_, k_, stride_, padding_, height, width);
  }

  /// y = conv(x), no cache; y must not be x. after(i): see ConvKernel.
  void forward_into(const Tensor4<T>& x, Tensor4<T>& y, ImageHook after = {}) {
    check_input(x, {in_, x.dimension(2), x.dimension(3)}, "Conv2d");
    const ConvGeometry g = geometry(x.dimension(2), x.dimension(3));
    ensure_shape(y, x.dimension(0), out_, g.out_h, g.out_w);
    kernel_for(g).forward(g, x, weight_, has_bias_ ? bias_.data() : nullptr, y, after);
  }

  /// Adds dL/dW and dL/db for the batch (x, dy); writes dL/dx when dx is given.
  /// before(i) and after(i): see ConvKernel.
  void backward_into(const Tensor4<T>& x, const Tensor4<T>& dy, Tensor4<T>* dx, ImageHook before = {},
                     ImageHook after = {}) {
    const ConvGeometry g = geometry(x.dimension(2), x.dimension(3));
    SHALLOW_CHECK(dy.dimension(0) == x.dimension(0) && dy.dimension(1) == out_ && dy.dimension(2) == g.out_h &&
                      dy.dimension(3) == g.out_w,
                  ShapeError, spec() + ": gradient shape does not match the output of the input given");
    if (dx) ensure_shape_like(*dx, x);
    kernel_for(g).backward(g, x, dy, weight_, dx, weight_grad_, has_bias_ ? &bias_grad_ : nullptr, before, after);
  }

  /// conv(x), caching a copy of x for backward.
  const Tensor4<T>& forward(const Tensor4<T>& x) override {
    ensure_shape_like(x_, x);
    const Index sample = sample_shape(x).size();
    forward_into(x, y_, [&](Index i) { std::copy_n(x.data() + i * sample, sample, x_.data() + i * sample); });
    return y_;
  }
  /// dL/dx for dy of the last forward; ADDS dL/dW and dL/db into the gradients.
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
    SHALLOW_CHECK(in.c == in_, ShapeError,
                  spec() + ": expected " + std::to_string(in_) + " input channels, got " + to_string(in));
    const ConvGeometry g = geometry(in.h, in.w);
    if (options_.algorithm != ConvAlgorithm::automatic) check_accepts(g);
    return {out_, g.out_h, g.out_w};
  }

  double macs(const Shape& in) const override {
    output_shape(in);
    return geometry(in.h, in.w).macs();
  }

  /// Input channels (C).
  Index in_channels() const { return in_; }
  /// Output channels (O).
  Index out_channels() const { return out_; }
  /// Kernel side (k).
  Index kernel() const { return k_; }
  /// The stride.
  Index stride() const { return stride_; }
  /// The padding, or same_padding.
  Index padding() const { return padding_; }
  /// Whether the layer adds a bias.
  bool has_bias() const { return has_bias_; }
  /// The options, with the algorithm forced if any.
  const ConvOptions& options() const { return options_; }
  /// Forces an algorithm (automatic: the library's choice) from the next call on.
  void set_algorithm(ConvAlgorithm a) {
    options_.algorithm = a;
    kernel_.reset();
  }
  /// The algorithm that ran the last call (automatic before any).
  ConvAlgorithm last_algorithm() const { return kernel_ ? kernel_->algorithm() : ConvAlgorithm::automatic; }

  /// The weights, O x (C k k).
  MatrixR<T>& weight() { return weight_; }
  /// The weights, O x (C k k).
  const MatrixR<T>& weight() const { return weight_; }
  /// The bias, O values (none without one).
  VectorX<T>& bias() { return bias_; }
  /// The bias, O values (none without one).
  const VectorX<T>& bias() const { return bias_; }
  /// The weight gradient, shaped as weight().
  MatrixR<T>& weight_grad() { return weight_grad_; }
  /// The bias gradient, shaped as bias().
  VectorX<T>& bias_grad() { return bias_grad_; }

 private:
  void check_accepts(const ConvGeometry& g) const {
    SHALLOW_CHECK(conv_accepts(options_.algorithm, g), ConfigError,
                  spec() + ": the " + to_string(options_.algorithm) + " algorithm cannot compute " + to_string(g));
  }

  // The kernel for g: made when the geometry's algorithm differs from the
  // last one's; the kernel itself keeps its workspaces per geometry.
  ConvKernel<T>& kernel_for(const ConvGeometry& g) {
    ConvAlgorithm a = options_.algorithm;
    if (a == ConvAlgorithm::automatic)
      a = choose_conv_algorithm(g);
    else
      check_accepts(g);
    if (!kernel_ || kernel_->algorithm() != a) {
      warn_once_if_not_built_for_this_cpu();
      kernel_.reset(make_conv_kernel<T>(a).release());
    }
    return *kernel_;
  }

  // A kernel holds workspaces only: a copied layer starts without one.
  struct KernelSlot : std::unique_ptr<ConvKernel<T>> {
    KernelSlot() = default;
    KernelSlot(const KernelSlot&) : std::unique_ptr<ConvKernel<T>>() {}
    KernelSlot& operator=(const KernelSlot&) {
      this->reset();
      return *this;
    }
    KernelSlot(KernelSlot&&) noexcept = default;
    KernelSlot& operator=(KernelSlot&&) noexcept = default;
  };

  Index in_, out_, k_, stride_, padding_;
  bool has_bias_;
  ConvOptions options_;
  MatrixR<T> weight_, weight_grad_;
  VectorX<T> bias_, bias_grad_;
  Tensor4<T> x_, y_, dx_;
  KernelSlot kernel_;
};

}  // namespace shallow
