/// \file
/// Learning-rate schedules as pure functions of the epoch (or of the step: the
/// schedule does not care which, as long as its lengths count the same unit).
/// lr_at(e) depends on nothing but e, so a resumed run computes the same rate
/// without any saved scheduler state. Epochs count from 0.
///
///   constant          lr
///   step              lr * gamma^floor(e / step_size)                (StepLR)
///   cosine            eta_min + (lr - eta_min) * (1 + cos(pi * e / t_max)) / 2
///                     for e < t_max, then eta_min   (CosineAnnealingLR, but
///                     held at eta_min instead of rising again)
///   linear            lr until the warm-up ends (epoch w, 0 without one),
///                     then straight down to eta_min at t_max, then eta_min:
///                     with a warm-up, the triangle of the CIFAR-10 speed-runs
///   with_warmup(w)    the schedule above, scaled by (e + 1) / (w + 1) for
///                     e < w: w epochs that ramp up linearly and never use a
///                     zero rate, then the schedule unchanged.
///
/// lr_at(step, steps_per_epoch) evaluates the same curves at the fractional
/// epoch step / steps_per_epoch, for a rate that changes at every step
/// rather than once an epoch (a cosine then falls smoothly, a warm-up ramps
/// from its first step; a step schedule still drops at whole epochs).
///
/// Text form, for command lines (parse_schedule; spec() writes it back):
///
///   schedule := [ "warmup:" W "+" ] decay
///   decay    := "constant"
///             | "step:" STEP_SIZE [ ":" GAMMA ]          GAMMA defaults to 0.1
///             | "cosine" [ ":" T_MAX [ ":" ETA_MIN ] ]   T_MAX defaults to the
///             | "linear" [ ":" T_MAX [ ":" ETA_MIN ] ]   run's epochs, ETA_MIN to 0;
///                                                        an empty T_MAX before an
///                                                        ETA_MIN is the run's epochs
///   e.g. "cosine", "step:30:0.1", "warmup:5+cosine", "warmup:2+step:10:0.5",
///        "warmup:3+linear:12:0.01", "warmup:3+linear::0.05"
///
/// The base rate is not part of the text: it comes with the optimizer's lr.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/format.hpp"

namespace shallow {

/// A learning rate as a function of the epoch alone (the contract in this file's comment).
class LrSchedule {
 public:
  /// lr every epoch. Every factory needs lr finite and >= 0; a bad argument is a ConfigError.
  static LrSchedule constant(double lr) { return LrSchedule(Kind::constant, lr); }

  /// lr * gamma^floor(e / step_size); step_size > 0, gamma finite and > 0.
  static LrSchedule step(double lr, std::int64_t step_size, double gamma = 0.1) {
    LrSchedule s(Kind::step, lr);
    check(step_size > 0, "step schedule: step_size must be > 0, got " + std::to_string(step_size));
    check(std::isfinite(gamma) && gamma > 0,
          "step schedule: gamma must be finite and > 0, got " + format_number(gamma));
    s.step_size_ = step_size;
    s.gamma_ = gamma;
    return s;
  }

  /// Cosine from lr down to eta_min over t_max epochs, then eta_min; t_max > 0, eta_min finite and >= 0.
  static LrSchedule cosine(double lr, std::int64_t t_max, double eta_min = 0) {
    return decaying(Kind::cosine, "cosine", lr, t_max, eta_min);
  }

  /// Linear decay from lr at the end of the warm-up to eta_min at t_max.
  static LrSchedule linear(double lr, std::int64_t t_max, double eta_min = 0) {
    return decaying(Kind::linear, "linear", lr, t_max, eta_min);
  }

  /// This schedule ramped up linearly over its first `epochs` epochs (>= 0; 0: none);
  /// ConfigError for a linear decay that would end before its warm-up does.
  LrSchedule with_warmup(std::int64_t epochs) const {
    check(epochs >= 0, "warm-up: epochs must be >= 0, got " + std::to_string(epochs));
    check(kind_ != Kind::linear || epochs < t_max_,
          "linear schedule: the warm-up (" + std::to_string(epochs) + " epochs) must end before t_max (" +
              std::to_string(t_max_) + ")");
    LrSchedule s = *this;
    s.warmup_ = epochs;
    return s;
  }

  /// The rate of epoch (>= 0, counted from 0).
  double lr_at(std::int64_t epoch) const {
    check(epoch >= 0, "lr schedule: epoch must be >= 0, got " + std::to_string(epoch));
    return at(static_cast<double>(epoch));
  }

  /// The rate at step `step` (counted from 0 over the whole run) of a run of
  /// steps_per_epoch steps an epoch.
  double lr_at(std::int64_t step, std::int64_t steps_per_epoch) const {
    check(step >= 0 && steps_per_epoch > 0, "lr schedule: need step >= 0 and steps_per_epoch > 0, got " +
                                                std::to_string(step) + " and " + std::to_string(steps_per_epoch));
    return at(static_cast<double>(step) / static_cast<double>(steps_per_epoch));
  }

  /// The text form, which parse_schedule reads back to this schedule.
  std::string spec() const {
    std::string decay;
    switch (kind_) {
      case Kind::constant: decay = "constant"; break;
      case Kind::step: decay = "step:" + std::to_string(step_size_) + ":" + format_number(gamma_); break;
      case Kind::cosine: decay = "cosine:" + std::to_string(t_max_) + ":" + format_number(eta_min_); break;
      case Kind::linear: decay = "linear:" + std::to_string(t_max_) + ":" + format_number(eta_min_); break;
    }
    return warmup_ > 0 ? "warmup:" + std::to_string(warmup_) + "+" + decay : decay;
  }

 private:
  enum class Kind { constant, step, cosine, linear };

  LrSchedule(Kind kind, double lr) : kind_(kind), lr_(lr) {
    check(std::isfinite(lr) && lr >= 0, "lr schedule: lr must be finite and >= 0, got " + format_number(lr));
  }

  static void check(bool ok, const std::string& what) {
    if (!ok) throw ConfigError(what);
  }

  // A decay from lr to eta_min over t_max epochs (cosine, linear), its
  // arguments checked with the schedule's name in the message.
  static LrSchedule decaying(Kind kind, const char* name, double lr, std::int64_t t_max, double eta_min) {
    LrSchedule s(kind, lr);
    check(t_max > 0, std::string(name) + " schedule: t_max must be > 0, got " + std::to_string(t_max));
    check(std::isfinite(eta_min) && eta_min >= 0,
          std::string(name) + " schedule: eta_min must be finite and >= 0, got " + format_number(eta_min));
    s.t_max_ = t_max;
    s.eta_min_ = eta_min;
    return s;
  }

  // At a whole epoch e every expression below is what it was before
  // fractional epochs existed, bit for bit.
  double at(double epoch) const {
    const double lr = decayed(epoch), w = static_cast<double>(warmup_);
    if (epoch < w) return lr * (epoch + 1) / (w + 1);
    return lr;
  }

  double decayed(double epoch) const {
    const double t_max = static_cast<double>(t_max_);
    switch (kind_) {
      case Kind::step: return lr_ * std::pow(gamma_, std::floor(epoch / static_cast<double>(step_size_)));
      case Kind::cosine: {
        if (epoch >= t_max) return eta_min_;
        constexpr double pi = 3.14159265358979323846;
        return eta_min_ + (lr_ - eta_min_) * (1 + std::cos(pi * epoch / t_max)) / 2;
      }
      case Kind::linear: {
        const double w = static_cast<double>(warmup_);
        if (epoch >= t_max) return eta_min_;
        if (epoch <= w) return lr_;
        return lr_ + (eta_min_ - lr_) * (epoch - w) / (t_max - w);
      }
      case Kind::constant: break;
    }
    return lr_;
  }

  Kind kind_;
  double lr_;
  std::int64_t step_size_ = 0, t_max_ = 0, warmup_ = 0;
  double gamma_ = 1, eta_min_ = 0;
};

namespace detail {

// "a:b:" -> {"a", "b", ""}: an empty field stays, so a stray ':' is an error.
inline std::vector<std::string> split_fields(const std::string& text) {
  std::vector<std::string> fields;
  std::size_t begin = 0;
  for (auto colon = text.find(':'); colon != std::string::npos; colon = text.find(':', begin)) {
    fields.push_back(text.substr(begin, colon - begin));
    begin = colon + 1;
  }
  fields.push_back(text.substr(begin));
  return fields;
}

template <class Number>
Number parse_field(const std::string& text, const std::string& field, const char* what) {
  Number v{};
  SHALLOW_CHECK(parse_number(field, v), ConfigError,
                "lr schedule '" + text + "': " + what + " '" + field + "' is not a number");
  return v;
}

}  // namespace detail

/// Reads the text form above; lr is the base rate, epochs the length of the run
/// (cosine's default t_max). Throws shallow::Error on anything else.
inline LrSchedule parse_schedule(const std::string& text, double lr, std::int64_t epochs) {
  const std::string warmup_prefix = "warmup:";
  std::string decay = text;
  std::int64_t warmup = 0;
  if (starts_with(decay, warmup_prefix)) {
    const auto plus = decay.find('+');
    if (plus == std::string::npos)
      throw ConfigError("lr schedule '" + text + "': expected warmup:W+<schedule>, e.g. warmup:5+cosine");
    warmup = detail::parse_field<std::int64_t>(text, decay.substr(warmup_prefix.size(), plus - warmup_prefix.size()),
                                               "warm-up epochs");
    decay = decay.substr(plus + 1);
  }
  const auto f = detail::split_fields(decay);
  const auto integer = [&](std::size_t i, const char* what) {
    return detail::parse_field<std::int64_t>(text, f[i], what);
  };
  const auto number = [&](std::size_t i, const char* what) { return detail::parse_field<double>(text, f[i], what); };
  const std::size_t args = f.size() - 1;
  const auto t_max = [&] { return args == 0 || (args == 2 && f[1].empty()) ? epochs : integer(1, "t_max"); };
  if (f[0] == "constant" && args == 0) return LrSchedule::constant(lr).with_warmup(warmup);
  if (f[0] == "step" && (args == 1 || args == 2))
    return LrSchedule::step(lr, integer(1, "step size"), args == 2 ? number(2, "gamma") : 0.1).with_warmup(warmup);
  if (f[0] == "cosine" && args <= 2)
    return LrSchedule::cosine(lr, t_max(), args == 2 ? number(2, "eta_min") : 0.0)
        .with_warmup(warmup);
  if (f[0] == "linear" && args <= 2)
    return LrSchedule::linear(lr, t_max(), args == 2 ? number(2, "eta_min") : 0.0)
        .with_warmup(warmup);
  throw ConfigError("lr schedule '" + text +
                    "': expected [warmup:W+]constant, step:STEP_SIZE[:GAMMA], cosine[:T_MAX[:ETA_MIN]] or "
                    "linear[:T_MAX[:ETA_MIN]]");
}

}  // namespace shallow
