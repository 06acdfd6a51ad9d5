/// \file
/// The classifier the tools train, built from run-time settings so they can
/// make any configuration of it. With one stage it is the network of the
/// paper's study as far as the paper describes it (a convolution to F
/// channels, N residual layers of F filters, a dense classifier); the pooling
/// before the dense layer is not stated there: max-pool 4 is this project's
/// assumption (docs/reproduction.md).
///
///   conv2d  in -> F channels, kernel k, 'same'     (brings the input to F)
///   act
///   residual stack: N branches of F -> F, kernel k, in the chosen layout
///   maxpool2d P  (P = 0: global average pool instead)
///   flatten
///   dense   -> classes
///
/// With S > 1 stages (a CIFAR-sized network), each stage after the first
/// halves the image and doubles the width, and batch normalisation follows
/// every convolution outside the residual stacks (which therefore need no
/// bias: batch norm subtracts it again):
///
///   conv2d in -> F, k, 'same', no bias;  batchnorm;  act;  residual stack (N, F)
///   S-1 times: conv2d C -> 2C, 3x3, stride 2, pad 1, no bias;  batchnorm;  act;
///              residual stack (N, 2C)
///   pool, flatten, dense as above
///
/// Both layouts give the same parameter count for the same settings.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "../nn/activation.hpp"
#include "../nn/batchnorm.hpp"
#include "../nn/conv2d.hpp"
#include "../nn/dense.hpp"
#include "../nn/flatten.hpp"
#include "../nn/layer_factory.hpp"
#include "../nn/network.hpp"
#include "../nn/pooling.hpp"
#include "../nn/residual.hpp"

namespace shallow {

/// The settings of the classifier in this file's comment.
struct ModelConfig {
  /// The shape of one input image.
  Shape input{1, 28, 28};
  /// Output classes; at least 2.
  Index classes = 10;
  /// How the residual branches are combined.
  Layout layout = Layout::parallel;
  /// Residual branches per stack (N).
  Index layers = 8;
  /// Channels of the first stage (F).
  Index filters = 16;
  /// Kernel side of the first and the residual convolutions (k).
  Index kernel = 3;
  /// The nonlinearity after each convolution.
  Activation activation = Activation::relu;
  /// Max-pool window before the classifier; 0: global average pool. >= 0.
  Index pool = 4;  // max-pool window before the classifier; 0 = global average
  /// Stages (S), each after the first halving the image and doubling the width; >= 1.
  Index stages = 1;
  /// Seeds the initial weights.
  std::uint64_t seed = 1;
  /// The residual branches' convolution algorithm (automatic: chosen per
  /// geometry); one forced that cannot take their geometry is a ConfigError.
  ConvAlgorithm algorithm = ConvAlgorithm::automatic;
};

/// The settings in one line, e.g. "parallel layers=8 filters=16 kernel=3 activation=relu pool=4".
inline std::string describe(const ModelConfig& c) {
  return to_string(c.layout) + " layers=" + std::to_string(c.layers) + " filters=" + std::to_string(c.filters) +
         " kernel=" + std::to_string(c.kernel) + " activation=" + to_string(c.activation) +
         " pool=" + std::to_string(c.pool) + (c.stages > 1 ? " stages=" + std::to_string(c.stages) : "") +
         (c.algorithm != ConvAlgorithm::automatic ? std::string(" algorithm=") + to_string(c.algorithm) : "");
}

/// The network c describes, its weights drawn from c.seed; ConfigError for invalid settings.
template <class T = float>
Network<T> build_model(const ModelConfig& c) {
  SHALLOW_CHECK(c.classes > 1, ConfigError, "model: need at least two classes, got " + std::to_string(c.classes));
  SHALLOW_CHECK(c.pool >= 0, ConfigError, "model: pool must be >= 0, got " + std::to_string(c.pool));
  SHALLOW_CHECK(c.stages >= 1, ConfigError, "model: need at least one stage, got " + std::to_string(c.stages));
  const bool staged = c.stages > 1;
  // Each layer's parameters are counted before it allocates them: settings
  // of thousands of layers and filters are refused, not tried.
  double left = max_spec_parameters;
  const auto reserve = [&](double count) {
    SHALLOW_CHECK(count <= left, ConfigError,
                  "model: " + describe(c) + " needs more than " + format_number(max_spec_parameters) + " parameters");
    left -= count;
  };
  Network<T> net;
  ResidualOptions ro;
  ro.activation = c.activation;
  ro.algorithm = c.algorithm;
  double width = double(c.filters), k2 = double(c.kernel) * double(c.kernel);
  reserve(double(c.input.c) * width * k2 + width);
  net.template emplace<Conv2d<T>>(c.input.c, c.filters, c.kernel, 1, same_padding, !staged);
  for (Index s = 0; s < c.stages; ++s) {
    if (s > 0) {
      reserve(width * 2 * width * 9);
      net.template emplace<Conv2d<T>>(Index(width), Index(2 * width), 3, 2, 1, false);
      width *= 2;
    }
    if (staged) net.template emplace<BatchNorm2d<T>>(Index(width));
    net.add(std::make_unique<ActivationLayer<T>>(c.activation));
    reserve(double(c.layers) * (width * width * k2 + width));
    net.add(make_residual<T>(c.layout, c.layers, Index(width), c.kernel, ro));
  }
  const Shape before_pool = net.output_shape(c.input);
  if (c.pool > 0) {
    SHALLOW_CHECK(c.pool <= before_pool.h && c.pool <= before_pool.w, ConfigError,
                  "model: pool " + std::to_string(c.pool) + " is larger than the image " + to_string(before_pool) +
                      " it pools");
    net.template emplace<MaxPool2d<T>>(c.pool);
  } else {
    net.template emplace<GlobalAvgPool<T>>();
  }
  net.template emplace<Flatten<T>>();
  const Shape features = net.output_shape(c.input);
  reserve(double(features.size()) * double(c.classes) + double(c.classes));
  net.template emplace<Dense<T>>(features.size(), c.classes);
  Rng rng(c.seed);
  net.reset_parameters(rng);
  return net;
}

}  // namespace shallow
