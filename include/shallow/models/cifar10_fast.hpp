/// \file
/// The network of the cifar10-fast recipe: the layout of Keller Jordan's
/// airbench94 (after David Page's ResNet speed-run), wide and shallow, with
/// each group's second convolution a residual block of the library:
///
///   patch_whitening  C -> 2 C k k channels, k x k 'valid' (fitted, frozen)
///   relu (or gelu)
///   per group g, widths w_g (default 64, 256, 256):
///     conv2d   -> w_g, 3x3 'same', no bias; its first min(in, w_g) filters
///              start as the identity of their input channel (airbench's
///              Dirac initialisation: an implicit skip connection)
///     maxpool2d 2
///     batchnorm2d (its scale trained or fixed at 1: batchnorm_scale)
///     relu (or gelu)
///     residual block: N branches of w_g -> w_g, 3x3, in the chosen layout;
///              each relu(conv(x)), or relu(BN(conv(x))) with branch_batchnorm
///   maxpool2d over what is left of the image (3x3 for 32x32 inputs)
///   flatten
///   dense    w_last -> classes, no bias, weights scaled by classifier_scale
///
/// The whitening layer starts unfitted: fit_whitening(net, images) sets its
/// filters from training images before the first step. The airbench network
/// multiplies its logits by 1/9; here the dense layer's initial weights are
/// scaled by classifier_scale instead, and fast_gradient_scales gives the
/// matching gradient factors (Trainer's TrainOptions::gradient_scales): with
/// SGD a factor s^2 on the dense weights trains W' = s W exactly as the
/// network with the multiplier trains W, weight decay included. The same
/// factors raise the BatchNorm biases' rate and leave their weight decay
/// per step unchanged, as the speed-runs do.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../nn/activation.hpp"
#include "../nn/batchnorm.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/dense.hpp"
#include "../nn/flatten.hpp"
#include "../nn/gelu.hpp"
#include "../nn/layer_factory.hpp"
#include "../nn/network.hpp"
#include "../nn/patch_whitening.hpp"
#include "../nn/pooling.hpp"
#include "../nn/residual.hpp"

namespace shallow {

/// The settings of build_fast_model.
struct FastModelConfig {
  /// The image shape.
  Shape input{3, 32, 32};
  /// Output classes.
  Index classes = 10;
  /// The layout of each group's residual block.
  Layout layout = Layout::parallel;
  /// Residual branches per group.
  Index layers = 1;
  /// Whether each branch normalises its convolution: relu(BN(conv(x))), without a conv bias.
  bool branch_batchnorm = false;
  /// GELU (airbench94's) instead of ReLU after the whitening and after each
  /// group's batch norm; the residual branches keep ReLU, as their
  /// activation is differentiated through its output.
  bool gelu = false;
  /// The algorithm of the branch convolutions (automatic: the library's choice).
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;
  /// One group each: its convolution's output channels.
  std::vector<Index> widths{64, 256, 256};
  /// The whitening patches' side k.
  Index whitening_kernel = 2;
  /// Added to the patch covariance's eigenvalues.
  double whitening_eps = 5e-4;
  /// Of every BatchNorm2d's running statistics.
  double batchnorm_momentum = 0.1;
  /// Added to the variance in each group's BatchNorm2d.
  double batchnorm_eps = 1e-5;
  /// Whether every BatchNorm2d, the branches' too, trains a scale
  /// (airbench94's do not).
  bool batchnorm_scale = true;
  /// Of the dense layer's initial weights.
  double classifier_scale = 1.0 / 9;
  /// Of the initial weights.
  std::uint64_t seed = 1;
};

/// One line naming the configuration, for messages.
inline std::string describe(const FastModelConfig& c) {
  std::string widths;
  for (Index w : c.widths) widths += (widths.empty() ? "" : ",") + std::to_string(w);
  return "fast " + to_string(c.layout) + " layers=" + std::to_string(c.layers) + " widths=" + widths +
         " whitening=" + std::to_string(c.whitening_kernel) + (c.branch_batchnorm ? " branch-batchnorm" : "") +
         (c.gelu ? " gelu" : "") + (c.batchnorm_scale ? "" : " bn-no-scale") +
         (c.algorithm != ConvAlgorithm::automatic ? std::string(" algorithm=") + to_string(c.algorithm) : "");
}

/// The network of the file's comment, initialised from c.seed; ConfigError for settings it cannot build.
template <class T = float>
Network<T> build_fast_model(const FastModelConfig& c) {
  SHALLOW_CHECK(c.classes > 1, ConfigError, "fast model: need at least two classes, got " + std::to_string(c.classes));
  SHALLOW_CHECK(!c.widths.empty(), ConfigError, "fast model: need at least one group");
  SHALLOW_CHECK(c.classifier_scale > 0 && std::isfinite(c.classifier_scale), ConfigError,
                "fast model: classifier_scale must be finite and > 0, got " + format_number(c.classifier_scale));
  double left = max_spec_parameters;
  const auto reserve = [&](double count) {
    SHALLOW_CHECK(count <= left, ConfigError,
                  "fast model: " + describe(c) + " needs more than " + format_number(max_spec_parameters) + " parameters");
    left -= count;
  };
  Network<T> net;
  const Index k = c.whitening_kernel, whitened = 2 * c.input.c * k * k;
  reserve(double(whitened) * double(c.input.c * k * k + 1));
  const auto activation = [&] {
    if (c.gelu)
      net.template emplace<GELU<T>>();
    else
      net.template emplace<ReLU<T>>();
  };
  net.template emplace<PatchWhitening<T>>(c.input.c, k, c.whitening_eps, true);
  activation();
  ResidualOptions branches;
  branches.bias = !c.branch_batchnorm;  // a bias before batch norm is cancelled by it
  branches.batchnorm = c.branch_batchnorm;
  branches.batchnorm_momentum = c.batchnorm_momentum;
  branches.batchnorm_scale = c.batchnorm_scale;
  branches.algorithm = c.algorithm;
  Index in = whitened;
  for (Index w : c.widths) {
    SHALLOW_CHECK(w > 0, ConfigError, "fast model: widths must be positive, got " + std::to_string(w));
    reserve(double(in) * double(w) * 9 + 2 * double(w) + double(c.layers) * (double(w) * double(w) * 9 + 5 * double(w)));
    net.template emplace<Conv2d<T>>(in, w, 3, 1, same_padding, false);
    SHALLOW_CHECK(net.output_shape(c.input).h >= 2 && net.output_shape(c.input).w >= 2, ConfigError,
                  "fast model: " + std::to_string(c.widths.size()) + " groups pool a " + to_string(c.input) +
                      " image below 1x1");
    net.template emplace<MaxPool2d<T>>(2);
    net.template emplace<BatchNorm2d<T>>(w, c.batchnorm_eps, c.batchnorm_momentum, c.batchnorm_scale);
    activation();
    net.add(make_residual<T>(c.layout, c.layers, w, 3, branches));
    in = w;
  }
  const Shape left_over = net.output_shape(c.input);
  if (left_over.h > 1 || left_over.w > 1) {
    SHALLOW_CHECK(left_over.h == left_over.w, ConfigError,
                  "fast model: the groups leave a " + to_string(left_over) + " image, which the final pooling needs square");
    net.template emplace<MaxPool2d<T>>(left_over.h);
  }
  net.template emplace<Flatten<T>>();
  reserve(double(in) * double(c.classes));
  net.template emplace<Dense<T>>(in, c.classes, false);
  Rng rng(c.seed);
  net.reset_parameters(rng);
  for (std::size_t i = 0; i < net.size(); ++i)
    if (auto* conv = dynamic_cast<Conv2d<T>*>(&net[i])) {
      const Index identities = std::min(conv->in_channels(), conv->out_channels());
      conv->weight().topRows(identities).setZero();
      for (Index o = 0; o < identities; ++o) conv->weight()(o, o * 9 + 4) = T(1);  // the centre tap of channel o
    }
  auto& dense = static_cast<Dense<T>&>(net[net.size() - 1]);
  dense.weight() *= T(c.classifier_scale);
  return net;
}

/// Sets the whitening filters of a network build_fast_model made from
/// `images` (N x C x H x W, normalised as in training).
template <class T>
void fit_whitening(Network<T>& net, const Tensor4<T>& images) {
  auto* whitening = net.size() > 0 ? dynamic_cast<PatchWhitening<T>*>(&net[0]) : nullptr;
  SHALLOW_CHECK(whitening != nullptr, ConfigError, "fit_whitening: the network does not start with a patch_whitening layer");
  whitening->fit(images);
}

/// Gradient factors for a network of build_fast_model, one per parameter in
/// parameters() order: batchnorm_bias for every batch norm's bias (the
/// residual branches' too), the square of config.classifier_scale for the
/// dense layer, 1 elsewhere.
template <class T>
std::vector<double> fast_gradient_scales(Network<T>& net, const FastModelConfig& c, double batchnorm_bias) {
  std::vector<double> scales;
  for (std::size_t i = 0; i < net.size(); ++i) {
    const bool bn = dynamic_cast<BatchNorm2d<T>*>(&net[i]) != nullptr;
    const bool residual = dynamic_cast<ResidualBlock<T>*>(&net[i]) != nullptr;
    const bool dense = dynamic_cast<Dense<T>*>(&net[i]) != nullptr;
    for (const auto& p : net[i].parameters()) {
      double s = 1;
      if ((bn && p.name == "bias") || (residual && ends_with(p.name, ".bn.bias"))) s = batchnorm_bias;
      if (dense) s = c.classifier_scale * c.classifier_scale;
      scales.push_back(s);
    }
  }
  return scales;
}

}  // namespace shallow
