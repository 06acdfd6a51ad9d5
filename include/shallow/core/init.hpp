/// \file
/// Parameter initialisation. Layers draw from an Rng passed in, so one seed
/// fixes a whole model; a layer built on its own uses default_seed.
#pragma once

#include <cmath>
#include <cstdint>

#include "random.hpp"
#include "tensor.hpp"

namespace shallow {

/// The seed of a layer built without an Rng.
inline constexpr std::uint64_t default_seed = 0x5ba11;

/// PyTorch's default: weights and biases uniform in +-1/sqrt(fan_in)
/// (kaiming_uniform with a = sqrt(5)).
template <class T>
void init_uniform(Rng& rng, T* p, Index n, Index fan_in) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  for (Index i = 0; i < n; ++i) p[i] = static_cast<T>(rng.uniform(-bound, bound));
}

}  // namespace shallow
