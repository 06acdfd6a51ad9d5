/// \file
/// The building blocks of WinogradConv: Winograd F(4x4, 3x3) and F(2x2, 5x5)
/// transforms, the channel-blocked image layout they read and write, and the
/// register-tiled products of the transformed domain.
///
/// Both take a 6x6 input tile d (M x M outputs and their R x R neighbourhood,
/// M + R = 7); with the R x R kernel w and an M x M gradient tile dy:
///
///   forward           Y  = A^T [ (G w G^T) . (B^T d B) ] A          F(MxM, RxR)
///   backward-weights  dW = G^T [ (A dy A^T) . (B^T d B) ] G         F(RxR, MxM)
///
/// '.' is the elementwise product over the 36 transformed positions xi; the
/// sums over channels and tiles happen there, as 36 matrix products. The
/// interpolation points are 0, 1, -1, 2, -1/2 and infinity for both: against
/// Lavin's 0, +-1, +-2, infinity they cut the largest float error of
/// F(4x4, 3x3) 2-3x (forward and weight gradient, 16-128 channels, in a
/// scalar model of both), for 14 instead of 12 operations per 6-point input
/// transform. With the points fixed, B^T depends on nothing else, so the two
/// share it; A^T (M x 6) and G (6 x R) are those of the tile sizes.
///
/// Transforms run on packets whose lanes are channels: rows of an NCHW image
/// are turned, lanes channels at a time, into blocked rows [column][lane]
/// (lanes = the packet size), so the pixels of a tile are whole packets, and
/// each transformed position xi of a tile is one packet of channels, stored
/// at [xi][tile][channel]. The products then read channels as contiguous rows.
#pragma once

#include <algorithm>
#include <type_traits>
#include <utility>

#include "../core/tensor.hpp"
#include "planes.hpp"

namespace shallow {
namespace winograd {

using detail::Packet;

/// The transform matrices: the weight transforms read them, the data
/// transforms below hard-code them. A^T of F(4x4, 3x3): row k is the points
/// to the power k (infinity: 1 in the last row).
inline constexpr double AT4[4][6] = {{1, 1, 1, 1, 1, 0},
                                     {0, 1, -1, 2, -0.5, 0},
                                     {0, 1, 1, 4, 0.25, 0},
                                     {0, 1, -1, 8, -0.125, 1}};
/// A^T of F(2x2, 5x5).
inline constexpr double AT2[2][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -0.5, 1}};
/// The weight transform of F(4x4, 3x3): G w G^T is the 6x6 transformed
/// kernel. Row i is point p_i's powers 1, p_i, p_i^2 over the product of
/// p_i - p_j for the other finite points j.
inline constexpr double G3[6][3] = {{1, 0, 0},
                                    {-1.0 / 3, -1.0 / 3, -1.0 / 3},
                                    {1.0 / 3, -1.0 / 3, 1.0 / 3},
                                    {1.0 / 15, 2.0 / 15, 4.0 / 15},
                                    {-16.0 / 15, 8.0 / 15, -4.0 / 15},
                                    {0, 0, 1}};
/// The weight transform of F(2x2, 5x5), the same rows to the power 4.
inline constexpr double G5[6][5] = {{1, 0, 0, 0, 0},
                                    {-1.0 / 3, -1.0 / 3, -1.0 / 3, -1.0 / 3, -1.0 / 3},
                                    {1.0 / 3, -1.0 / 3, 1.0 / 3, -1.0 / 3, 1.0 / 3},
                                    {1.0 / 15, 2.0 / 15, 4.0 / 15, 8.0 / 15, 16.0 / 15},
                                    {-16.0 / 15, 8.0 / 15, -4.0 / 15, 2.0 / 15, -1.0 / 15},
                                    {0, 0, 0, 0, 1}};
/// The data transform: B^T d B is the 6x6 transformed input tile.
inline constexpr double BT[6][6] = {{1, 1.5, -2, -1.5, 1, 0},
                                    {0, -1, -2.5, -0.5, 1, 0},
                                    {0, 1, 0.5, -2.5, 1, 0},
                                    {0, -0.5, -1, 0.5, 1, 0},
                                    {0, 2, -1, -2, 1, 0},
                                    {0, 1, 1.5, -2, -1.5, 1}};

/// G of the R x R kernels (3 or 5).
template <int R>
constexpr const auto& weight_matrix() {
  static_assert(R == 3 || R == 5, "Winograd kernels are 3x3 or 5x5");
  if constexpr (R == 3)
    return G3;
  else
    return G5;
}

/// A packet with every lane v.
template <class P>
EIGEN_STRONG_INLINE P constant(double v) {
  return Eigen::internal::pset1<P>(typename Eigen::internal::unpacket_traits<P>::type(v));
}

/// r = B^T d for 6 packets, in 14 operations.
template <class P>
EIGEN_STRONG_INLINE void input_6(const P (&d)[6], P (&r)[6]) {
  using namespace Eigen::internal;
  const P s = psub(d[4], d[2]), t = psub(d[1], d[3]);
  const P p = pmadd(constant<P>(-1.5), d[3], s), q = pmadd(constant<P>(1.5), d[2], t);
  r[0] = pmadd(constant<P>(1.5), t, padd(psub(d[0], d[2]), s));
  r[1] = psub(p, q);
  r[2] = padd(p, q);
  r[3] = pmadd(constant<P>(-0.5), t, s);
  r[4] = pmadd(constant<P>(2), t, s);
  r[5] = pmadd(constant<P>(-1.5), s, padd(psub(d[5], d[3]), t));
}

/// r = A^T m for 6 packets: 12 operations for M = 4, 6 for M = 2.
template <int M, class P>
EIGEN_STRONG_INLINE void output_6(const P (&m)[6], P (&r)[M]) {
  using namespace Eigen::internal;
  const P a = padd(m[1], m[2]), b = psub(m[1], m[2]);
  if constexpr (M == 4) {
    r[0] = padd(padd(m[0], a), padd(m[3], m[4]));
    r[1] = pmadd(constant<P>(2), m[3], pmadd(constant<P>(-0.5), m[4], b));
    r[2] = pmadd(constant<P>(4), m[3], pmadd(constant<P>(0.25), m[4], a));
    r[3] = pmadd(constant<P>(8), m[3], pmadd(constant<P>(-0.125), m[4], padd(b, m[5])));
  } else {
    static_assert(M == 2, "Winograd output tiles are 4x4 or 2x2");
    r[0] = padd(padd(m[0], a), padd(m[3], m[4]));
    r[1] = pmadd(constant<P>(2), m[3], pmadd(constant<P>(-0.5), m[4], padd(b, m[5])));
  }
}

/// r = A d for M packets: 10 operations for M = 4, 5 for M = 2.
template <int M, class P>
EIGEN_STRONG_INLINE void gradient_m(const P (&d)[M], P (&r)[6]) {
  using namespace Eigen::internal;
  if constexpr (M == 4) {
    const P e = padd(d[0], d[2]), o = padd(d[1], d[3]);
    r[0] = d[0];
    r[1] = padd(e, o);
    r[2] = psub(e, o);
    r[3] = pmadd(constant<P>(2), d[1], pmadd(constant<P>(4), d[2], pmadd(constant<P>(8), d[3], d[0])));
    r[4] = pmadd(constant<P>(-0.5), d[1], pmadd(constant<P>(0.25), d[2], pmadd(constant<P>(-0.125), d[3], d[0])));
    r[5] = d[3];
  } else {
    static_assert(M == 2, "Winograd gradient tiles are 4x4 or 2x2");
    r[0] = d[0];
    r[1] = padd(d[0], d[1]);
    r[2] = psub(d[0], d[1]);
    r[3] = pmadd(constant<P>(2), d[1], d[0]);
    r[4] = pmadd(constant<P>(-0.5), d[1], d[0]);
    r[5] = d[1];
  }
}

/// out[xi] = (B^T d B)[xi] for the 6x6 tile of packets at in (rows rs apart,
/// columns cs apart); out[xi] is the packet at out + xi*os.
template <class T>
void input_tile(const T* in, Index rs, Index cs, T* out, Index os) {
  using P = Packet<T>;
  P t[6][6];
  for (int j = 0; j < 6; ++j) {
    P col[6], r[6];
    for (int i = 0; i < 6; ++i) col[i] = Eigen::internal::ploadu<P>(in + i * rs + j * cs);
    input_6(col, r);
    for (int i = 0; i < 6; ++i) t[i][j] = r[i];
  }
  for (int i = 0; i < 6; ++i) {
    P r[6];
    input_6(t[i], r);
    for (int j = 0; j < 6; ++j) Eigen::internal::pstoreu(out + (6 * i + j) * os, r[j]);
  }
}

/// The M x M tile of packets at out (rows rs, columns cs apart) = A^T m A,
/// m[xi] the packet at m + xi*ms.
template <int M, class T>
void output_tile(const T* m, Index ms, T* out, Index rs, Index cs) {
  using P = Packet<T>;
  P t[M][6];
  for (int j = 0; j < 6; ++j) {
    P col[6], r[M];
    for (int i = 0; i < 6; ++i) col[i] = Eigen::internal::ploadu<P>(m + (6 * i + j) * ms);
    output_6<M>(col, r);
    for (int i = 0; i < M; ++i) t[i][j] = r[i];
  }
  for (int i = 0; i < M; ++i) {
    P r[M];
    output_6<M>(t[i], r);
    for (int j = 0; j < M; ++j) Eigen::internal::pstoreu(out + i * rs + j * cs, r[j]);
  }
}

/// out[xi] = (A dy A^T)[xi] for the M x M tile of packets dy at in. Returns
/// the sum of the tile's packets, which is (A dy A^T)[1][1].
template <int M, class T>
Packet<T> gradient_tile(const T* in, Index rs, Index cs, T* out, Index os) {
  using P = Packet<T>;
  P t[6][M];
  for (int j = 0; j < M; ++j) {
    P col[M], r[6];
    for (int i = 0; i < M; ++i) col[i] = Eigen::internal::ploadu<P>(in + i * rs + j * cs);
    gradient_m<M>(col, r);
    for (int i = 0; i < 6; ++i) t[i][j] = r[i];
  }
  P sum = Eigen::internal::pzero(t[0][0]);
  for (int i = 0; i < 6; ++i) {
    P r[6];
    gradient_m<M>(t[i], r);
    for (int j = 0; j < 6; ++j) Eigen::internal::pstoreu(out + (6 * i + j) * os, r[j]);
    if (i == 1) sum = r[1];
  }
  return sum;
}

/// u[xi] = (G w G^T)[xi] for lanes R x R kernels at once: w[k] holds tap k
/// (row-major) of every lane's kernel; u[xi] is the packet at u + xi*us.
template <int R, class T>
void weight_tiles(const Packet<T> (&w)[R * R], T* u, Index us) {
  using namespace Eigen::internal;
  using P = Packet<T>;
  const auto& G = weight_matrix<R>();
  P t[6][R];
  for (int a = 0; a < 6; ++a)
    for (int kx = 0; kx < R; ++kx) {
      t[a][kx] = pmul(constant<P>(G[a][0]), w[kx]);
      for (int ky = 1; ky < R; ++ky) t[a][kx] = pmadd(constant<P>(G[a][ky]), w[ky * R + kx], t[a][kx]);
    }
  for (int a = 0; a < 6; ++a)
    for (int b = 0; b < 6; ++b) {
      P s = pmul(constant<P>(G[b][0]), t[a][0]);
      for (int kx = 1; kx < R; ++kx) s = pmadd(constant<P>(G[b][kx]), t[a][kx], s);
      pstoreu(u + (6 * a + b) * us, s);
    }
}

/// dw[k] = (G^T m G)[k] for the R*R taps k of lanes kernels at once, m[xi]
/// the packet at m + xi*ms.
template <int R, class T>
void weight_gradient_tiles(const T* m, Index ms, Packet<T> (&dw)[R * R]) {
  using namespace Eigen::internal;
  using P = Packet<T>;
  const auto& G = weight_matrix<R>();
  P t[R][6];
  for (int ky = 0; ky < R; ++ky)
    for (int b = 0; b < 6; ++b) {
      t[ky][b] = pmul(constant<P>(G[0][ky]), ploadu<P>(m + b * ms));
      for (int a = 1; a < 6; ++a) t[ky][b] = pmadd(constant<P>(G[a][ky]), ploadu<P>(m + (6 * a + b) * ms), t[ky][b]);
    }
  for (int ky = 0; ky < R; ++ky)
    for (int kx = 0; kx < R; ++kx) {
      dw[ky * R + kx] = pmul(constant<P>(G[0][kx]), t[ky][0]);
      for (int b = 1; b < 6; ++b) dw[ky * R + kx] = pmadd(constant<P>(G[b][kx]), t[ky][b], dw[ky * R + kx]);
    }
}

// PacketBlock<Packet16f>, the operand of Eigen's register transpose,
// names a vector type as a template argument, which GCC warns about.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

/// Transposes a block of lanes x lanes values held in `lanes` packets.
template <class P>
EIGEN_STRONG_INLINE void transpose(Eigen::internal::PacketBlock<P>& b) {
  Eigen::internal::ptranspose(b);
}
#ifdef EIGEN_VECTORIZE_AVX512
/// AVX-512: the four-stage shuffle network, 64 shuffles for 16 floats and 24
/// for 8 doubles; Eigen 3.4's ptranspose takes about 110 for floats.
template <>
EIGEN_STRONG_INLINE void transpose(Eigen::internal::PacketBlock<Eigen::internal::Packet16f>& b) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(b.packet[2 * i], b.packet[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(b.packet[2 * i], b.packet[2 * i + 1]);
  }
  // u[4i + j], 128-bit lane q: rows 4i..4i+3 of column 4q + j.
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x44), v1 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xEE);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x44);
    const __m512 v3 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xEE);
    b.packet[j] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    b.packet[4 + j] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    b.packet[8 + j] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    b.packet[12 + j] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}
template <>
EIGEN_STRONG_INLINE void transpose(Eigen::internal::PacketBlock<Eigen::internal::Packet8d>& b) {
  __m512d t[8];
  // t[2i + j], 128-bit lane q: rows 2i, 2i+1 of column 2q + j.
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm512_unpacklo_pd(b.packet[2 * i], b.packet[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_pd(b.packet[2 * i], b.packet[2 * i + 1]);
  }
  for (int j = 0; j < 2; ++j) {
    const __m512d v0 = _mm512_shuffle_f64x2(t[j], t[2 + j], 0x44), v1 = _mm512_shuffle_f64x2(t[j], t[2 + j], 0xEE);
    const __m512d v2 = _mm512_shuffle_f64x2(t[4 + j], t[6 + j], 0x44);
    const __m512d v3 = _mm512_shuffle_f64x2(t[4 + j], t[6 + j], 0xEE);
    b.packet[j] = _mm512_shuffle_f64x2(v0, v2, 0x88);
    b.packet[2 + j] = _mm512_shuffle_f64x2(v0, v2, 0xDD);
    b.packet[4 + j] = _mm512_shuffle_f64x2(v1, v3, 0x88);
    b.packet[6 + j] = _mm512_shuffle_f64x2(v1, v3, 0xDD);
  }
}
#endif

/// Rows [r0, r1) of `count` <= lanes channel planes at in (plane values
/// apart, width wide), into blocked rows at out: pixel (r, x) becomes the
/// packet at out + (r - r0)*row + x*lanes, lane l holding channel l (0 for
/// l >= count). lanes pixels at a time, one packet per channel, turned into
/// one packet per pixel by a register transpose; the last group overlaps the
/// one before. Runs of fewer than lanes pixels go value by value.
template <class T>
void rows_to_blocked(const T* in, Index count, Index plane, Index width, Index r0, Index r1, T* out, Index row) {
  using P = Packet<T>;
  constexpr Index L = detail::lanes<T>;
  const Index begin = r0 * width, end = r1 * width;
  if (end - begin < L) {
    for (Index q = begin; q < end; ++q)
      for (Index l = 0; l < L; ++l)
        out[(q / width - r0) * row + q % width * L + l] = l < count ? in[l * plane + q] : T(0);
    return;
  }
  for (Index f0 = begin; f0 < end; f0 += L) {
    const Index f = std::min(f0, end - L);
    Eigen::internal::PacketBlock<P> t;
    for (Index l = 0; l < L; ++l)
      t.packet[l] = l < count ? Eigen::internal::ploadu<P>(in + l * plane + f) : Eigen::internal::pset1<P>(T(0));
    transpose(t);
    for (Index k = 0, r = f / width, x = f % width; k < L; ++k) {
      Eigen::internal::pstoreu(out + (r - r0) * row + x * L, t.packet[k]);
      if (++x == width) x = 0, ++r;
    }
  }
}

/// The inverse of rows_to_blocked for channels l < count, adding bias[l]
/// when bias is given.
template <class T>
void rows_from_blocked(const T* in, Index row, Index count, Index plane, Index width, Index r0, Index r1,
                       const T* bias, T* out) {
  using P = Packet<T>;
  constexpr Index L = detail::lanes<T>;
  const Index begin = r0 * width, end = r1 * width;
  if (end - begin < L) {
    for (Index q = begin; q < end; ++q)
      for (Index l = 0; l < count; ++l)
        out[l * plane + q] = in[(q / width - r0) * row + q % width * L + l] + (bias ? bias[l] : T(0));
    return;
  }
  for (Index f0 = begin; f0 < end; f0 += L) {
    const Index f = std::min(f0, end - L);
    Eigen::internal::PacketBlock<P> t;
    for (Index k = 0, r = f / width, x = f % width; k < L; ++k) {
      t.packet[k] = Eigen::internal::ploadu<P>(in + (r - r0) * row + x * L);
      if (++x == width) x = 0, ++r;
    }
    transpose(t);
    for (Index l = 0; l < count; ++l) {
      P v = t.packet[l];
      if (bias) v = Eigen::internal::padd(v, Eigen::internal::pset1<P>(bias[l]));
      Eigen::internal::pstoreu(out + l * plane + f, v);
    }
  }
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/// Register tiles of the products: rows x vectors accumulators for 1-4
/// vectors, with AVX-512 28, 28, 24 and 24 of the 32 registers (the fastest
/// measured; 16-24 rows of one vector ran 15-25% slower), else 12-8 of 16.
constexpr int tile_rows(int vectors) {
  return detail::many_registers ? (vectors == 1 ? 28 : vectors == 2 ? 14 : vectors == 3 ? 8 : 6)
                                : (vectors == 1 ? 12 : vectors == 2 ? 6 : vectors == 3 ? 4 : 2);
}

/// f(0), ..., f(N-1) with compile-time arguments: loops over register tiles
/// written out in full, so that GCC keeps the tiles in registers.
template <class F, std::size_t... I>
EIGEN_STRONG_INLINE void unrolled(F&& f, std::index_sequence<I...>) {
  (f(std::integral_constant<int, int(I)>{}), ...);
}
/// f(0), ..., f(N-1) with compile-time arguments (unrolled()).
template <int N, class F>
EIGEN_STRONG_INLINE void unroll(F&& f) {
  unrolled(f, std::make_index_sequence<std::size_t(N)>{});
}

/// c[r][v] (+)= sum_{k < depth} a[r*ar + k*ak] * b[k*bs + v*L] for r < R, v < V,
/// where b[..] and c[r][v] (at c + r*cs + v*L) are packets: each a is
/// broadcast, so a may be read along either of its dimensions. Not inlined:
/// inlined into product's dispatch, GCC 12 compiled some tiles 10-50% slower.
template <class T, int R, int V, bool Add>
EIGEN_DONT_INLINE void product_tile(Index depth, const T* a, Index ar, Index ak, const T* b, Index bs, T* c, Index cs) {
  using namespace Eigen::internal;
  using P = Packet<T>;
  constexpr Index L = detail::lanes<T>;
  P acc[R][V];
  unroll<R>([&](auto r) {
    unroll<V>([&](auto v) { acc[r][v] = Add ? ploadu<P>(c + r * cs + v * L) : pset1<P>(T(0)); });
  });
  for (Index k = 0; k < depth; ++k, a += ak, b += bs) {
    P bv[V];
    unroll<V>([&](auto v) { bv[v] = ploadu<P>(b + v * L); });
    unroll<R>([&](auto r) {
      const P ark = pset1<P>(a[r * ar]);
      unroll<V>([&](auto v) { acc[r][v] = pmadd(ark, bv[v], acc[r][v]); });
    });
  }
  unroll<R>([&](auto r) { unroll<V>([&](auto v) { pstoreu(c + r * cs + v * L, acc[r][v]); }); });
}

/// C (+)= A B for C rows x (vectors * lanes) at c (rows cs apart), A rows x
/// depth (a[r*ar + k*ak]), B depth x (vectors * lanes) (rows bs apart): B in
/// column panels of up to 4 packets, each panel swept by all row tiles.
template <class T, bool Add>
void product(Index rows, Index vectors, Index depth, const T* a, Index ar, Index ak, const T* b, Index bs, T* c,
             Index cs) {
  constexpr Index L = detail::lanes<T>;
  const Index panel = vectors % 4 == 0 ? 4 : vectors % 3 == 0 ? 3 : vectors % 2 == 0 ? 2 : std::min<Index>(vectors, 4);
  for (Index v0 = 0; v0 < vectors; v0 += panel)
    detail::with_count<4>(std::min(panel, vectors - v0), [&](auto V) {
      constexpr int R = tile_rows(decltype(V)::value);
      for (Index r0 = 0; r0 < rows; r0 += R)
        detail::with_count<R>(std::min<Index>(R, rows - r0), [&](auto Rows) {
          product_tile<T, decltype(Rows)::value, decltype(V)::value, Add>(depth, a + r0 * ar, ar, ak, b + v0 * L, bs,
                                                                          c + r0 * cs + v0 * L, cs);
        });
    });
}

}  // namespace winograd
}  // namespace shallow
