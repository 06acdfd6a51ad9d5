/// \file
/// The padded-plane layout and the register-tiled kernels of PlaneConv.
///
/// Stride-1 convolutions that keep the image size ('same' padding) skip
/// im2col altogether ("implicit im2col"). Each channel is stored once as a
/// zero-padded plane of (height + k-1) x (width + k-1) pixels, flattened with
/// row length wp. Output pixel q = oy*wp + ox then sees kernel tap (ky, kx) at
/// plane position q + ky*wp + kx, so every tap reads one contiguous, shifted
/// run of the plane and a convolution becomes a sum of shifted rows: the
/// im2col matrix is never written, only read in place. Output rows carry k-1
/// junk columns (ox >= width), which copy-out drops. Backward-data is the
/// same correlation of the padded gradient with the flipped, transposed
/// weights; backward-weights correlates the padded input with the padded
/// gradient, whose junk columns are zero.
#pragma once

#include <algorithm>
#include <type_traits>
#include <utility>

#include "../core/tensor.hpp"

namespace shallow {

/// The sizes of the padded planes of one convolution.
struct PlaneLayout {
  ///@{
  /// Kernel side, and the image's height and width.
  Index kernel = 0, height = 0, width = 0;
  ///@}
  /// Padded row length.
  Index wp = 0;      // padded row length
  /// Outputs computed per plane: height * wp rounded up to whole tiles.
  Index span = 0;    // outputs computed per plane: height*wp rounded up to whole tiles
  /// Distance between planes: span plus the largest tap offset, rounded up.
  Index stride = 0;  // distance between planes: span plus the largest tap offset, rounded up

  /// The plane position of input pixel (0, 0) when padded by (top, left).
  Index origin(Index top, Index left) const { return top * wp + left; }
  /// Position of tap (c, ky, kx) relative to output q in a stack of planes.
  Index tap(Index c, Index ky, Index kx) const { return c * stride + ky * wp + kx; }
};

namespace detail {

template <class T>
using Packet = typename Eigen::internal::packet_traits<T>::type;
template <class T>
inline constexpr Index lanes = Eigen::internal::unpacket_traits<Packet<T>>::size;

// dw[e] += the sum of the lanes of packet e of dwv, for e < count.
template <class T>
void sum_lanes(const T* dwv, Index count, T* dw) {
  constexpr Index L = lanes<T>;
  for (Index e = 0; e < count; ++e, dwv += L) {
    T s = T(0);
    for (Index l = 0; l < L; ++l) s += dwv[l];
    dw[e] += s;
  }
}

// Register tiles sized to the vector register file (32 with AVX-512, else
// 16): the forward tile holds out_rows x out_vectors accumulators, the
// weight-gradient tile grad_rows x grad_taps. The AVX-512 shapes are the
// fastest of those measured (docs/performance.md).
inline constexpr bool many_registers = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32;
inline constexpr int out_rows = many_registers ? 8 : 4;
inline constexpr int out_vectors = 3;
inline constexpr int grad_rows = many_registers ? 5 : 2;
inline constexpr int grad_taps = 5;
// Output positions the weight-gradient tile covers per call, at least: the
// images of a batch are taken in groups of grad_positions / span, so that on
// small images (8x8: span 96) a tile's sums are not read and written back
// for every image.
inline constexpr Index grad_positions = 1024;

// Calls f(std::integral_constant<int, n>) for a run-time n in [Lo, N], so a
// remainder tile gets its own fully unrolled instance. Inlined, so that
// registers held across calls (a weight gradient's sums) stay registers.
template <int N, int Lo = 1, class F>
EIGEN_ALWAYS_INLINE void with_count(Index n, F&& f) {
  if constexpr (N > Lo)
    if (n < N) return with_count<N - 1, Lo>(n, std::forward<F>(f));
  f(std::integral_constant<int, N>{});
}

// out[i*out_stride + q] = sum_j w[j*R + i] * in[off[j] + q] for i < R and
// q < span (a multiple of out_vectors * lanes).
template <class T, int R>
void correlate_rows(const T* w, Index taps, const Index* off, const T* in, Index span, T* out,
                    Index out_stride) {
  using P = Packet<T>;
  constexpr Index L = lanes<T>;
  constexpr int V = out_vectors;
  for (Index q = 0; q < span; q += V * L) {
    P acc[R][V];
    for (int i = 0; i < R; ++i)
      for (int v = 0; v < V; ++v) acc[i][v] = Eigen::internal::pset1<P>(T(0));
    const T* wj = w;
    for (Index j = 0; j < taps; ++j, wj += R) {
      const T* src = in + off[j] + q;
      P x[V];
      for (int v = 0; v < V; ++v) x[v] = Eigen::internal::ploadu<P>(src + v * L);
      for (int i = 0; i < R; ++i) {
        const P wi = Eigen::internal::pset1<P>(wj[i]);
        for (int v = 0; v < V; ++v) acc[i][v] = Eigen::internal::pmadd(wi, x[v], acc[i][v]);
      }
    }
    for (int i = 0; i < R; ++i)
      for (int v = 0; v < V; ++v) Eigen::internal::pstoreu(out + i * out_stride + q + v * L, acc[i][v]);
  }
}

// dw[i][j] += sum_{q < span} dy[i*dy_stride + q] * in[off[j] + q] for i < R,
// j < J, summed over `images` images (the next image's planes start dy_image
// and in_image further on). PerLane keeps the sums per lane: dw[i][j] is then
// a packet at dw + (i*dw_stride + j) * lanes, whose lanes sum_lanes adds up
// once per batch; otherwise dw[i][j] is the scalar at dw + i*dw_stride + j.
template <class T, int R, int J, bool PerLane>
void correlate_grad(const T* dy, Index dy_stride, Index dy_image, const T* in, Index in_image, const Index* off,
                    Index span, Index images, T* dw, Index dw_stride) {
  using P = Packet<T>;
  constexpr Index L = lanes<T>;
  P acc[R][J];
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < J; ++j) acc[i][j] = Eigen::internal::pset1<P>(T(0));
  for (Index image = 0; image < images; ++image, dy += dy_image, in += in_image)
    for (Index q = 0; q < span; q += L) {
      P d[R];
      for (int i = 0; i < R; ++i) d[i] = Eigen::internal::ploadu<P>(dy + i * dy_stride + q);
      for (int j = 0; j < J; ++j) {
        const P x = Eigen::internal::ploadu<P>(in + off[j] + q);
        for (int i = 0; i < R; ++i) acc[i][j] = Eigen::internal::pmadd(d[i], x, acc[i][j]);
      }
    }
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < J; ++j) {
      if constexpr (PerLane) {
        T* to = dw + (i * dw_stride + j) * L;
        Eigen::internal::pstoreu(to, Eigen::internal::padd(Eigen::internal::ploadu<P>(to), acc[i][j]));
      } else {
        // Not predux: GCC 12 flags its AVX-512 double reduction as uninitialised.
        T v[L];
        Eigen::internal::pstoreu(v, acc[i][j]);
        sum_lanes(v, 1, dw + i * dw_stride + j);
      }
    }
}

}  // namespace detail

/// The layout for an image of height x width and a k x k kernel, with room
/// for tiles of every kernel below.
template <class T>
PlaneLayout plane_layout(Index kernel, Index height, Index width) {
  constexpr Index L = detail::lanes<T>, tile = detail::out_vectors * L;
  PlaneLayout p;
  p.kernel = kernel;
  p.height = height;
  p.width = width;
  p.wp = width + kernel - 1;
  p.span = (height * p.wp + tile - 1) / tile * tile;
  p.stride = (p.span + (kernel - 1) * (p.wp + 1) + L - 1) / L * L;
  return p;
}

/// Copies `channels` images of height x width into planes padded by (top,
/// left). Only the interior is written: the padding and the slack after each
/// plane stay as they are, zero from allocation.
template <class T>
void to_planes(const PlaneLayout& p, Index channels, Index top, Index left, const T* x, T* planes) {
  for (Index c = 0; c < channels; ++c) {
    T* dst = planes + c * p.stride + p.origin(top, left);
    for (Index y = 0; y < p.height; ++y, x += p.width) std::copy(x, x + p.width, dst + y * p.wp);
  }
}

/// Packs the rows of a row-major (rows x taps) weight matrix in blocks of
/// out_rows, each block tap-major, the order correlate_planes reads them in.
/// `at(r, j)` gives the weight of output row r at tap j.
template <class T, class At>
void pack_rows(Index rows, Index taps, At at, T* packed) {
  for (Index r0 = 0; r0 < rows; r0 += detail::out_rows) {
    const Index r = std::min<Index>(detail::out_rows, rows - r0);
    for (Index j = 0; j < taps; ++j)
      for (Index i = 0; i < r; ++i) *packed++ = at(r0 + i, j);
  }
}

/// y[o] = sum_j w[o][j] * planes[off[j] + q] for all `rows` outputs o, written
/// out through store(o0, r, tile) a block of r <= out_rows output planes at a
/// time (tile holds them at distance p.stride), so the caller drops the junk
/// columns while the block is still in cache.
template <class T, class Store>
void correlate_planes(const PlaneLayout& p, Index rows, Index taps, const T* packed, const Index* off,
                      const T* planes, T* tile, Store store) {
  for (Index r0 = 0; r0 < rows; r0 += detail::out_rows) {
    const Index r = std::min<Index>(detail::out_rows, rows - r0);
    detail::with_count<detail::out_rows>(r, [&](auto R) {
      detail::correlate_rows<T, decltype(R)::value>(packed + r0 * taps, taps, off, planes, p.span, tile, p.stride);
    });
    store(r0, r, static_cast<const T*>(tile));
  }
}

/// dw[o][j] += sum_q dy[o][q] * planes[off[j] + q], the weight gradient of
/// `rows` gradient planes dy, over `images` images stored one after another
/// (dy_image and in_image apart). Each register tile ends in rows x taps sums:
/// with PerLane, dw holds rows x taps packets (lanes<T> values each) that
/// sum_lanes adds up at the end of the batch, since summing the lanes of every
/// tile for every image cost a quarter of this kernel's time; without, dw is
/// the rows x taps matrix itself, for calls over groups of small images, where
/// those sums are rare and the per-lane buffer (16 times larger) would no
/// longer stay in cache.
template <class T, bool PerLane>
void correlate_planes_grad(const PlaneLayout& p, Index rows, Index taps, const T* dy, Index dy_image,
                           const Index* off, const T* planes, Index in_image, Index images, T* dw) {
  using detail::grad_rows;
  using detail::grad_taps;
  for (Index r0 = 0; r0 < rows; r0 += grad_rows) {
    const Index r = std::min<Index>(grad_rows, rows - r0);
    for (Index j0 = 0; j0 < taps; j0 += grad_taps) {
      const Index nj = std::min<Index>(grad_taps, taps - j0);
      detail::with_count<grad_rows>(r, [&](auto R) {
        detail::with_count<grad_taps>(nj, [&](auto J) {
          detail::correlate_grad<T, decltype(R)::value, decltype(J)::value, PerLane>(
              dy + r0 * p.stride, p.stride, dy_image, planes, in_image, off + j0, p.span, images,
              dw + (r0 * taps + j0) * (PerLane ? detail::lanes<T> : 1), taps);
        });
      });
    }
  }
}

}  // namespace shallow
