/// \file
/// Which convolution algorithm takes a geometry, and the factory that makes
/// one. Conv2d asks here when its options leave the choice to the library.
#pragma once

#include <algorithm>
#include <memory>

#include "blocked_conv.hpp"
#include "conv_kernel.hpp"
#include "im2col_conv.hpp"
#include "plane_conv.hpp"
#include "winograd_conv.hpp"

namespace shallow {

/// Every algorithm a convolution can be forced to (all but automatic).
inline constexpr ConvAlgorithm conv_algorithms[] = {ConvAlgorithm::im2col, ConvAlgorithm::planes,
                                                    ConvAlgorithm::winograd, ConvAlgorithm::blocked};

/// Whether `a` can compute geometry g (automatic: always).
inline bool conv_accepts(ConvAlgorithm a, const ConvGeometry& g) {
  switch (a) {
    case ConvAlgorithm::automatic: return true;
    case ConvAlgorithm::im2col: return Im2colConv<float>::accepts(g);
    case ConvAlgorithm::planes: return PlaneConv<float>::accepts(g);
    case ConvAlgorithm::winograd: return WinogradConv<float>::accepts(g);
    case ConvAlgorithm::blocked: return BlockedConv<float>::accepts(g);
  }
  return false;
}

/// The library's choice for g: Winograd for the 3x3 and 5x5 'same'
/// convolutions it takes with at least 8 channels in and out, and 12 (5x5:
/// 16) on one side or images of at most 16x16 (3x3: its step 1.15-9x faster
/// than planes' there, elsewhere up to 2.9x slower or within 20%, 40 shapes;
/// 5x5: 1.3-3.6x faster there, elsewhere 1.3-6x slower, 11 shapes; batch 64,
/// 1 thread); else the plane kernels for every stride-1 'same' convolution
/// they take (faster than im2col + GEMM on every such shape measured),
/// im2col + GEMM for the rest.
inline ConvAlgorithm choose_conv_algorithm(const ConvGeometry& g) {
  const Index narrow = std::min(g.channels, g.out_channels), wide = std::max(g.channels, g.out_channels);
  const Index wide_enough = g.kernel == 3 ? 12 : 16;
  if (WinogradConv<float>::accepts(g) && narrow >= 8 && (wide >= wide_enough || g.height * g.width <= 256))
    return ConvAlgorithm::winograd;
  return PlaneConv<float>::accepts(g) ? ConvAlgorithm::planes : ConvAlgorithm::im2col;
}

/// A new kernel for algorithm a; ConfigError for automatic (ask choose_conv_algorithm() first).
template <class T>
std::unique_ptr<ConvKernel<T>> make_conv_kernel(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::im2col: return std::make_unique<Im2colConv<T>>();
    case ConvAlgorithm::planes: return std::make_unique<PlaneConv<T>>();
    case ConvAlgorithm::winograd: return std::make_unique<WinogradConv<T>>();
    case ConvAlgorithm::blocked: return std::make_unique<BlockedConv<T>>();
    case ConvAlgorithm::automatic: break;
  }
  throw ConfigError(std::string("make_conv_kernel: no kernel for algorithm '") + to_string(a) + "'");
}

}  // namespace shallow
