/// \file
/// im2col and its adjoint col2im: the data movement that turns a convolution
/// into one matrix product. For one image (C x H x W) and a k x k kernel, col
/// is a (C*k*k) x (out_h*out_w) row-major matrix whose row (c, ky, kx) holds,
/// for every output pixel, the input value that the kernel tap (ky, kx) of
/// channel c sees there (0 in the padding).
#pragma once

#include <algorithm>

#include "../core/tensor.hpp"
#include "conv_geometry.hpp"

namespace shallow {


namespace detail {
// The output columns [lo, hi) whose tap at offset `shift` (= kx - pad_left)
// lands inside a row of `extent` input pixels: 0 <= ox*stride + shift < extent.
inline Range valid_outputs(Index shift, Index extent, Index stride, Index out) {
  const Index lo = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
  const Index last = extent - 1 - shift;
  const Index hi = last < 0 ? 0 : std::min(out, last / stride + 1);
  return {std::min(lo, hi), hi};
}
}  // namespace detail

/// Fills col ((C*k*k) x (out_h*out_w), row-major) from image x (C x H x W) of geometry g, 0 in the padding.
template <class T>
void im2col(const ConvGeometry& g, const T* x, T* col) {
  const Index s = g.stride;
  for (Index c = 0; c < g.channels; ++c)
    for (Index ky = 0; ky < g.kernel; ++ky)
      for (Index kx = 0; kx < g.kernel; ++kx) {
        T* row = col + ((c * g.kernel + ky) * g.kernel + kx) * g.cols();
        const Index shift = kx - g.pad_left;
        const Range r = detail::valid_outputs(shift, g.width, s, g.out_w);
        for (Index oy = 0; oy < g.out_h; ++oy) {
          T* dst = row + oy * g.out_w;
          const Index iy = oy * s - g.pad_top + ky;
          if (iy < 0 || iy >= g.height) {
            std::fill(dst, dst + g.out_w, T(0));
            continue;
          }
          const T* src = x + (c * g.height + iy) * g.width;
          std::fill(dst, dst + r.begin, T(0));
          if (s == 1)
            std::copy(src + (r.begin + shift), src + (r.end + shift), dst + r.begin);
          else
            for (Index ox = r.begin; ox < r.end; ++ox) dst[ox] = src[ox * s + shift];
          std::fill(dst + r.end, dst + g.out_w, T(0));
        }
      }
}

/// The adjoint of im2col: ADDS each col entry back onto the input pixel it was
/// copied from. The caller zeroes x first.
template <class T>
void col2im(const ConvGeometry& g, const T* col, T* x) {
  const Index s = g.stride;
  for (Index c = 0; c < g.channels; ++c)
    for (Index ky = 0; ky < g.kernel; ++ky)
      for (Index kx = 0; kx < g.kernel; ++kx) {
        const T* row = col + ((c * g.kernel + ky) * g.kernel + kx) * g.cols();
        const Index shift = kx - g.pad_left;
        const Range r = detail::valid_outputs(shift, g.width, s, g.out_w);
        for (Index oy = 0; oy < g.out_h; ++oy) {
          const Index iy = oy * s - g.pad_top + ky;
          if (iy < 0 || iy >= g.height) continue;
          const T* src = row + oy * g.out_w;
          T* dst = x + (c * g.height + iy) * g.width;
          for (Index ox = r.begin; ox < r.end; ++ox) dst[ox * s + shift] += src[ox];
        }
      }
}

}  // namespace shallow
