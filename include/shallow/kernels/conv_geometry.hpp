/// \file
/// The geometry of one convolution problem: sizes of one input sample, the
/// kernel, stride and padding, and what follows from them. Every convolution
/// algorithm is prepared for, and accepts or refuses, a geometry.
#pragma once

#include <algorithm>
#include <string>

#include "../core/error.hpp"
#include "../core/tensor.hpp"

namespace shallow {

/// Padding that keeps out = ceil(in / stride); for an even kernel the extra
/// row/column goes to the bottom/right, as in PyTorch and TensorFlow.
inline constexpr Index same_padding = -1;

/// One convolution problem (the contract in this file's comment); conv_geometry() fills it.
struct ConvGeometry {
  ///@{
  /// One input sample: channels x height x width.
  Index channels = 0, height = 0, width = 0;  // one input sample
  ///@}
  /// Output channels (filters).
  Index out_channels = 0;
  ///@{
  /// Kernel side and stride.
  Index kernel = 0, stride = 1;
  ///@}
  ///@{
  /// Padding above and left of the input; bottom/right padding follows from out_h/out_w.
  Index pad_top = 0, pad_left = 0;  // bottom/right padding follows from out_h/out_w
  ///@}
  ///@{
  /// Output height and width.
  Index out_h = 0, out_w = 0;
  ///@}

  /// Rows of the im2col matrix: channels * kernel * kernel.
  Index rows() const { return channels * kernel * kernel; }  // of the im2col matrix
  /// Columns of the im2col matrix: out_h * out_w.
  Index cols() const { return out_h * out_w; }
  /// Values of one input sample.
  Index in_size() const { return channels * height * width; }
  /// Values of one output sample.
  Index out_size() const { return out_channels * out_h * out_w; }
  /// 1x1, stride 1, no padding: the image itself is already its col matrix.
  bool pointwise() const { return kernel == 1 && stride == 1 && pad_top == 0 && pad_left == 0; }
  /// Stride 1 and the output as large as the input ('same' padding).
  bool keeps_size() const { return stride == 1 && out_h == height && out_w == width; }
  /// Multiply-adds of one image's forward pass, as a direct convolution does them.
  double macs() const { return double(out_size()) * double(rows()); }

  /// Equal in every field.
  bool operator==(const ConvGeometry& o) const {
    return channels == o.channels && height == o.height && width == o.width && out_channels == o.out_channels &&
           kernel == o.kernel && stride == o.stride && pad_top == o.pad_top && pad_left == o.pad_left &&
           out_h == o.out_h && out_w == o.out_w;
  }
  /// Different in some field.
  bool operator!=(const ConvGeometry& o) const { return !(*this == o); }
};

/// "C->O HxW kK sS pad T,L", for messages.
inline std::string to_string(const ConvGeometry& g) {
  return std::to_string(g.channels) + "->" + std::to_string(g.out_channels) + " " + std::to_string(g.height) + "x" +
         std::to_string(g.width) + " k" + std::to_string(g.kernel) + " s" + std::to_string(g.stride) + " pad " +
         std::to_string(g.pad_top) + "," + std::to_string(g.pad_left);
}

/// The geometry of a convolution of `channels` -> `out_channels` over
/// height x width images; padding >= 0 or same_padding. ShapeError when the
/// padded input is smaller than the kernel.
inline ConvGeometry conv_geometry(Index channels, Index out_channels, Index kernel, Index stride, Index padding,
                                  Index height, Index width) {
  ConvGeometry g;
  g.channels = channels;
  g.out_channels = out_channels;
  g.height = height;
  g.width = width;
  g.kernel = kernel;
  g.stride = stride;
  if (padding == same_padding) {
    g.out_h = (height + stride - 1) / stride;
    g.out_w = (width + stride - 1) / stride;
    g.pad_top = std::max<Index>((g.out_h - 1) * stride + kernel - height, 0) / 2;
    g.pad_left = std::max<Index>((g.out_w - 1) * stride + kernel - width, 0) / 2;
  } else {
    SHALLOW_CHECK(height + 2 * padding >= kernel && width + 2 * padding >= kernel, ShapeError,
                  "convolution: input " + std::to_string(height) + "x" + std::to_string(width) + " padded by " +
                      std::to_string(padding) + " is smaller than the kernel " + std::to_string(kernel));
    g.out_h = (height + 2 * padding - kernel) / stride + 1;
    g.out_w = (width + 2 * padding - kernel) / stride + 1;
    g.pad_top = g.pad_left = padding;
  }
  return g;
}

}  // namespace shallow
