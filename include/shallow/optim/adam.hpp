/// \file
/// Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW (without
/// amsgrad). Per parameter p with gradient g, at step t:
///   p  *= 1 - lr * weight_decay                      (AdamW: decoupled decay)
///   g   = g + weight_decay * p                       (Adam: L2 penalty)
///   m   = beta1 * m + (1 - beta1) * g
///   v   = beta2 * v + (1 - beta2) * g^2
///   bc1 = 1 - beta1^t,  bc2 = 1 - beta2^t
///   p  -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)
/// eps is added after the bias correction of v, as PyTorch does. m and v are
/// saved as "<parameter>.exp_avg" and "<parameter>.exp_avg_sq".
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "optimizer.hpp"

namespace shallow {

/// Adam's settings (PyTorch's names and defaults).
struct AdamOptions {
  /// Learning rate.
  double lr = 1e-3;
  /// Decay rates of the first and second moment estimates, each in [0, 1).
  std::array<double, 2> betas{0.9, 0.999};
  /// Added to the denominator; finite, >= 0.
  double eps = 1e-8;
  /// L2 penalty added to the gradient; finite, >= 0.
  double weight_decay = 0;
};

/// The same fields; only AdamW's default weight decay differs.
struct AdamWOptions {
  /// Learning rate.
  double lr = 1e-3;
  /// Decay rates of the first and second moment estimates, each in [0, 1).
  std::array<double, 2> betas{0.9, 0.999};
  /// Added to the denominator; finite, >= 0.
  double eps = 1e-8;
  /// Decoupled weight decay: each step multiplies the weights by 1 - lr * weight_decay; finite, >= 0.
  double weight_decay = 1e-2;
};

/// Adam (Kingma & Ba) with bias correction and L2 weight decay, as PyTorch's torch.optim.Adam.
template <class T>
class Adam : public Optimizer<T> {
 public:
  /// Adam over params with options; ConfigError for out-of-range options.
  explicit Adam(std::vector<Parameter<T>> params, const AdamOptions& options = {})
      : Adam(std::move(params), options, Decay::l2, "Adam") {}

 protected:
  /// How weight decay applies: added to the gradient (Adam) or to the weights directly (AdamW).
  enum class Decay { l2, decoupled };

  /// For AdamW: who names the optimizer in errors.
  Adam(std::vector<Parameter<T>> params, const AdamOptions& options, Decay decay, const std::string& who)
      : Optimizer<T>(std::move(params), options.lr),
        beta1_(options.betas[0]),
        beta2_(options.betas[1]),
        eps_(options.eps),
        weight_decay_(options.weight_decay),
        decay_(decay) {
    for (int i = 0; i < 2; ++i)
      SHALLOW_CHECK(options.betas[i] >= 0 && options.betas[i] < 1, ConfigError,
                    who + ": betas[" + std::to_string(i) + "] must be in [0, 1), got " + format_number(options.betas[i]));
    SHALLOW_CHECK(std::isfinite(eps_) && eps_ >= 0, ConfigError,
                  who + ": eps must be finite and >= 0, got " + format_number(eps_));
    SHALLOW_CHECK(std::isfinite(weight_decay_) && weight_decay_ >= 0, ConfigError,
                  who + ": weight_decay must be finite and >= 0, got " + format_number(weight_decay_));
    exp_avg_ = this->add_slot("exp_avg");
    exp_avg_sq_ = this->add_slot("exp_avg_sq");
  }

  void update(std::int64_t step) override {
    const double lr = this->lr();
    const double t = static_cast<double>(step);
    const double bc1 = 1 - std::pow(beta1_, t);
    const double bc2 = 1 - std::pow(beta2_, t);
    const T step_size = static_cast<T>(lr / bc1);
    const T bc2_sqrt = static_cast<T>(std::sqrt(bc2));
    auto& params = this->params();
    for (std::size_t i = 0; i < params.size(); ++i) {
      auto& p = params[i];
      if (decay_ == Decay::decoupled && weight_decay_ != 0) p.value *= static_cast<T>(1 - lr * weight_decay_);
      // Weight decay 0 skips the term, as PyTorch does: 0 * inf would be NaN.
      if (decay_ == Decay::l2 && weight_decay_ != 0)
        update_one(i, p.grad.array() + static_cast<T>(weight_decay_) * p.value.array(), step_size, bc2_sqrt);
      else
        update_one(i, p.grad.array(), step_size, bc2_sqrt);
    }
  }

 private:
  // g may read p's value: the moments are updated before p is written.
  template <class Gradient>
  void update_one(std::size_t i, const Gradient& g, T step_size, T bc2_sqrt) {
    auto m = this->slot(exp_avg_, i).array();
    auto v = this->slot(exp_avg_sq_, i).array();
    m = static_cast<T>(beta1_) * m + static_cast<T>(1 - beta1_) * g;
    v = static_cast<T>(beta2_) * v + static_cast<T>(1 - beta2_) * g.square();
    this->params()[i].value.array() -= step_size * (m / (v.sqrt() / bc2_sqrt + static_cast<T>(eps_)));
  }

  double beta1_, beta2_, eps_, weight_decay_;
  Decay decay_;
  std::size_t exp_avg_ = 0, exp_avg_sq_ = 0;
};

/// Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's torch.optim.AdamW.
template <class T>
class AdamW : public Adam<T> {
 public:
  /// AdamW over params with options; ConfigError for out-of-range options.
  explicit AdamW(std::vector<Parameter<T>> params, const AdamWOptions& options = {})
      : Adam<T>(std::move(params), {options.lr, options.betas, options.eps, options.weight_decay},
                Adam<T>::Decay::decoupled, "AdamW") {}
};

}  // namespace shallow
