/// \file
/// 3x3 and 5x5, stride-1 'same' convolutions by Winograd F(4x4, 3x3) and
/// F(2x2, 5x5) (winograd.hpp): a quarter and 36% of a direct convolution's
/// multiplications, all three passes in the transformed domain. The M x M
/// output tiles (M = 4, 2) are taken in blocks of about block_tiles (P
/// tiles: several small images, or some rows of tiles of a large one); per
/// block, for each of the 36 transformed positions xi,
///
///   forward           M[xi] (P x O) = V[xi] (P x C) U[xi] (C x O)        y  = A^T M A + b
///   backward-data     M[xi] (P x C) = D[xi] (P x O) U'[xi] (O x C)       dx = A^T M A
///   backward-weights  S[xi] (O x C) += E[xi]^T (O x P) V[xi] (P x C)     dW = G^T S G, once
///
/// with V = B^T x B on 6x6 tiles of the input, D = B^T dy B on 6x6 tiles of
/// the gradient, E = A dy A^T on its M x M tiles, U = G W G^T and U' the
/// same of the flipped, transposed weights (backward-data is the 'same'
/// convolution of dy with them). S, summed over all tiles of a thread's
/// images, becomes dW once per call (kept transposed, V^T E, when O is the
/// wider side); db sums E[1][1], each tile's sum.
///
/// Layouts: transformed tiles are [xi][tile][channel] with channels padded
/// to whole packets, so the products (winograd::product) broadcast one
/// operand and read the other as packets of channels; the data reach the
/// transforms through a band of six image rows in the blocked layout, filled
/// from NCHW by register transposes (winograd::rows_to_blocked), and leave
/// through a band of M (rows_from_blocked). Tiles past the image's bottom
/// or right edge read zeros from the band's padding; their extra outputs are
/// dropped.
#pragma once

#include <algorithm>
#include <vector>

#include "conv_kernel.hpp"
#include "winograd.hpp"

namespace shallow {

/// 3x3 and 5x5 stride-1 'same' convolutions by Winograd F(4x4, 3x3) and
/// F(2x2, 5x5) (the contract in this file's comment).
template <class T>
class WinogradConv final : public ConvKernel<T> {
 public:
  /// 3x3 or 5x5 kernels, stride 1, padding 1 or 2 on every side: 'same' convolutions.
  static bool accepts(const ConvGeometry& g) {
    return (g.kernel == 3 || g.kernel == 5) && g.keeps_size() && g.pad_top == g.kernel / 2 &&
           g.pad_left == g.kernel / 2;
  }
  ConvAlgorithm algorithm() const override { return ConvAlgorithm::winograd; }

  void forward(const ConvGeometry& g, const Tensor4<T>& x, const MatrixR<T>& w, const T* bias, Tensor4<T>& y,
               ImageHook after) override {
    prepare(g);
    if (g.kernel == 3)
      forward_tiles<4>(g, x, w, bias, y, after);
    else
      forward_tiles<2>(g, x, w, bias, y, after);
  }

  void backward(const ConvGeometry& g, const Tensor4<T>& x, const Tensor4<T>& dy, const MatrixR<T>& w,
                Tensor4<T>* dx, MatrixR<T>& dw, VectorX<T>* db, ImageHook before, ImageHook after) override {
    prepare(g);
    if (g.kernel == 3)
      backward_tiles<4>(g, x, dy, w, dx, dw, db, before, after);
    else
      backward_tiles<2>(g, x, dy, w, dx, dw, db, before, after);
  }

 private:
  static constexpr Index lanes = detail::lanes<T>;
  // Tiles per block: enough rows for the products' register tiles and a
  // long sum for S, few enough for the block's transformed tiles to stay
  // near L2 (fastest of 64, 128 and 256 measured).
  static constexpr Index block_tiles = 64;

  // F(M x M, R x R) with M + R = 7; the 'same' padding is (R - 1) / 2.
  template <int M>
  void forward_tiles(const ConvGeometry& g, const Tensor4<T>& x, const MatrixR<T>& w, const T* bias, Tensor4<T>& y,
                     ImageHook after) {
    constexpr int R = 7 - M, K = R * R;
    const Index n = x.dimension(0), groups = (n + group_ - 1) / group_, in = g.channels, out = g.out_channels;
#pragma omp parallel
    {
      // U[xi] (C x Op): U[xi][c][o] at u_ + (xi*C + c)*Op + o.
#pragma omp for schedule(static)
      for (Index c = 0; c < in; ++c)
        for (Index o0 = 0; o0 < out; o0 += lanes)
          transform_weights<R>(std::min(lanes, out - o0), [&](Index l, int k) { return w(o0 + l, c * K + k); },
                               u_.data() + c * op_ + o0, in * op_);
      Workspace& ws = work_[std::size_t(thread_id())];
#pragma omp for schedule(dynamic)
      for (Index group = 0; group < groups; ++group) {
        const Index first = group * group_, images = std::min(group_, n - first);
        for (Index ty0 = 0; ty0 < tiles_y_; ty0 += chunk_) {
          const Block b{images, ty0, std::min(ty0 + chunk_, tiles_y_), tiles_x_};
          for (Index e = 0; e < images; ++e)
            for_bands<M>(x.data() + (first + e) * g.in_size(), in, b, ws.band.data(), [&](Index c0, Index ty) {
              for (Index tx = 0; tx < tiles_x_; ++tx)
                winograd::input_tile(ws.band.data() + M * tx * lanes, row_, lanes,
                                     ws.tin.data() + b.tile(e, ty, tx) * cp_ + c0, tin_stride_);
            });
          // M[xi] (P x Op) = V[xi] (P x C) U[xi] (C x Op): a tile's channels broadcast, U read as packets.
          for (Index xi = 0; xi < 36; ++xi)
            winograd::product<T, false>(b.tiles(), op_ / lanes, in, ws.tin.data() + xi * tin_stride_, cp_, 1,
                                        u_.data() + xi * in * op_, op_, ws.tout.data() + xi * tout_stride_, op_);
          for (Index e = 0; e < images; ++e)
            to_image<M>(ws.tout.data(), op_, tout_stride_, b, e, out, bias, y.data() + (first + e) * g.out_size(),
                        ws.out_band.data());
        }
        for (Index e = 0; e < images; ++e) after(first + e);
      }
    }
  }

  template <int M>
  void backward_tiles(const ConvGeometry& g, const Tensor4<T>& x, const Tensor4<T>& dy, const MatrixR<T>& w,
                      Tensor4<T>* dx, MatrixR<T>& dw, VectorX<T>* db, ImageHook before, ImageHook after) {
    using P = detail::Packet<T>;
    constexpr int R = 7 - M, K = R * R, pad = (R - 1) / 2;
    const Index in = g.channels, out = g.out_channels;
    // U'[xi] (O x Cp) of the flipped, transposed weights: U'[xi][o][c] at uflip_ + (xi*O + o)*Cp + c.
    if (dx) {
#pragma omp parallel for schedule(static)
      for (Index o = 0; o < out; ++o)
        for (Index c0 = 0; c0 < in; c0 += lanes)
          transform_weights<R>(std::min(lanes, in - c0),
                               [&](Index l, int k) { return w(o, (c0 + l) * K + K - 1 - k); },
                               uflip_.data() + o * cp_ + c0, out * cp_);
    }
    partials_.run(x.dimension(0), dw, db, [&](int tid, Range r, MatrixR<T>& dw_t, VectorX<T>& db_t) {
      Workspace& ws = work_[std::size_t(tid)];
      ws.sums.setZero();
      ws.bias_sums.setZero();
      for (Index first = r.begin; first < r.end; first += group_) {
        const Index images = std::min(group_, r.end - first);
        for (Index e = 0; e < images; ++e) before(first + e);
        for (Index ty0 = 0; ty0 < tiles_y_; ty0 += chunk_) {
          const Block b{images, ty0, std::min(ty0 + chunk_, tiles_y_), tiles_x_};
          // V = B^T x B; E = A dy A^T, whose [1][1] adds up each tile for db; D = B^T dy B.
          for (Index e = 0; e < images; ++e) {
            for_bands<M>(x.data() + (first + e) * g.in_size(), in, b, ws.band.data(), [&](Index c0, Index ty) {
              for (Index tx = 0; tx < tiles_x_; ++tx)
                winograd::input_tile(ws.band.data() + M * tx * lanes, row_, lanes,
                                     ws.tin.data() + b.tile(e, ty, tx) * cp_ + c0, tin_stride_);
            });
            for_bands<M>(dy.data() + (first + e) * g.out_size(), out, b, ws.band.data(), [&](Index c0, Index ty) {
              P sum = Eigen::internal::ploadu<P>(ws.bias_sums.data() + c0);
              for (Index tx = 0; tx < tiles_x_; ++tx) {
                const Index t = b.tile(e, ty, tx);
                sum = Eigen::internal::padd(
                    sum, winograd::gradient_tile<M>(ws.band.data() + pad * row_ + (M * tx + pad) * lanes, row_,
                                                    lanes, ws.tgrad.data() + t * op_ + c0, tout_stride_));
                if (dx)
                  winograd::input_tile(ws.band.data() + M * tx * lanes, row_, lanes, ws.tout.data() + t * op_ + c0,
                                       tout_stride_);
              }
              Eigen::internal::pstoreu(ws.bias_sums.data() + c0, sum);
            });
          }
          // S[xi] (O x Cp) += E[xi]^T (O x P) V[xi] (P x Cp), E read along its tiles; or, with more output
          // channels than input ones, S^T[xi] (C x Op) += V[xi]^T (C x P) E[xi] (P x Op): the packets along the
          // wider side (a single packet per row of the tile made the product wait on its broadcasts).
          for (Index xi = 0; xi < 36; ++xi)
            if (sums_by_input_)
              winograd::product<T, true>(in, op_ / lanes, b.tiles(), ws.tin.data() + xi * tin_stride_, 1, cp_,
                                         ws.tgrad.data() + xi * tout_stride_, op_, ws.sums.data() + xi * in * op_,
                                         op_);
            else
              winograd::product<T, true>(out, cp_ / lanes, b.tiles(), ws.tgrad.data() + xi * tout_stride_, 1, op_,
                                         ws.tin.data() + xi * tin_stride_, cp_, ws.sums.data() + xi * out * cp_,
                                         cp_);
          if (!dx) continue;
          // M[xi] (P x Cp) = D[xi] (P x O) U'[xi] (O x Cp), into the buffer V no longer needs.
          for (Index xi = 0; xi < 36; ++xi)
            winograd::product<T, false>(b.tiles(), cp_ / lanes, out, ws.tout.data() + xi * tout_stride_, op_, 1,
                                        uflip_.data() + xi * out * cp_, cp_, ws.tin.data() + xi * tin_stride_, cp_);
          for (Index e = 0; e < images; ++e)
            to_image<M>(ws.tin.data(), cp_, tin_stride_, b, e, in, nullptr, dx->data() + (first + e) * g.in_size(),
                        ws.out_band.data());
        }
        for (Index e = 0; e < images; ++e) after(first + e);
      }
      // dW = G^T S G, lanes channels at a time: input channels of S, output channels of S^T.
      T values[K][lanes];
      auto inverse = [&](const T* s, Index stride) {
        P taps[K];
        winograd::weight_gradient_tiles<R>(s, stride, taps);
        for (int k = 0; k < K; ++k) Eigen::internal::pstoreu(values[k], taps[k]);
      };
      if (sums_by_input_) {
        for (Index c = 0; c < in; ++c)
          for (Index o0 = 0; o0 < out; o0 += lanes) {
            inverse(ws.sums.data() + c * op_ + o0, in * op_);
            for (Index l = 0; l < std::min(lanes, out - o0); ++l)
              for (int k = 0; k < K; ++k) dw_t(o0 + l, c * K + k) += values[k][l];
          }
      } else {
        for (Index o = 0; o < out; ++o)
          for (Index c0 = 0; c0 < in; c0 += lanes) {
            inverse(ws.sums.data() + o * cp_ + c0, out * cp_);
            for (Index l = 0; l < std::min(lanes, in - c0); ++l)
              for (int k = 0; k < K; ++k) dw_t(o, (c0 + l) * K + k) += values[k][l];
          }
      }
      if (db) db_t += ws.bias_sums.head(out);
    });
  }

  // Rows [ty0, ty1) of the tile grids of `images` images.
  struct Block {
    Index images, ty0, ty1, tiles_x;
    Index tiles() const { return images * (ty1 - ty0) * tiles_x; }
    // The index of tile (ty, tx) of image e of the block.
    Index tile(Index e, Index ty, Index tx) const { return (e * (ty1 - ty0) + ty - ty0) * tiles_x + tx; }
  };

  // Transformed weights G w G^T of `count` <= lanes R x R kernels, tap k
  // of kernel l being at(l, k), as the packets u[xi] at u + xi*us (lanes
  // past count get 0).
  template <int R, class At>
  static void transform_weights(Index count, At at, T* u, Index us) {
    T taps[R * R][lanes];
    for (int k = 0; k < R * R; ++k)
      for (Index l = 0; l < lanes; ++l) taps[k][l] = l < count ? at(l, k) : T(0);
    detail::Packet<T> w[R * R];
    for (int k = 0; k < R * R; ++k) w[k] = Eigen::internal::ploadu<detail::Packet<T>>(taps[k]);
    winograd::weight_tiles<R>(w, u, us);
  }

  // Walks block b of one NCHW image (`channels` planes) a block of lanes
  // channels and a row of tiles at a time: band then holds the padded rows
  // M ty .. M ty + 5 as blocked rows (row_ apart, padded column x at
  // x*lanes) and tiles(c0, ty) transforms them. Past the block's first row
  // of tiles, the band's first 6 - M rows are the last of the band before,
  // so each image row is blocked once.
  template <int M, class Tiles>
  void for_bands(const T* image, Index channels, const Block& b, T* band, Tiles tiles) const {
    constexpr Index pad = (6 - M) / 2, kept = 6 - M;
    const Index height = geometry_.height, width = geometry_.width, plane = height * width;
    for (Index c0 = 0; c0 < channels; c0 += lanes)
      for (Index ty = b.ty0; ty < b.ty1; ++ty) {
        // Band row r holds image row M ty - pad + r; rows [begin, end) are blocked here.
        const Index top = M * ty - pad;
        const Index begin = ty > b.ty0 ? top + kept : std::max<Index>(top, 0), at = begin - top;
        const Index end = std::min(top + 6, height), rows = std::max<Index>(end - begin, 0);
        if (ty > b.ty0)
          std::copy(band + M * row_, band + 6 * row_, band);
        else
          std::fill(band, band + at * row_, T(0));
        if (rows > 0)
          winograd::rows_to_blocked(image + c0 * plane, std::min(lanes, channels - c0), plane, width, begin, end,
                                    band + at * row_ + pad * lanes, row_);
        std::fill(band + (at + rows) * row_, band + 6 * row_, T(0));
        tiles(c0, ty);
      }
  }

  // Block b of image e from the transformed outputs m ([xi][tile][channel],
  // `width` channels wide, xi stride apart): A^T M A a row of tiles at a
  // time into band, then into the NCHW image out (`channels` planes) + bias.
  template <int M>
  void to_image(const T* m, Index width, Index stride, const Block& b, Index e, Index channels, const T* bias,
                T* out, T* band) const {
    const Index height = geometry_.height, plane = height * geometry_.width;
    for (Index c0 = 0; c0 < channels; c0 += lanes)
      for (Index ty = b.ty0; ty < b.ty1; ++ty) {
        for (Index tx = 0; tx < tiles_x_; ++tx)
          winograd::output_tile<M>(m + b.tile(e, ty, tx) * width + c0, stride, band + M * tx * lanes, row_, lanes);
        winograd::rows_from_blocked(band, row_, std::min(lanes, channels - c0), plane, geometry_.width, M * ty,
                                    std::min(M * ty + M, height), bias ? bias + c0 : nullptr, out + c0 * plane);
      }
  }

  // A stride of at least `values` whose cache-line count is odd, so the 36
  // positions of one tile fall into different L1 sets.
  static Index spread(Index values) {
    const Index line = 64 / Index(sizeof(T)), lines = (values + line - 1) / line;
    return (lines | 1) * line;
  }

  // One workspace set per thread for g; a no-op when g and the thread
  // count are those of the last call.
  void prepare(const ConvGeometry& g) {
    const auto threads = static_cast<std::size_t>(num_threads());
    if (g == geometry_ && work_.size() >= threads) return;
    geometry_ = g;
    const Index m = g.kernel == 3 ? 4 : 2;  // output tile side
    tiles_y_ = (g.height + m - 1) / m;
    tiles_x_ = (g.width + m - 1) / m;
    // Whole small images in groups, or large ones a few rows of tiles at a time.
    group_ = std::max<Index>(1, block_tiles / (tiles_y_ * tiles_x_));
    chunk_ = group_ > 1 ? tiles_y_ : std::clamp<Index>(block_tiles / tiles_x_, 1, tiles_y_);
    const Index tiles = group_ * chunk_ * tiles_x_;
    cp_ = (g.channels + lanes - 1) / lanes * lanes;
    op_ = (g.out_channels + lanes - 1) / lanes * lanes;
    sums_by_input_ = op_ > cp_;
    // Band rows of m*tiles_x + 6 - m pixels: the padding on each side, then
    // what the last tile reads past the image.
    row_ = (m * tiles_x_ + 6 - m) * lanes;
    tin_stride_ = spread(tiles * cp_);
    tout_stride_ = spread(tiles * op_);
    // Zero once: the lanes past the channel counts stay zero.
    u_.setZero(36 * g.channels * op_);
    uflip_.setZero(36 * g.out_channels * cp_);
    const std::size_t size = std::max(work_.size(), threads);
    work_.resize(size);
    for (Workspace& ws : work_) {
      ws.band.setZero(6 * row_);  // its padding columns are never written
      ws.out_band.resize(m * row_);
      ws.tin.resize(36 * tin_stride_);
      ws.tout.resize(36 * tout_stride_);
      ws.tgrad.resize(36 * tout_stride_);
      ws.sums.resize(sums_by_input_ ? 36 * g.channels * op_ : 36 * g.out_channels * cp_);
      ws.bias_sums.resize(op_);
    }
    partials_.resize(size, g.out_channels, g.rows());
  }

  struct Workspace {
    VectorX<T> band, out_band;    // 6 blocked rows of an input, M of an output, a block of channels
    VectorX<T> tin, tout, tgrad;  // transformed tiles [xi][tile][channel]: C, O and O channels wide
    VectorX<T> sums, bias_sums;   // S[xi] or S^T[xi] before its inverse transform; db by channel
  };
  ConvGeometry geometry_;
  Index tiles_y_ = 0, tiles_x_ = 0;
  Index group_ = 1, chunk_ = 1;  // images per block; rows of tiles per block
  Index cp_ = 0, op_ = 0;        // channel counts rounded up to whole packets
  bool sums_by_input_ = false;   // the weight gradient's sums kept as S^T (C x Op) rather than S (O x Cp)
  Index row_ = 0, tin_stride_ = 0, tout_stride_ = 0;
  VectorX<T> u_, uflip_;  // U and U', transformed weights
  std::vector<Workspace> work_;
  GradientPartials<T> partials_;
};

}  // namespace shallow
