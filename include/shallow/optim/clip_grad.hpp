/// \file
/// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: the
/// gradients of all parameters, seen as one vector, are scaled down so that
/// their L2 norm is at most max_norm.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/format.hpp"
#include "../core/tensor.hpp"

namespace shallow {

/// Returns the total norm before clipping. Scales every gradient by
/// max_norm / (total + 1e-6) when that is below 1; the 1e-6 keeps the division
/// finite when all gradients are 0. Squares are summed in double, so float
/// gradients cannot overflow the sum. A non-finite total (a NaN or inf
/// gradient) is returned and the gradients are left as they are (PyTorch would
/// turn them into NaNs and zeros): the caller checks it.
template <class T>
double clip_grad_norm(std::vector<Parameter<T>>& params, double max_norm) {
  SHALLOW_CHECK(max_norm >= 0, ConfigError, "clip_grad_norm: max_norm must be >= 0, got " + format_number(max_norm));
  double sum = 0;
  for (const auto& p : params) sum += p.grad.template cast<double>().squaredNorm();
  const double total = std::sqrt(sum);
  const double scale = max_norm / (total + 1e-6);
  if (std::isfinite(total) && scale < 1)
    for (auto& p : params) p.grad *= static_cast<T>(scale);
  return total;
}

/// For a parameter list made on the spot: clip_grad_norm(model.parameters(), 5).
template <class T>
double clip_grad_norm(std::vector<Parameter<T>>&& params, double max_norm) {
  return clip_grad_norm(params, max_norm);
}

}  // namespace shallow
