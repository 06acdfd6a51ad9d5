/// \file
/// Losses: the scalar a training step minimises, and its gradient with respect
/// to the network's output. Both average over the batch. forward caches what
/// backward needs (the softmax probabilities; the difference to the target).
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/format.hpp"
#include "../core/tensor.hpp"
#include "softmax.hpp"

namespace shallow {

/// Softmax over the C*H*W = K values of each sample (softmax.hpp), then
/// cross-entropy with an integer label. With label smoothing e (PyTorch's
/// CrossEntropyLoss(label_smoothing=e)) the target is (1 - e) on the label
/// and e / K spread over all K classes:
///   loss = (1 - e) (-log p[label]) + e / K * sum_k (-log p[k])
/// which rewards confident logits less and trains better-calibrated ones.
template <class T = float>
class SoftmaxCrossEntropy {
 public:
  /// label_smoothing in [0, 1); ConfigError otherwise.
  explicit SoftmaxCrossEntropy(double label_smoothing = 0) : smoothing_(label_smoothing) {
    SHALLOW_CHECK(label_smoothing >= 0 && label_smoothing < 1, ConfigError,
                  "SoftmaxCrossEntropy: label_smoothing must be in [0, 1), got " + format_number(label_smoothing));
  }

  /// The smoothing e of the training target.
  double label_smoothing() const { return smoothing_; }

  /// The mean loss of the batch; caches the probabilities. One label in [0, C*H*W) per sample, else ShapeError.
  T forward(const Tensor4<T>& logits, const std::vector<int>& labels) {
    const Index n = logits.dimension(0), k = sample_shape(logits).size();
    SHALLOW_CHECK(static_cast<Index>(labels.size()) == n, ShapeError,
                  "SoftmaxCrossEntropy: " + std::to_string(labels.size()) + " labels for a batch of " +
                      std::to_string(n));
    ensure_shape_like(prob_, logits);
    labels_ = labels;
    double total = 0;
    for (Index i = 0; i < n; ++i) {
      const int label = labels[static_cast<std::size_t>(i)];
      SHALLOW_CHECK(label >= 0 && label < k, ShapeError,
                    "SoftmaxCrossEntropy: label " + std::to_string(label) + " outside [0, " + std::to_string(k) + ")");
      const T* z = logits.data() + i * k;
      // -log p[j] = lse - z[j]
      const double lse = static_cast<double>(softmax(z, k, prob_.data() + i * k));
      total += (1 - smoothing_) * (lse - static_cast<double>(z[label]));
      if (smoothing_ != 0) {
        const double z_sum = static_cast<double>(Eigen::Map<const VectorX<T>>(z, k).sum());
        total += smoothing_ * (lse - z_sum / static_cast<double>(k));
      }
    }
    return static_cast<T>(total / static_cast<double>(std::max<Index>(n, 1)));
  }

  /// d(mean loss)/d logits = (softmax - target) / N, target = (1 - e) onehot + e / K.
  const Tensor4<T>& backward() {
    const Index n = prob_.dimension(0), k = sample_shape(prob_).size();
    ensure_shape_like(grad_, prob_);
    auto g = as_matrix(grad_, n, k);
    g = as_matrix(prob_, n, k);
    if (smoothing_ != 0) g.array() -= T(smoothing_ / double(k));
    for (Index i = 0; i < n; ++i) g(i, labels_[static_cast<std::size_t>(i)]) -= T(1 - smoothing_);
    g /= T(std::max<Index>(n, 1));
    return grad_;
  }

  /// The softmax of the last forward's logits.
  const Tensor4<T>& probabilities() const { return prob_; }

  /// How many of the last batch's arg-max predictions equal their labels.
  Index correct() const {
    const Index n = prob_.dimension(0), k = sample_shape(prob_).size();
    auto p = as_matrix(prob_, n, k);
    Index hits = 0;
    for (Index i = 0; i < n; ++i) {
      Index arg;
      p.row(i).maxCoeff(&arg);
      hits += arg == labels_[static_cast<std::size_t>(i)];
    }
    return hits;
  }

 private:
  double smoothing_;
  Tensor4<T> prob_, grad_;
  std::vector<int> labels_;
};

/// Mean squared error over all values: mean((y - target)^2).
template <class T = float>
class MSELoss {
 public:
  /// mean((y - target)^2); the shapes must match (ShapeError).
  T forward(const Tensor4<T>& y, const Tensor4<T>& target) {
    SHALLOW_CHECK(y.dimensions() == target.dimensions(), ShapeError, "MSELoss: prediction and target differ in shape");
    ensure_shape_like(diff_, y);
    as_vector(diff_) = as_vector(y) - as_vector(target);
    return as_vector(diff_).squaredNorm() / T(std::max<Index>(y.size(), 1));
  }
  /// d/dy = 2 (y - target) / count.
  const Tensor4<T>& backward() {
    ensure_shape_like(grad_, diff_);
    as_vector(grad_) = as_vector(diff_) * (T(2) / T(std::max<Index>(diff_.size(), 1)));
    return grad_;
  }

 private:
  Tensor4<T> diff_, grad_;
};

}  // namespace shallow
