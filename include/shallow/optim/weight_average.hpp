/// \file
/// Weight averaging: an exponential moving average (EMA) of a model's
/// parameters and buffers (BatchNorm's running statistics with them, so the
/// averaged weights are evaluated with statistics that match them), kept
/// beside the model and swapped in for evaluation. After every optimizer
/// step, update() moves each average towards the model's value:
///
///   avg = d_t * avg + (1 - d_t) * value,   d_t = min(decay, (1 + t) / (10 + t))
///
/// where t counts the updates before this one; the warm-up of d_t lets the
/// first updates follow the fast-moving early weights instead of keeping the
/// initial ones. The averages start as the model's values when the
/// WeightAverage is made.
///
/// update(d) takes a decay of the caller's instead (a schedule of its own);
/// copy_to_model() sets the model's values to the averages (Lookahead's
/// pull-back of the fast weights); reset() restarts the averages at the
/// model's values.
///
/// swap() exchanges the averages and the model's values (a second swap()
/// undoes it); AverageSwap does the pair around a scope. state() and
/// load_state() give the averages and the update count as named vectors
/// ("<parameter or buffer name>", steps = updates), so a checkpoint can carry
/// them and a resumed run continues the same averages.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/format.hpp"
#include "../core/tensor.hpp"
#include "optimizer.hpp"

namespace shallow {

/// An exponential moving average of a model's parameters and buffers (the contract in this file's comment).
template <class T>
class WeightAverage {
 public:
  /// decay in [0, 1): 0 keeps the latest values only.
  WeightAverage(std::vector<Parameter<T>> params, std::vector<Buffer<T>> buffers, double decay)
      : decay_(decay) {
    SHALLOW_CHECK(std::isfinite(decay) && decay >= 0 && decay < 1, ConfigError,
                  "WeightAverage: decay must be in [0, 1), got " + format_number(decay));
    for (auto& p : params) add(p.name, p.value);
    for (auto& b : buffers) add(b.name, b.value);
    SHALLOW_CHECK(!values_.empty(), ConfigError, "WeightAverage: nothing to average (no parameters or buffers)");
  }
  /// A model's parameters and buffers: WeightAverage(net, 0.99).
  template <class Model>
  WeightAverage(Model& model, double decay) : WeightAverage(model.parameters(), model.buffers(), decay) {}

  WeightAverage(const WeightAverage&) = delete;
  WeightAverage& operator=(const WeightAverage&) = delete;

  /// The decay per update.
  double decay() const { return decay_; }
  /// Updates so far.
  std::int64_t updates() const { return updates_; }
  /// The d_t the next update uses.
  double next_decay() const {
    const double t = static_cast<double>(updates_);
    return std::min(decay_, (1 + t) / (10 + t));
  }

  /// Moves every average towards the model's value (ConfigError while swapped in).
  void update() { update(next_decay()); }
  /// The same with decay d in [0, 1] (1 keeps the averages), ConfigError otherwise.
  void update(double d) {
    SHALLOW_CHECK(!swapped_, ConfigError, "WeightAverage::update: the averages are swapped in (swap back first)");
    SHALLOW_CHECK(d >= 0 && d <= 1, ConfigError, "WeightAverage::update: decay must be in [0, 1], got " + format_number(d));
    for (std::size_t i = 0; i < values_.size(); ++i)
      averages_[i] = T(d) * averages_[i] + (T(1) - T(d)) * values_[i];
    ++updates_;
  }
  /// Sets the model's values to the averages (ConfigError while swapped in).
  void copy_to_model() {
    SHALLOW_CHECK(!swapped_, ConfigError, "WeightAverage::copy_to_model: the averages are swapped in (swap back first)");
    for (std::size_t i = 0; i < values_.size(); ++i) values_[i] = averages_[i];
  }
  /// Sets every average to the model's value, and the update count to 0 (ConfigError while swapped in).
  void reset() {
    SHALLOW_CHECK(!swapped_, ConfigError, "WeightAverage::reset: the averages are swapped in (swap back first)");
    for (std::size_t i = 0; i < values_.size(); ++i) averages_[i] = values_[i];
    updates_ = 0;
  }

  /// Exchanges the averages with the model's values.
  void swap() {
    for (std::size_t i = 0; i < values_.size(); ++i) values_[i].swap(averages_[i]);
    swapped_ = !swapped_;
  }
  /// Whether the averages are in the model now.
  bool swapped() const { return swapped_; }

  /// The averages, named as the model names its parameters and buffers;
  /// steps holds the update count.
  OptimizerState<T> state() const {
    SHALLOW_CHECK(!swapped_, ConfigError, "WeightAverage::state: the averages are swapped in (swap back first)");
    OptimizerState<T> s;
    s.steps = updates_;
    for (std::size_t i = 0; i < values_.size(); ++i) s.tensors.emplace_back(names_[i], averages_[i]);
    return s;
  }

  /// Checks everything before changing anything: a state of another model
  /// is a ShapeError and leaves this one as it was.
  void load_state(const OptimizerState<T>& s) {
    SHALLOW_CHECK(!swapped_, ConfigError, "WeightAverage::load_state: the averages are swapped in (swap back first)");
    SHALLOW_CHECK(s.steps >= 0, ShapeError, "weight average state: negative update count " + std::to_string(s.steps));
    SHALLOW_CHECK(s.tensors.size() == values_.size(), ShapeError,
                  "weight average state: " + std::to_string(s.tensors.size()) + " tensors, the model has " +
                      std::to_string(values_.size()));
    for (std::size_t i = 0; i < values_.size(); ++i)
      SHALLOW_CHECK(s.tensors[i].first == names_[i] && s.tensors[i].second.size() == values_[i].size(), ShapeError,
                    "weight average state: tensor " + std::to_string(i) + " is '" + s.tensors[i].first + "' of " +
                        std::to_string(s.tensors[i].second.size()) + " values, the model's '" + names_[i] + "' of " +
                        std::to_string(values_[i].size()));
    for (std::size_t i = 0; i < values_.size(); ++i) averages_[i] = s.tensors[i].second;
    updates_ = s.steps;
  }

 private:
  void add(const std::string& name, VectorMap<T>& value) {
    names_.push_back(name);
    values_.push_back(value);
    averages_.push_back(value);
  }

  double decay_;
  std::int64_t updates_ = 0;
  bool swapped_ = false;
  std::vector<std::string> names_;
  std::vector<VectorMap<T>> values_;  // views of the model
  std::vector<VectorX<T>> averages_;
};

/// Swaps a WeightAverage's averages in for the lifetime of the scope, and
/// back out however the scope ends; null: does nothing.
template <class T>
class AverageSwap {
 public:
  /// Swaps average in (if not null).
  explicit AverageSwap(WeightAverage<T>* average) : average_(average) {
    if (average_) average_->swap();
  }
  /// Swaps back.
  ~AverageSwap() {
    if (average_) average_->swap();
  }
  AverageSwap(const AverageSwap&) = delete;
  AverageSwap& operator=(const AverageSwap&) = delete;

 private:
  WeightAverage<T>* average_;
};

}  // namespace shallow
