// The paper's classifier, built from run-time settings so tools can make any
// configuration of it:
//
//   conv2d  in -> F channels, kernel k, 'same'     (brings the input to F)
//   act
//   residual stack: N branches of F -> F, kernel k, in the chosen layout
//   maxpool2d P  (P = 0: global average pool instead)
//   flatten
//   dense   -> classes
//
// Both layouts give the same parameter count for the same settings.
#pragma once

#include <string>

#include "network.hpp"

namespace shallow {

struct ModelConfig {
  Shape input{1, 28, 28};
  Index classes = 10;
  Layout layout = Layout::parallel;
  Index layers = 8;
  Index filters = 16;
  Index kernel = 3;
  Activation activation = Activation::relu;
  Index pool = 4;  // max-pool window before the classifier; 0 = global average
  std::uint64_t seed = 1;
};

inline std::string describe(const ModelConfig& c) {
  return to_string(c.layout) + " layers=" + std::to_string(c.layers) + " filters=" + std::to_string(c.filters) +
         " kernel=" + std::to_string(c.kernel) + " activation=" + to_string(c.activation) +
         " pool=" + std::to_string(c.pool);
}

template <class T = float>
Network<T> build_model(const ModelConfig& c) {
  require(c.classes > 1, "model: need at least two classes, got " + std::to_string(c.classes));
  require(c.pool >= 0, "model: pool must be >= 0, got " + std::to_string(c.pool));
  Network<T> net;
  net.template emplace<Conv2d<T>>(c.input.c, c.filters, c.kernel);
  net.add(std::make_unique<ActivationLayer<T>>(c.activation));
  ResidualOptions ro;
  ro.activation = c.activation;
  net.add(make_residual<T>(c.layout, c.layers, c.filters, c.kernel, ro));
  if (c.pool > 0) {
    require(c.pool <= c.input.h && c.pool <= c.input.w,
            "model: pool " + std::to_string(c.pool) + " is larger than the input " + to_string(c.input));
    net.template emplace<MaxPool2d<T>>(c.pool);
  } else {
    net.template emplace<GlobalAvgPool<T>>();
  }
  net.template emplace<Flatten<T>>();
  const Shape features = net.output_shape(c.input);
  net.template emplace<Dense<T>>(features.size(), c.classes);
  Rng rng(c.seed);
  net.reset_parameters(rng);
  return net;
}

}  // namespace shallow
