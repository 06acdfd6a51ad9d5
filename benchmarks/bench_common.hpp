// What the benchmark programs share: their input data and whole-network
// training steps.
#pragma once

#include <vector>

#include <shallow/shallow.hpp>

// A batch of uniform values in [-1, 1), the same on every run.
inline shallow::Tensor4<float> random_batch(shallow::Index n, shallow::Index c, shallow::Index h, shallow::Index w) {
  shallow::Tensor4<float> x(n, c, h, w);
  shallow::Rng rng(1);
  for (shallow::Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.uniform(-1, 1));
  return x;
}

// One Adam training step of a build_model network on a fixed batch of random
// images: zero_grad, forward, loss, backward, step.
class NetworkStep {
 public:
  NetworkStep(const shallow::ModelConfig& config, shallow::Index batch)
      : net_(shallow::build_model<float>(config)),
        opt_(net_.parameters(), shallow::AdamOptions{}),
        x_(random_batch(batch, config.input.c, config.input.h, config.input.w)),
        labels_(std::size_t(batch)) {
    for (std::size_t i = 0; i < labels_.size(); ++i) labels_[i] = int(i % std::size_t(config.classes));
  }
  NetworkStep(const NetworkStep&) = delete;  // opt_ holds views into net_
  NetworkStep& operator=(const NetworkStep&) = delete;

  void operator()() {
    opt_.zero_grad();
    loss_.forward(net_.forward(x_), labels_);
    net_.backward(loss_.backward());
    opt_.step();
  }

  const shallow::Tensor4<float>& input() const { return x_; }
  const std::vector<int>& labels() const { return labels_; }

 private:
  shallow::Network<float> net_;
  shallow::Adam<float> opt_;
  shallow::SoftmaxCrossEntropy<float> loss_;
  shallow::Tensor4<float> x_;
  std::vector<int> labels_;
};

// The demo's MNIST network: build_model's defaults (conv 1->16, ReLU, 8
// residual layers of 16 filters k3, max-pool 4, dense).
inline shallow::ModelConfig mnist_network(shallow::Layout layout) {
  shallow::ModelConfig c;
  c.layout = layout;
  return c;
}

// The network of shallow-train's cifar10 recipe: three stages of 3 residual
// layers at 32x32, 16x16 and 8x8 with 24, 48 and 96 filters.
inline shallow::ModelConfig cifar_network(shallow::Layout layout) {
  shallow::ModelConfig c;
  c.input = {3, 32, 32};
  c.layout = layout;
  c.stages = 3;
  c.layers = 3;
  c.filters = 24;
  c.pool = 0;
  return c;
}
