// WinogradConv, F(4x4, 3x3) and F(2x2, 5x5): its transforms, its error
// against a direct convolution in float and double, bitwise
// reproducibility, and its per-image hooks.
//
// The error bound: every output of every pass stays within
// error_bound * eps * S of the exact result (eps of the type computed in),
// where S is the largest operand norm of one output, sum |a| * max |b| over
// what a direct convolution multiplies for it: ||w_o||_1 ||x_i||_inf for y,
// ||w_c||_1 ||dy_i||_inf for dx, sum_i ||dy_i,o||_1 ||x_i,c||_inf for dW,
// sum_i ||dy_i,o||_1 for db (all taps, as Winograd's transforms mix all of
// them, padding included).
#include <catch2/catch.hpp>

#include <shallow/shallow.hpp>

#include "conv_checks.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

using namespace shallow;
using conv_checks::check_hooks;
using conv_checks::check_reproducible;
using conv_checks::random_batch;

namespace {

// Measured worst cases over the shapes below, in eps * S, 3x3 (float and
// double): forward 4.0 and 4.0, dx 3.5 and 4.8, dW 2.7 and 3.2, db 0.4;
// 5x5: forward 2.7 and 2.4, dx 1.5 and 1.7, dW 5.3 and 5.7, db 0.4. A
// transform matrix of F(4x4, 3x3) with one element off by 1/64 errs by 548x
// this bound.
constexpr double error_bound = 16;

using Ref = Tensor4<long double>;

// The exact results (long double) of a direct 'same' convolution (the
// kernel size from w's shape), and their scales S.
struct Direct {
  Ref y, dx;
  MatrixR<long double> dw;
  VectorX<long double> db;
  long double y_scale = 0, dx_scale = 0, dw_scale = 0, db_scale = 0;
};

template <class T>
Direct direct(const Tensor4<T>& x, const MatrixR<T>& w, const VectorX<T>& b, const Tensor4<T>& dy) {
  const Index n = x.dimension(0), in = x.dimension(1), h = x.dimension(2), wd = x.dimension(3), out = w.rows();
  const Index k = w.cols() / in == 25 ? 5 : 3, taps = k * k, pad = k / 2;
  Direct d;
  d.y = Ref(n, out, h, wd);
  d.dx = Ref(n, in, h, wd);
  d.dx.setZero();
  d.dw = MatrixR<long double>::Zero(out, in * taps);
  d.db = VectorX<long double>::Zero(out);
  for (Index i = 0; i < n; ++i)
    for (Index o = 0; o < out; ++o)
      for (Index oy = 0; oy < h; ++oy)
        for (Index ox = 0; ox < wd; ++ox) {
          long double sum = b[o];
          const long double g = dy(i, o, oy, ox);
          for (Index c = 0; c < in; ++c)
            for (Index ky = 0; ky < k; ++ky)
              for (Index kx = 0; kx < k; ++kx) {
                const Index iy = oy + ky - pad, ix = ox + kx - pad;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const long double wv = w(o, c * taps + ky * k + kx), xv = x(i, c, iy, ix);
                sum += wv * xv;
                d.dx(i, c, iy, ix) += wv * g;
                d.dw(o, c * taps + ky * k + kx) += g * xv;
              }
          d.y(i, o, oy, ox) = sum;
          d.db[o] += g;
        }
  // ||.||_1 and ||.||_inf of each image's channel planes and weight rows.
  auto plane_norms = [](const Tensor4<T>& t, Index i, Index c, long double& l1, long double& inf) {
    const Index size = t.dimension(2) * t.dimension(3);
    l1 = inf = 0;
    for (Index k = 0; k < size; ++k) {
      const long double v = std::abs(static_cast<long double>(t.data()[(i * t.dimension(1) + c) * size + k]));
      l1 += v;
      inf = std::max(inf, v);
    }
  };
  auto kernel_l1 = [&](Index o, Index c) {
    long double s = 0;
    for (Index t = 0; t < taps; ++t) s += std::abs(static_cast<long double>(w(o, c * taps + t)));
    return s;
  };
  MatrixR<long double> dw_scale = MatrixR<long double>::Zero(out, in);
  VectorX<long double> db_scale = VectorX<long double>::Zero(out);
  for (Index i = 0; i < n; ++i) {
    std::vector<long double> x_inf(static_cast<std::size_t>(in)), dy_inf(static_cast<std::size_t>(out)),
        dy_l1(static_cast<std::size_t>(out));
    long double unused;
    for (Index c = 0; c < in; ++c) plane_norms(x, i, c, unused, x_inf[std::size_t(c)]);
    for (Index o = 0; o < out; ++o) plane_norms(dy, i, o, dy_l1[std::size_t(o)], dy_inf[std::size_t(o)]);
    for (Index o = 0; o < out; ++o) {
      long double y_scale = std::abs(static_cast<long double>(b[o]));
      for (Index c = 0; c < in; ++c) {
        y_scale += kernel_l1(o, c) * x_inf[std::size_t(c)];
        dw_scale(o, c) += dy_l1[std::size_t(o)] * x_inf[std::size_t(c)];
      }
      d.y_scale = std::max(d.y_scale, y_scale);
      db_scale[o] += dy_l1[std::size_t(o)];
    }
    for (Index c = 0; c < in; ++c) {
      long double dx_scale = 0;
      for (Index o = 0; o < out; ++o) dx_scale += kernel_l1(o, c) * dy_inf[std::size_t(o)];
      d.dx_scale = std::max(d.dx_scale, dx_scale);
    }
  }
  d.dw_scale = dw_scale.maxCoeff();
  d.db_scale = db_scale.maxCoeff();
  return d;
}

template <class A, class B>
long double max_error(const A& got, const B& exact, Index size) {
  long double e = 0;
  for (Index i = 0; i < size; ++i) e = std::max(e, std::abs(static_cast<long double>(got[i]) - exact[i]));
  return e;
}

struct Shape {
  Index in, out, h, w, n;
};

// Partial tiles both ways, 1x1 images, exactly one tile, channel counts off
// the packet width, large channel counts, wide and tall images, a batch that
// splits into groups of images (16x16: 4 images a group), and images taken
// a few rows of tiles at a time (37x70: 3 rows of 18 tiles).
const Shape shapes[] = {{1, 1, 1, 1, 3},    {3, 5, 7, 6, 2},    {2, 3, 4, 4, 2},     {17, 33, 9, 13, 2},
                        {128, 16, 8, 8, 2}, {16, 128, 5, 5, 1}, {64, 64, 12, 12, 1}, {4, 4, 3, 30, 2},
                        {8, 8, 29, 3, 1},   {5, 6, 16, 16, 6},  {3, 4, 37, 70, 2}};

// Errors of forward, dx, dW and db over the shapes, in units of eps * S.
template <class T>
std::vector<double> winograd_errors(Index kernel) {
  const double eps = std::numeric_limits<T>::epsilon();
  std::vector<double> worst(4, 0.0);
  std::uint64_t seed = 1;
  for (const Shape& s : shapes) {
    Conv2d<T> conv(s.in, s.out, kernel, 1, same_padding, true, ConvOptions{ConvAlgorithm::winograd});
    Rng init(seed);
    conv.reset_parameters(init);
    for (Index o = 0; o < s.out; ++o) conv.bias()[o] = T(init.uniform(-1, 1));
    const Tensor4<T> x = random_batch<T>(s.n, s.in, s.h, s.w, ++seed);
    const Tensor4<T> dy = random_batch<T>(s.n, s.out, s.h, s.w, ++seed);
    Tensor4<T> y, dx;
    conv.forward_into(x, y);
    conv.zero_grad();
    conv.backward_into(x, dy, &dx);
    REQUIRE(conv.last_algorithm() == ConvAlgorithm::winograd);
    const Direct d = direct(x, conv.weight(), conv.bias(), dy);
    const double errors[4] = {
        double(max_error(y.data(), d.y.data(), y.size()) / d.y_scale),
        double(max_error(dx.data(), d.dx.data(), dx.size()) / d.dx_scale),
        double(max_error(conv.weight_grad().data(), d.dw.data(), d.dw.size()) / d.dw_scale),
        double(max_error(conv.bias_grad().data(), d.db.data(), d.db.size()) / d.db_scale)};
    for (int p = 0; p < 4; ++p) {
      INFO(s.in << "->" << s.out << " " << s.h << "x" << s.w << " k" << kernel << " batch " << s.n << ", pass " << p
                << ": "
                << errors[p] / eps << " eps * S");
      CHECK(errors[p] <= error_bound * eps);
      worst[std::size_t(p)] = std::max(worst[std::size_t(p)], errors[p] / eps);
    }
  }
  return worst;
}

// A scalar Winograd forward pass with its own copies of the transform
// matrices, in float: one element of one of them may be changed, to show
// what error a one-element mistake makes.
struct Matrices {
  double at[4][6], g[6][3], bt[6][6];
};

Matrices exact_matrices() {
  Matrices m;
  std::copy(&winograd::AT4[0][0], &winograd::AT4[0][0] + 24, &m.at[0][0]);
  std::copy(&winograd::G3[0][0], &winograd::G3[0][0] + 18, &m.g[0][0]);
  std::copy(&winograd::BT[0][0], &winograd::BT[0][0] + 36, &m.bt[0][0]);
  return m;
}

// y (n x out x h x w, h and w multiples of 4) of x and w by F(4x4, 3x3) with
// the matrices m, transforms and sums in float.
Tensor4<float> scalar_winograd(const Matrices& m, const Tensor4<float>& x, const MatrixR<float>& w) {
  const Index n = x.dimension(0), in = x.dimension(1), h = x.dimension(2), wd = x.dimension(3), out = w.rows();
  Tensor4<float> y(n, out, h, wd);
  std::vector<float> u(std::size_t(out * in * 36)), v(std::size_t(in * 36));
  for (Index o = 0; o < out; ++o)
    for (Index c = 0; c < in; ++c)
      for (int a = 0; a < 6; ++a)
        for (int b = 0; b < 6; ++b) {
          double s = 0;
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) s += m.g[a][ky] * w(o, c * 9 + ky * 3 + kx) * m.g[b][kx];
          u[std::size_t((o * in + c) * 36 + a * 6 + b)] = float(s);
        }
  for (Index i = 0; i < n; ++i)
    for (Index ty = 0; ty < h / 4; ++ty)
      for (Index tx = 0; tx < wd / 4; ++tx) {
        for (Index c = 0; c < in; ++c)
          for (int a = 0; a < 6; ++a)
            for (int b = 0; b < 6; ++b) {
              float s = 0;
              for (int r = 0; r < 6; ++r)
                for (int q = 0; q < 6; ++q) {
                  const Index iy = 4 * ty + r - 1, ix = 4 * tx + q - 1;
                  if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                    s += float(m.bt[a][r] * m.bt[b][q]) * x(i, c, iy, ix);
                }
              v[std::size_t(c * 36 + a * 6 + b)] = s;
            }
        for (Index o = 0; o < out; ++o) {
          float prod[36] = {};
          for (Index c = 0; c < in; ++c)
            for (int k = 0; k < 36; ++k) prod[k] += u[std::size_t((o * in + c) * 36 + k)] * v[std::size_t(c * 36 + k)];
          for (int r = 0; r < 4; ++r)
            for (int q = 0; q < 4; ++q) {
              float s = 0;
              for (int a = 0; a < 6; ++a)
                for (int b = 0; b < 6; ++b) s += float(m.at[r][a] * m.at[q][b]) * prod[a * 6 + b];
              y(i, o, 4 * ty + r, 4 * tx + q) = s;
            }
        }
      }
  return y;
}


}  // namespace

namespace {

// F(M x M, R x R) and F(R x R, M x M) with the matrices AT and G (and BT)
// against direct sums, on random tiles.
template <int M, int R>
void check_exact(const double (&AT)[M][6], const double (&G)[6][R]) {
  using winograd::BT;
  Rng rng(5);
  for (int trial = 0; trial < 10; ++trial) {
    double d[6][6], g[R][R], dy[M][M];
    for (auto& r : d)
      for (double& v : r) v = rng.uniform(-1, 1);
    for (auto& r : g)
      for (double& v : r) v = rng.uniform(-1, 1);
    for (auto& r : dy)
      for (double& v : r) v = rng.uniform(-1, 1);
    // V = B^T d B, U = G g G^T, E = A dy A^T.
    double v[6][6] = {}, u[6][6] = {}, e[6][6] = {};
    for (int a = 0; a < 6; ++a)
      for (int b = 0; b < 6; ++b) {
        for (int r = 0; r < 6; ++r)
          for (int q = 0; q < 6; ++q) v[a][b] += BT[a][r] * d[r][q] * BT[b][q];
        for (int r = 0; r < R; ++r)
          for (int q = 0; q < R; ++q) u[a][b] += G[a][r] * g[r][q] * G[b][q];
        for (int r = 0; r < M; ++r)
          for (int q = 0; q < M; ++q) e[a][b] += AT[r][a] * dy[r][q] * AT[q][b];
      }
    for (int r = 0; r < M; ++r)
      for (int q = 0; q < M; ++q) {
        double y = 0, direct = 0;
        for (int a = 0; a < 6; ++a)
          for (int b = 0; b < 6; ++b) y += AT[r][a] * u[a][b] * v[a][b] * AT[q][b];
        for (int ky = 0; ky < R; ++ky)
          for (int kx = 0; kx < R; ++kx) direct += g[ky][kx] * d[r + ky][q + kx];
        CHECK(y == Approx(direct).margin(1e-13));
      }
    for (int ky = 0; ky < R; ++ky)
      for (int kx = 0; kx < R; ++kx) {
        double dw = 0, direct = 0;
        for (int a = 0; a < 6; ++a)
          for (int b = 0; b < 6; ++b) dw += G[a][ky] * e[a][b] * v[a][b] * G[b][kx];
        for (int r = 0; r < M; ++r)
          for (int q = 0; q < M; ++q) direct += dy[r][q] * d[r + ky][q + kx];
        CHECK(dw == Approx(direct).margin(1e-13));
      }
  }
}

// gradient_tile<M> and output_tile<M> on packets: every lane its own tile.
template <int M>
void check_tile_transforms(const double (&AT)[M][6]) {
  using P = detail::Packet<double>;
  constexpr Index L = detail::lanes<double>;
  Rng rng(6);
  std::vector<double> tile(36 * L), out(36 * L), small(M * M * L);
  for (double& v : tile) v = rng.uniform(-1, 1);
  for (double& v : small) v = rng.uniform(-1, 1);
  // Pixel (r, q) of lane l at [(r*side + q)*L + l]; transformed position xi at [xi*L + l].
  const P sum = winograd::gradient_tile<M>(small.data(), M * L, L, out.data(), L);
  double sums[L];
  Eigen::internal::pstoreu(sums, sum);
  for (Index l = 0; l < L; ++l) {
    double total = 0;
    for (int a = 0; a < 6; ++a)
      for (int b = 0; b < 6; ++b) {
        double v = 0;
        for (int r = 0; r < M; ++r)
          for (int q = 0; q < M; ++q) v += AT[r][a] * small[std::size_t((r * M + q) * L + l)] * AT[q][b];
        CHECK(out[std::size_t((a * 6 + b) * L + l)] == Approx(v).margin(1e-13));
      }
    for (int k = 0; k < M * M; ++k) total += small[std::size_t(k * L + l)];
    CHECK(sums[l] == Approx(total).margin(1e-13));
  }
  std::vector<double> y(M * M * L);
  winograd::output_tile<M>(tile.data(), L, y.data(), M * L, L);
  for (Index l = 0; l < L; ++l)
    for (int r = 0; r < M; ++r)
      for (int q = 0; q < M; ++q) {
        double v = 0;
        for (int a = 0; a < 6; ++a)
          for (int b = 0; b < 6; ++b) v += AT[r][a] * tile[std::size_t((a * 6 + b) * L + l)] * AT[q][b];
        CHECK(y[std::size_t((r * M + q) * L + l)] == Approx(v).margin(1e-13));
      }
}

}  // namespace

TEST_CASE("the transform matrices compute F(4x4, 3x3), F(3x3, 4x4), F(2x2, 5x5) and F(5x5, 2x2) exactly") {
  check_exact<4, 3>(winograd::AT4, winograd::G3);
  check_exact<2, 5>(winograd::AT2, winograd::G5);
}

TEST_CASE("the packet tile transforms apply the matrices, every lane its own tile") {
  constexpr Index L = detail::lanes<double>;
  Rng rng(7);
  std::vector<double> tile(36 * L), out(36 * L);
  for (double& v : tile) v = rng.uniform(-1, 1);
  winograd::input_tile(tile.data(), 6 * L, L, out.data(), L);
  for (Index l = 0; l < L; ++l)
    for (int a = 0; a < 6; ++a)
      for (int b = 0; b < 6; ++b) {
        double v = 0;
        for (int r = 0; r < 6; ++r)
          for (int q = 0; q < 6; ++q)
            v += winograd::BT[a][r] * tile[std::size_t((r * 6 + q) * L + l)] * winograd::BT[b][q];
        CHECK(out[std::size_t((a * 6 + b) * L + l)] == Approx(v).margin(1e-13));
      }
  check_tile_transforms<4>(winograd::AT4);
  check_tile_transforms<2>(winograd::AT2);
}

TEST_CASE("Winograd forward, dx, dW and db stay within the error bound, in float and double") {
  for (const Index kernel : {3, 5}) {
    INFO("kernel " << kernel);
    const std::vector<double> in_float = winograd_errors<float>(kernel);
    const std::vector<double> in_double = winograd_errors<double>(kernel);
    // Not vacuous either way: the passes do err (the bound is not far above
    // what they reach) ...
    CHECK(*std::max_element(in_float.begin(), in_float.end()) >= 0.5);
    CHECK(*std::max_element(in_double.begin(), in_double.end()) >= 0.5);
  }
}

TEST_CASE("the error bound catches a one-element mistake in any transform matrix") {
  // ... and every transform with one element off by 1/64 exceeds it, on
  // the same measure, while the exact matrices stay within it.
  const Index in = 8, out = 4, h = 8, w = 8;
  const Tensor4<float> x = random_batch<float>(2, in, h, w, 11);
  MatrixR<float> weight(out, in * 9);
  Rng rng(12);
  for (Index i = 0; i < weight.size(); ++i) weight.data()[i] = float(rng.uniform(-1, 1));
  const VectorX<float> no_bias = VectorX<float>::Zero(out);
  const Direct d = direct(x, weight, no_bias, random_batch<float>(2, out, h, w, 13));
  const double bound = error_bound * std::numeric_limits<float>::epsilon() * double(d.y_scale);
  auto error = [&](const Matrices& m) {
    const Tensor4<float> y = scalar_winograd(m, x, weight);
    return double(max_error(y.data(), d.y.data(), y.size()));
  };
  CHECK(error(exact_matrices()) <= bound);
  double smallest = std::numeric_limits<double>::infinity();
  for (int which = 0; which < 3; ++which)
    for (int k = 0; k < (which == 0 ? 24 : which == 1 ? 18 : 36); ++k) {
      Matrices m = exact_matrices();
      double* element = which == 0 ? &m.at[0][0] + k : which == 1 ? &m.g[0][0] + k : &m.bt[0][0] + k;
      *element += 1.0 / 64;
      smallest = std::min(smallest, error(m));
    }
  INFO("smallest one-element error: " << smallest / bound << " x the bound");
  CHECK(smallest > 100 * bound);
}

TEST_CASE("Winograd results are bitwise reproducible at 1 and 2 threads") {
  // Small images in groups, then large ones in rows of tiles.
  for (const auto& [h, w] : {std::pair<Index, Index>{10, 9}, {50, 30}})
    for (const Index k : {3, 5}) {
      INFO(h << "x" << w << " k" << k);
      check_reproducible<WinogradConv<float>>(7, 19, 21, h, w, k);
    }
}

TEST_CASE("Winograd calls each hook once per image, after(i) on final data, before(i) before dy is read") {
  check_hooks<WinogradConv<float>>();
}

TEST_CASE("Winograd takes exactly the 3x3 and 5x5, stride-1 'same' geometries, and the automatic choice elsewhere is "
          "unchanged") {
  CHECK(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 3, 1, same_padding, 1, 1)));
  CHECK(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 3, 1, 1, 9, 30)));  // padding 1 is 'same'
  CHECK(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 5, 1, same_padding, 8, 8)));
  CHECK(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 5, 1, 2, 1, 1)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 3, 2, same_padding, 8, 8)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 3, 1, 0, 8, 8)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 5, 1, 1, 8, 8)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 5, 2, same_padding, 8, 8)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 7, 1, same_padding, 8, 8)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::winograd, conv_geometry(3, 4, 1, 1, same_padding, 8, 8)));
  for (const ConvGeometry& g :
       {conv_geometry(3, 4, 3, 2, same_padding, 8, 8), conv_geometry(3, 4, 5, 1, same_padding, 8, 8),
        conv_geometry(3, 4, 1, 1, same_padding, 8, 8), conv_geometry(3, 4, 3, 1, 0, 8, 8),
        conv_geometry(3, 4, 2, 1, same_padding, 8, 8)}) {
    INFO(to_string(g));
    CHECK(choose_conv_algorithm(g) == (PlaneConv<float>::accepts(g) ? ConvAlgorithm::planes : ConvAlgorithm::im2col));
  }
  // Where it does take them: wide enough convolutions, or small images.
  CHECK(choose_conv_algorithm(conv_geometry(16, 16, 3, 1, same_padding, 28, 28)) == ConvAlgorithm::winograd);
  CHECK(choose_conv_algorithm(conv_geometry(8, 12, 3, 1, same_padding, 28, 28)) == ConvAlgorithm::winograd);
  CHECK(choose_conv_algorithm(conv_geometry(8, 8, 3, 1, same_padding, 16, 16)) == ConvAlgorithm::winograd);
  CHECK(choose_conv_algorithm(conv_geometry(8, 8, 3, 1, same_padding, 28, 28)) == ConvAlgorithm::planes);
  CHECK(choose_conv_algorithm(conv_geometry(4, 64, 3, 1, same_padding, 8, 8)) == ConvAlgorithm::planes);
  CHECK(choose_conv_algorithm(conv_geometry(16, 16, 5, 1, same_padding, 28, 28)) == ConvAlgorithm::winograd);
  CHECK(choose_conv_algorithm(conv_geometry(8, 64, 5, 1, same_padding, 28, 28)) == ConvAlgorithm::winograd);
  CHECK(choose_conv_algorithm(conv_geometry(8, 8, 5, 1, same_padding, 8, 8)) == ConvAlgorithm::winograd);
  CHECK(choose_conv_algorithm(conv_geometry(8, 12, 5, 1, same_padding, 28, 28)) == ConvAlgorithm::planes);
  CHECK(choose_conv_algorithm(conv_geometry(1, 8, 5, 1, same_padding, 28, 28)) == ConvAlgorithm::planes);
}
