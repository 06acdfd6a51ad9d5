/// \file
/// The optimizer base: holds the parameter views, the learning rate, the step
/// count and the per-parameter state vectors (momentum, Adam's moments), and
/// saves/restores that state so a resumed run continues bit-identically.
///
/// A derived optimizer declares its state kinds with add_slot() in its
/// constructor and implements update(); step() calls update() and counts.
/// Gradients are read, never modified: zero_grad() is the caller's job, as
/// layers accumulate into them.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/format.hpp"
#include "../core/tensor.hpp"

namespace shallow {

/// Everything an optimizer needs besides its options to continue a run: the
/// number of steps taken and one named flat vector per (parameter, state
/// kind), in parameter order, named "<parameter>.<kind>" (e.g.
/// "conv1.weight.exp_avg").
template <class T>
struct OptimizerState {
  /// Steps taken.
  std::int64_t steps = 0;
  /// The state tensors, named parameter.kind (e.g. conv1.weight.exp_avg).
  std::vector<std::pair<std::string, VectorX<T>>> tensors;
};

/// Updates a fixed list of parameters from their gradients; step() once per batch after backward.
template <class T>
class Optimizer {
 public:
  /// The scalar type of the parameters.
  using Scalar = T;

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every parameter from its current gradient.
  void step() {
    update(steps_ + 1);
    ++steps_;
  }

  /// Zeroes every parameter's gradient.
  void zero_grad() {
    for (auto& p : params_) p.grad.setZero();
  }

  /// The learning rate of the next step.
  double lr() const { return lr_; }
  /// Sets the learning rate (finite, >= 0; ConfigError otherwise), e.g. from an LrSchedule.
  void set_lr(double lr) {
    check_lr(lr);
    lr_ = lr;
  }

  /// Steps taken so far.
  std::int64_t steps() const { return steps_; }

  /// A copy of the step count and state tensors, for a checkpoint.
  OptimizerState<T> state() const {
    OptimizerState<T> s;
    s.steps = steps_;
    for (std::size_t i = 0; i < params_.size(); ++i)
      for (std::size_t k = 0; k < slot_kinds_.size(); ++k) s.tensors.emplace_back(state_name(i, k), slots_[k][i]);
    return s;
  }

  /// Checks everything before changing anything, so a mismatched state
  /// (another model, another optimizer) leaves this optimizer as it was.
  void load_state(const OptimizerState<T>& s) {
    if (s.steps < 0) throw ShapeError("optimizer state: negative step count " + std::to_string(s.steps));
    const std::size_t expected = params_.size() * slot_kinds_.size();
    if (s.tensors.size() != expected)
      throw ShapeError("optimizer state: expected " + std::to_string(expected) + " tensors, got " +
                       std::to_string(s.tensors.size()));
    for (std::size_t i = 0, t = 0; i < params_.size(); ++i)
      for (std::size_t k = 0; k < slot_kinds_.size(); ++k, ++t) {
        const auto& [name, values] = s.tensors[t];
        if (name != state_name(i, k))
          throw ShapeError("optimizer state: tensor " + std::to_string(t) + " is '" + name + "', expected '" +
                           state_name(i, k) + "'");
        if (values.size() != params_[i].value.size())
          throw ShapeError("optimizer state: '" + name + "' has " + std::to_string(values.size()) +
                           " values, the parameter " + std::to_string(params_[i].value.size()));
      }
    for (std::size_t i = 0, t = 0; i < params_.size(); ++i)
      for (std::size_t k = 0; k < slot_kinds_.size(); ++k, ++t) slots_[k][i] = s.tensors[t].second;
    steps_ = s.steps;
  }

 protected:
  /// An empty list is refused: an optimizer built before the layers were
  /// added would otherwise train nothing without a word.
  Optimizer(std::vector<Parameter<T>> params, double lr) : params_(std::move(params)) {
    SHALLOW_CHECK(!params_.empty(), ConfigError,
                  "optimizer: the parameter list is empty (build it after the network's layers are added)");
    for (const auto& p : params_)
      if (p.value.size() != p.grad.size())
        throw ShapeError("optimizer: parameter '" + p.name + "' has " + std::to_string(p.value.size()) +
                         " values but " + std::to_string(p.grad.size()) + " gradients");
    set_lr(lr);
  }

  /// step is 1 on the first call, as PyTorch's per-parameter step count.
  virtual void update(std::int64_t step) = 0;

  /// Declares a state kind: one zero vector per parameter. Returns its id.
  std::size_t add_slot(std::string kind) {
    slot_kinds_.push_back(std::move(kind));
    auto& vectors = slots_.emplace_back();
    for (const auto& p : params_) vectors.push_back(VectorX<T>::Zero(p.value.size()));
    return slots_.size() - 1;
  }
  /// The state vector of slot id for parameter param.
  VectorX<T>& slot(std::size_t id, std::size_t param) { return slots_[id][param]; }

  /// The parameters being optimised.
  std::vector<Parameter<T>>& params() { return params_; }

 private:
  static void check_lr(double lr) {
    SHALLOW_CHECK(std::isfinite(lr) && lr >= 0, ConfigError, "optimizer: lr must be finite and >= 0, got " + format_number(lr));
  }
  std::string state_name(std::size_t param, std::size_t kind) const {
    return params_[param].name + "." + slot_kinds_[kind];
  }

  std::vector<Parameter<T>> params_;
  double lr_ = 0;
  std::int64_t steps_ = 0;
  std::vector<std::string> slot_kinds_;
  std::vector<std::vector<VectorX<T>>> slots_;  // [kind][parameter]
};

}  // namespace shallow
