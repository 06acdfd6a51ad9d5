// What the benchmark programs share: their input data and the demo
// network's training step.
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

// The demo's MNIST network (build_model's defaults: conv 1->16, ReLU, 8
// residual layers of 16 filters k3, max-pool 4, dense) and one Adam training
// step on a fixed batch: zero_grad, forward, loss, backward, step.
class MnistNetworkStep {
 public:
  MnistNetworkStep(shallow::Layout layout, shallow::Index batch)
      : net_(shallow::build_model<float>(config_for(layout))),
        opt_(net_.parameters(), shallow::AdamOptions{}),
        x_(random_batch(batch, 1, 28, 28)),
        labels_(std::size_t(batch)) {
    for (std::size_t i = 0; i < labels_.size(); ++i) labels_[i] = int(i % 10);
  }
  MnistNetworkStep(const MnistNetworkStep&) = delete;  // opt_ holds views into net_
  MnistNetworkStep& operator=(const MnistNetworkStep&) = delete;

  void operator()() {
    opt_.zero_grad();
    loss_.forward(net_.forward(x_), labels_);
    net_.backward(loss_.backward());
    opt_.step();
  }

  const shallow::Tensor4<float>& input() const { return x_; }
  const std::vector<int>& labels() const { return labels_; }

 private:
  static shallow::ModelConfig config_for(shallow::Layout layout) {
    shallow::ModelConfig c;
    c.layout = layout;
    return c;
  }

  shallow::Network<float> net_;
  shallow::Adam<float> opt_;
  shallow::SoftmaxCrossEntropy<float> loss_;
  shallow::Tensor4<float> x_;
  std::vector<int> labels_;
};
