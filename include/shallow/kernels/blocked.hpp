/// \file
/// The channel-blocked layout and the register-tiled kernels of BlockedConv.
///
/// A block is lanes<T> channels (16 floats with AVX-512) stored pixel-major:
/// blocked[b][p][l] is channel b*lanes + l at pixel p, so one packet holds
/// one pixel of a whole block. The kernels vectorise over output channels
/// instead of pixels: an output row of TC pixels of OB blocks is OB x TC
/// accumulators, each input pixel is broadcast once per kernel row and feeds
/// the K taps of that row, and no junk column is ever computed, which is why
/// small images run at the speed of large ones (the plane kernels of
/// planes.hpp lose up to a third of their work to junk columns on 8x8).
/// Images are read and written in place, NCHW, any channel count: a tile's
/// sums are transposed in registers on their way out. Only the gradient the
/// weight gradient reads is blocked. The 'same' padding is never stored:
/// kernel rows outside the image are skipped (the weight gradient reads a row
/// of zeros for them instead), and a row's first and last tiles are compiled
/// with the taps on the padding columns left out.
#pragma once

#include <algorithm>
#include <type_traits>

#include "planes.hpp"

// Every loop over a tile's registers is unrolled in full, and every call in
// a tile inlined (Eigen's ptranspose is only `inline`), so its packets stay
// in registers (GCC peels no more than 16 iterations on its own).
#if defined(__GNUC__)
#define SHALLOW_UNROLL _Pragma("GCC unroll 64")
#define SHALLOW_INLINE_LAMBDA __attribute__((always_inline))
#define SHALLOW_FLATTEN __attribute__((flatten))
#else
#define SHALLOW_UNROLL
#define SHALLOW_INLINE_LAMBDA
#define SHALLOW_FLATTEN
#endif

namespace shallow {

/// Blocks of lanes<T> channels, enough for n channels.
template <class T>
Index channel_blocks(Index n) {
  return (n + detail::lanes<T> - 1) / detail::lanes<T>;
}

namespace detail {

// Tiles: OB output blocks by up to TC pixels of one row. OB*(K + TC) + 1
// registers hold the K weight packets of a kernel row, the accumulators and
// the broadcast pixel.
inline constexpr int blocked_pair_cols(int k) { return many_registers ? (k <= 3 ? 12 : 8) : (k <= 3 ? 4 : 2); }
inline constexpr int blocked_single_cols = many_registers ? 16 : 8;

// How every row of an image `width` pixels wide is cut into tiles of at most
// TC: a first tile of A pixels, `middle` tiles of TC, a last tile of B, or
// one tile of A when the row is no wider than TC (B is then 0). Calls
// f(A, B, middle) once per image, A and B as integral_constants, so that the
// loop over rows inside f runs only tiles of compile-time widths (choosing a
// tile's width per row made the weight gradient's tiles take 1.2-1.3x as
// long, docs/performance.md). With TC >= K - 1 the first and last tiles are at
// least K/2 wide: only they touch the padding.
template <int K, int TC, class F>
EIGEN_ALWAYS_INLINE void with_row_cut(Index width, F&& f) {
  static_assert(TC >= K - 1, "tiles narrower than the padding");
  if (width <= TC) return with_count<TC>(width, [&](auto a) { f(a, std::integral_constant<int, 0>{}, Index(0)); });
  const Index middle = (width + TC - 1) / TC - 2;
  with_count<2 * TC, TC + 1>(width - middle * TC, [&](auto rest) {
    constexpr int R = decltype(rest)::value;
    f(std::integral_constant<int, (R + 1) / 2>{}, std::integral_constant<int, R / 2>{}, middle);
  });
}

// Calls tile(ox, cols, left, right) for the tiles of one row cut as
// with_row_cut says, cols as an integral_constant and left/right as
// bool_constants: whether the tile starts or ends the row, so that its taps
// on the padding (K/2 columns each side) are left out.
template <int TC, int A, int B, class Tile>
EIGEN_ALWAYS_INLINE void for_cut_row(Index middle, Tile&& tile) {
  using yes = std::true_type;
  using no = std::false_type;
  if constexpr (B == 0) {
    tile(Index(0), std::integral_constant<int, A>{}, yes{}, yes{});
  } else {
    tile(Index(0), std::integral_constant<int, A>{}, yes{}, no{});
    for (Index m = 0; m < middle; ++m) tile(A + m * TC, std::integral_constant<int, TC>{}, no{}, no{});
    tile(A + middle * TC, std::integral_constant<int, B>{}, no{}, yes{});
  }
}

// Eigen's PacketBlock of AVX types drops their alignment attributes, which
// GCC reports on a template argument (here and in has_masked_store); the
// packets are only ever registers. GCC 12 also takes the deliberately
// undefined operand of AVX-512's unpack intrinsics, which ptranspose uses,
// for an uninitialised variable once they are inlined into a tile.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
// Transposes lanes x lanes tiles between NCHW planes and blocks: for pixels
// p0..p0+lanes-1 of block b, packet i of a tile is pixel p0+i of the block
// and, transposed, channel b*lanes + i of the planes. Full tiles only;
// to_blocked finishes the last pixels one at a time. Returns the sum of the
// packets written.
template <class T>
EIGEN_ALWAYS_INLINE Packet<T> transpose_tile(const T* src, Index src_stride, T* dst, Index dst_stride) {
  using P = Packet<T>;
  constexpr int L = int(lanes<T>);
  Eigen::internal::PacketBlock<P, L> tile;
  SHALLOW_UNROLL
  for (int i = 0; i < L; ++i) tile.packet[i] = Eigen::internal::ploadu<P>(src + i * src_stride);
  Eigen::internal::ptranspose(tile);
  P sum = tile.packet[0];
  SHALLOW_UNROLL
  for (int i = 0; i < L; ++i) {
    Eigen::internal::pstoreu(dst + i * dst_stride, tile.packet[i]);
    if (i > 0) sum = Eigen::internal::padd(sum, tile.packet[i]);
  }
  return sum;
}

template <class P, class = void>
struct has_masked_store : std::false_type {};
template <class P>
struct has_masked_store<P, std::void_t<typename Eigen::internal::unpacket_traits<P>::mask_t>> : std::true_type {};

// out[(ob*lanes + l)*plane + t] = acc[ob][t][l] + (bias ? bias[ob*lanes + l] : 0)
// for the first `outs` channels: a tile's sums transposed into NCHW planes,
// in registers lanes x lanes packets at a time where Eigen has masked stores
// for the row ends (float with AVX or AVX-512), else through the stack.
template <class T, int OB, int TC>
EIGEN_ALWAYS_INLINE void store_transposed(Packet<T> (&acc)[OB][TC], T* out, Index plane, Index outs, const T* bias) {
  using P = Packet<T>;
  constexpr int L = int(lanes<T>);
  SHALLOW_UNROLL
  for (int ob = 0; ob < OB; ++ob) {
    const Index n = std::min<Index>(L, outs - ob * L);
    if constexpr (has_masked_store<P>::value) {
      using Mask = typename Eigen::internal::unpacket_traits<P>::mask_t;
      SHALLOW_UNROLL
      for (int t0 = 0; t0 < TC; t0 += L) {
        const int cols = std::min(L, TC - t0);
        Eigen::internal::PacketBlock<P, L> tile;
        SHALLOW_UNROLL
        for (int i = 0; i < L; ++i) tile.packet[i] = acc[ob][std::min(t0 + i, TC - 1)];
        Eigen::internal::ptranspose(tile);
        SHALLOW_UNROLL
        for (int l = 0; l < L; ++l) {
          if (l >= n) break;
          P v = tile.packet[l];
          if (bias) v = Eigen::internal::padd(v, Eigen::internal::pset1<P>(bias[ob * L + l]));
          T* to = out + (ob * L + l) * plane + t0;
          if (cols == L)
            Eigen::internal::pstoreu(to, v);
          else
            Eigen::internal::pstoreu(to, v, Mask((1u << cols) - 1));
        }
      }
    } else {
      T tile[TC][L];
      for (int t = 0; t < TC; ++t) Eigen::internal::pstoreu(tile[t], acc[ob][t]);
      for (Index l = 0; l < n; ++l) {
        const T b = bias ? bias[ob * L + l] : T(0);
        for (int t = 0; t < TC; ++t) out[(ob * L + l) * plane + t] = tile[t][l] + b;
      }
    }
  }
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

// out[ob*lanes + l][t] = (bias +)
//   sum_{c, ky, kx} w[ob][c][ky][kx][l] * x[c][oy + ky - K/2][ox + t + kx - K/2]
// for ob < OB, t < TC and the first `outs` channels, over the kernel
// rows ky0 <= ky < ky1 inside the image. w holds packets (block ob at w +
// ob*w_block); in is x[0][oy][ox] and out y[0][oy][ox], planes `plane`
// apart, rows `width` apart; Left and Right leave out the padding columns.
// The kernel rows are unrolled with the rows outside [ky0, ky1) skipped, so
// that the weights' offsets stay constants.
template <class T, int K, int OB, int TC, bool Left, bool Right>
SHALLOW_FLATTEN void blocked_row(const T* w, Index w_block, Index channels, const T* in, Index plane, Index width,
                                 int ky0, int ky1, T* out, Index outs, const T* bias) {
  using P = Packet<T>;
  constexpr Index L = lanes<T>;
  constexpr int pad = K / 2, u0 = Left ? pad : 0, u1 = Right ? TC + pad : TC + K - 1;
  P acc[OB][TC];
  SHALLOW_UNROLL
  for (int ob = 0; ob < OB; ++ob)
    SHALLOW_UNROLL
    for (int t = 0; t < TC; ++t) acc[ob][t] = Eigen::internal::pset1<P>(T(0));
  for (Index c = 0; c < channels; ++c, in += plane) {
    SHALLOW_UNROLL
    for (int ky = 0; ky < K; ++ky) {
      if (ky < ky0 || ky >= ky1) continue;
      const T* row = in + (ky - pad) * width;
      const T* wr = w + (c * K + ky) * K * L;
      P wv[OB][K];
      SHALLOW_UNROLL
      for (int ob = 0; ob < OB; ++ob)
        SHALLOW_UNROLL
        for (int kx = 0; kx < K; ++kx) wv[ob][kx] = Eigen::internal::ploadu<P>(wr + ob * w_block + kx * L);
      SHALLOW_UNROLL
      for (int u = u0; u < u1; ++u) {
        const P x = Eigen::internal::pset1<P>(row[u - pad]);
        SHALLOW_UNROLL
        for (int kx = 0; kx < K; ++kx) {
          const int t = u - kx;
          if (t < 0 || t >= TC) continue;
          SHALLOW_UNROLL
          for (int ob = 0; ob < OB; ++ob) acc[ob][t] = Eigen::internal::pmadd(wv[ob][kx], x, acc[ob][t]);
        }
      }
    }
  }
  store_transposed<T, OB, TC>(acc, out, plane, outs, bias);
}

// acc[t % S][ob][ky*K + kx] += dy[ob][t] * rows[ky][ox + t + kx - K/2] for
// t < C: one tile of C pixels of a row, its gradient packets loaded once;
// Left and Right leave out the padding columns. S sets of sums make S times
// as many independent chains of multiply-adds.
template <class T, int K, int OB, int S, int C, bool Left, bool Right>
EIGEN_ALWAYS_INLINE void blocked_grad_tile(Packet<T> (&acc)[S][OB][K * K], const T* dy, Index dy_block,
                                           const T* const (&rows)[K], Index ox) {
  using P = Packet<T>;
  constexpr Index L = lanes<T>;
  constexpr int pad = K / 2, u0 = Left ? pad : 0, u1 = Right ? C + pad : C + K - 1;
  P g[OB][C];
  SHALLOW_UNROLL
  for (int ob = 0; ob < OB; ++ob) {
    SHALLOW_UNROLL
    for (int t = 0; t < C; ++t) g[ob][t] = Eigen::internal::ploadu<P>(dy + ob * dy_block + t * L);
  }
  SHALLOW_UNROLL
  for (int ky = 0; ky < K; ++ky) {
    SHALLOW_UNROLL
    for (int u = u0; u < u1; ++u) {
      const P v = Eigen::internal::pset1<P>(rows[ky][ox + u - pad]);
      SHALLOW_UNROLL
      for (int kx = 0; kx < K; ++kx) {
        const int t = u - kx;
        if (t < 0 || t >= C) continue;
        SHALLOW_UNROLL
        for (int ob = 0; ob < OB; ++ob)
          acc[t % S][ob][ky * K + kx] = Eigen::internal::pmadd(g[ob][t], v, acc[t % S][ob][ky * K + kx]);
      }
    }
  }
}

// dw[ob][ky][kx] += sum_{oy, ox} dy[ob][oy][ox] * x[oy + ky - K/2][ox + kx - K/2]
// over a whole height x width image, for one input channel's plane x and OB
// gradient blocks (dy[ob] at dy + ob*dy_block, pixel-major packets); dw[ob][j]
// is the packet at dw + ob*dw_block + j*lanes. Kernel rows outside the image
// read `zeros` (width zeros): a test per kernel row in the tile, as the
// forward tiles have, measured slower (docs/performance.md). The sums stay in
// registers for the whole image, in S sets (a single 3x3 block's 9 chains
// would wait on the multiply-add latency; which pixel feeds which set does
// not matter).
template <class T, int K, int OB, int S, int TC>
void blocked_grad(const T* dy, Index dy_block, Index height, Index width, const T* x, const T* zeros, T* dw,
                  Index dw_block) {
  using P = Packet<T>;
  constexpr Index L = lanes<T>;
  P acc[S][OB][K * K];
  SHALLOW_UNROLL
  for (int s = 0; s < S; ++s) {
    SHALLOW_UNROLL
    for (int ob = 0; ob < OB; ++ob) {
      SHALLOW_UNROLL
      for (int j = 0; j < K * K; ++j)
        acc[s][ob][j] = s == 0 ? Eigen::internal::ploadu<P>(dw + ob * dw_block + j * L)
                               : Eigen::internal::pset1<P>(T(0));
    }
  }
  with_row_cut<K, TC>(width, [&](auto a, auto b, Index middle) SHALLOW_INLINE_LAMBDA {
    const T* d = dy;
    for (Index oy = 0; oy < height; ++oy, d += width * L) {
      const T* rows[K];
      for (int ky = 0; ky < K; ++ky) {
        const Index iy = oy + ky - K / 2;
        rows[ky] = iy >= 0 && iy < height ? x + iy * width : zeros;
      }
      // All inlined: the sums must stay in registers.
      for_cut_row<TC, decltype(a)::value, decltype(b)::value>(
          middle, [&](Index ox, auto cols, auto left, auto right) SHALLOW_INLINE_LAMBDA {
            blocked_grad_tile<T, K, OB, S, decltype(cols)::value, decltype(left)::value, decltype(right)::value>(
                acc, d + ox * L, dy_block, rows, ox);
          });
    }
  });
  SHALLOW_UNROLL
  for (int ob = 0; ob < OB; ++ob) {
    SHALLOW_UNROLL
    for (int j = 0; j < K * K; ++j) {
      P sum = acc[0][ob][j];
      SHALLOW_UNROLL
      for (int s = 1; s < S; ++s) sum = Eigen::internal::padd(sum, acc[s][ob][j]);
      Eigen::internal::pstoreu(dw + ob * dw_block + j * L, sum);
    }
  }
}

// One image's `outs` output planes y of height x width (+ bias) from
// `channels` planes x, in blocks of lanes<T> channels taken two at a time
// where a pair's tiles are wide enough, every row cut as with_row_cut says.
template <class T, int K>
void blocked_image(const T* w, Index w_block, Index outs, Index channels, const T* x, Index height, Index width,
                   const T* bias, T* y) {
  constexpr Index L = lanes<T>;
  constexpr int pad = K / 2;
  const Index plane = height * width, blocks = channel_blocks<T>(outs);
  const bool prefetch = channels * plane * Index(sizeof(T)) > 32 * 1024;
  for (Index b = 0; b < blocks;) {
    auto run = [&](auto ob, auto max_cols) {
      constexpr int OB = decltype(ob)::value, TC = decltype(max_cols)::value;
      with_row_cut<K, TC>(width, [&](auto a, auto bb, Index middle) {
        for (Index oy = 0; oy < height; ++oy) {
          const int ky0 = int(std::max<Index>(0, pad - oy)), ky1 = int(std::min<Index>(K, height + pad - oy));
          // A tile reads a row of every channel, planes apart, which the
          // hardware prefetcher does not follow: ask for the next row, unless
          // the image fits in an L1 cache.
          if (prefetch && oy + pad + 1 < height)
            for (Index c = 0; c < channels; ++c)
              for (Index q = 0; q < width; q += Index(64 / sizeof(T)))
                Eigen::internal::prefetch(x + c * plane + (oy + pad + 1) * width + q);
          for_cut_row<TC, decltype(a)::value, decltype(bb)::value>(
              middle, [&](Index ox, auto cols, auto left, auto right) {
                blocked_row<T, K, OB, decltype(cols)::value, decltype(left)::value, decltype(right)::value>(
                    w + b * w_block, w_block, channels, x + oy * width + ox, plane, width, ky0, ky1,
                    y + b * L * plane + oy * width + ox, outs - b * L, bias ? bias + b * L : nullptr);
              });
        }
      });
    };
    if constexpr (blocked_pair_cols(K) >= K - 1)
      if (b + 1 < blocks) {
        run(std::integral_constant<int, 2>{}, std::integral_constant<int, blocked_pair_cols(K)>{});
        b += 2;
        continue;
      }
    run(std::integral_constant<int, 1>{}, std::integral_constant<int, blocked_single_cols>{});
    b += 1;
  }
}

}  // namespace detail

/// blocked[b][p][l] = x[b*lanes + l][p] for the `channels` planes of hw
/// pixels of x; the lanes past the last channel are zero. With `sums`, also
/// sums[c] += the sum of plane c (a bias gradient, while the planes are read).
template <class T>
SHALLOW_FLATTEN void to_blocked(const T* x, Index channels, Index hw, T* blocked, T* sums = nullptr) {
  using P = detail::Packet<T>;
  constexpr Index L = detail::lanes<T>;
  for (Index b = 0; b < channel_blocks<T>(channels); ++b, blocked += hw * L) {
    const Index full = (hw / L) * L;
    P tiles = Eigen::internal::pset1<P>(T(0));
    if ((b + 1) * L <= channels)
      for (Index p = 0; p < full; p += L)
        tiles = Eigen::internal::padd(tiles, detail::transpose_tile(x + b * L * hw + p, hw, blocked + p * L, L));
    T total[L];
    Eigen::internal::pstoreu(total, tiles);
    for (Index l = 0; l < L; ++l) {
      const Index c = b * L + l;
      for (Index p = (b + 1) * L <= channels ? full : 0; p < hw; ++p) {
        const T v = c < channels ? x[c * hw + p] : T(0);
        blocked[p * L + l] = v;
        total[l] += v;
      }
      if (sums && c < channels) sums[c] += total[l];
    }
  }
}

/// Packs weights for blocked_correlate: packed[b][c][ky][kx][l] = at(b*lanes + l, c, ky*k + kx),
/// zero past the last of `outs` outputs.
template <class T, class At>
void pack_blocked(Index outs, Index channels, Index k, At at, T* packed) {
  constexpr Index L = detail::lanes<T>;
  for (Index b = 0; b < channel_blocks<T>(outs); ++b)
    for (Index c = 0; c < channels; ++c)
      for (Index j = 0; j < k * k; ++j)
        for (Index l = 0; l < L; ++l) *packed++ = b * L + l < outs ? at(b * L + l, c, j) : T(0);
}

/// y (`outs` planes, NCHW) = the 'same' correlation of `channels` planes x
/// of height x width with k x k weights packed by pack_blocked, + bias
/// unless null; k is 3 or 5.
template <class T>
void blocked_correlate(Index k, Index height, Index width, Index outs, Index channels, const T* packed, const T* x,
                       const T* bias, T* y) {
  const Index w_block = channels * k * k * detail::lanes<T>;
  if (k == 3)
    detail::blocked_image<T, 3>(packed, w_block, outs, channels, x, height, width, bias, y);
  else
    detail::blocked_image<T, 5>(packed, w_block, outs, channels, x, height, width, bias, y);
}

/// dw[b][c][ky][kx] (packets) += the 'same' correlation of one image's
/// blocked gradient dy (`outs` channels) with its `channels` planes x of
/// height x width, k 3 or 5; `zeros` holds at least width zeros.
template <class T>
void blocked_correlate_grad(Index k, Index height, Index width, Index outs, Index channels, const T* dy, const T* x,
                            const T* zeros, T* dw) {
  constexpr Index L = detail::lanes<T>;
  const Index kk = k * k, plane = height * width, dy_block = plane * L, dw_block = channels * kk * L;
  const Index blocks = channel_blocks<T>(outs);
  for (Index c = 0; c < channels; ++c) {
    const T* in = x + c * plane;
    T* dwc = dw + c * kk * L;
    // Tiles of S*OB*K*K sums and OB*TC gradient packets: 3x3 in pairs of
    // blocks (27 registers), or single blocks in two sets of sums; 5x5 in
    // single blocks. With 16 registers, 5x5 sums spill.
    Index b = 0;
    if (k == 3) {
      if constexpr (detail::many_registers)
        for (; b + 1 < blocks; b += 2)
          detail::blocked_grad<T, 3, 2, 1, 4>(dy + b * dy_block, dy_block, height, width, in, zeros,
                                              dwc + b * dw_block, dw_block);
      for (; b < blocks; ++b)
        detail::blocked_grad<T, 3, 1, detail::many_registers ? 2 : 1, detail::many_registers ? 8 : 2>(
            dy + b * dy_block, dy_block, height, width, in, zeros, dwc + b * dw_block, dw_block);
    } else {
      for (; b < blocks; ++b)
        detail::blocked_grad<T, 5, 1, 1, 4>(dy + b * dy_block, dy_block, height, width, in, zeros,
                                            dwc + b * dw_block, dw_block);
    }
  }
}

}  // namespace shallow
