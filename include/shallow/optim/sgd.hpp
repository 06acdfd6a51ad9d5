/// \file
/// Stochastic gradient descent with momentum, as torch.optim.SGD. Per
/// parameter p with gradient g, at step t:
///   d   = g + weight_decay * p                       (L2 penalty)
///   buf = d                                          if t == 1
///   buf = momentum * buf + (1 - dampening) * d       otherwise
///   d   = d + momentum * buf  if nesterov,  buf  otherwise   (when momentum != 0)
///   p  -= lr * d
/// The momentum buffer is saved as "<parameter>.momentum_buffer" (none when
/// momentum is 0).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "optimizer.hpp"

namespace shallow {

/// SGD's settings (PyTorch's names).
struct SgdOptions {
  /// Learning rate.
  double lr = 1e-3;
  /// Momentum factor; finite, >= 0 (0: plain SGD).
  double momentum = 0;
  /// Dampening of the momentum's gradient term; finite.
  double dampening = 0;
  /// L2 penalty added to the gradient; finite, >= 0.
  double weight_decay = 0;
  /// Nesterov momentum; needs momentum > 0 and dampening 0.
  bool nesterov = false;
};

/// Stochastic gradient descent with momentum, as PyTorch's torch.optim.SGD.
template <class T>
class Sgd : public Optimizer<T> {
 public:
  /// SGD over params with options; ConfigError for out-of-range options.
  explicit Sgd(std::vector<Parameter<T>> params, const SgdOptions& options = {})
      : Optimizer<T>(std::move(params), options.lr),
        momentum_(options.momentum),
        dampening_(options.dampening),
        weight_decay_(options.weight_decay),
        nesterov_(options.nesterov) {
    SHALLOW_CHECK(std::isfinite(momentum_) && momentum_ >= 0, ConfigError,
                  "SGD: momentum must be finite and >= 0, got " + format_number(momentum_));
    SHALLOW_CHECK(std::isfinite(dampening_), ConfigError,
                  "SGD: dampening must be finite, got " + format_number(dampening_));
    SHALLOW_CHECK(std::isfinite(weight_decay_) && weight_decay_ >= 0, ConfigError,
                  "SGD: weight_decay must be finite and >= 0, got " + format_number(weight_decay_));
    SHALLOW_CHECK(!nesterov_ || (momentum_ > 0 && dampening_ == 0), ConfigError,
                  "SGD: nesterov momentum requires momentum > 0 and dampening 0");
    if (momentum_ != 0) buffer_ = this->add_slot("momentum_buffer");
  }

 protected:
  void update(std::int64_t step) override {
    auto& params = this->params();
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto& p = params[i];
      // Weight decay 0 skips the term, as PyTorch does: 0 * inf would be NaN.
      if (weight_decay_ != 0)
        update_one(step, i, p.grad.array() + static_cast<T>(weight_decay_) * p.value.array());
      else
        update_one(step, i, p.grad.array());
    }
  }

 private:
  // d is an expression of p's gradient (and value); every write below is
  // coefficient-wise, so reading p while writing p is safe.
  template <class Direction>
  void update_one(std::int64_t step, std::size_t i, const Direction& d) {
    auto p = this->params()[i].value.array();
    const T lr = static_cast<T>(this->lr());
    if (momentum_ == 0) {
      p -= lr * d;
      return;
    }
    auto buf = this->slot(buffer_, i).array();
    const T momentum = static_cast<T>(momentum_);
    if (step == 1)
      buf = d;
    else
      buf = momentum * buf + static_cast<T>(1 - dampening_) * d;
    if (nesterov_)
      p -= lr * (d + momentum * buf);
    else
      p -= lr * buf;
  }

  double momentum_, dampening_, weight_decay_;
  bool nesterov_;
  std::size_t buffer_ = 0;
};

}  // namespace shallow
