// BlockedConv: the channel-blocked direct kernels against the plane
// kernels on shapes of several blocks (full and partial, pairs and single
// blocks, rows cut into unequal tiles), in float and double; bitwise
// reproducibility; the per-image hooks; which geometries it takes. Its
// gradients are checked against finite differences in test_gradients.cpp.
#include <catch2/catch.hpp>

#include <shallow/shallow.hpp>

#include <algorithm>
#include <cmath>

#include "conv_checks.hpp"

using namespace shallow;
using conv_checks::random_batch;

namespace {

template <class T>
double max_difference(const T* a, const T* b, Index size) {
  double d = 0;
  for (Index i = 0; i < size; ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
  return d;
}

// Forward, dx, dW and db of BlockedConv against PlaneConv on one shape,
// relative to the largest reference value.
template <class T>
void check_against_planes(Index n, Index in, Index out, Index h, Index w, Index k, double tolerance) {
  INFO(in << "->" << out << " " << h << "x" << w << " k" << k);
  const ConvGeometry g = conv_geometry(in, out, k, 1, same_padding, h, w);
  const Tensor4<T> x = random_batch<T>(n, in, h, w, 41), dy = random_batch<T>(n, out, h, w, 42);
  const MatrixR<T> weight = MatrixR<T>::Random(out, in * k * k);
  const VectorX<T> bias = VectorX<T>::Random(out);
  Tensor4<T> y[2], dx[2];
  MatrixR<T> dw[2];
  VectorX<T> db[2];
  BlockedConv<T> blocked;
  PlaneConv<T> planes;
  ConvKernel<T>* kernels[2] = {&blocked, &planes};
  for (int i = 0; i < 2; ++i) {
    y[i].resize(n, out, h, w);
    dx[i].resize(n, in, h, w);
    dw[i].setZero(out, in * k * k);
    db[i].setZero(out);
    kernels[i]->forward(g, x, weight, bias.data(), y[i], {});
    kernels[i]->backward(g, x, dy, weight, &dx[i], dw[i], &db[i], {}, {});
  }
  auto close = [&](const auto& a, const auto& b) {
    const double scale = std::max(1.0, double(b.cwiseAbs().maxCoeff()));
    return max_difference(a.data(), b.data(), a.size()) <= tolerance * scale;
  };
  CHECK(max_difference(y[0].data(), y[1].data(), y[0].size()) <= tolerance * in * k * k);
  CHECK(max_difference(dx[0].data(), dx[1].data(), dx[0].size()) <= tolerance * out * k * k);
  CHECK(close(dw[0], dw[1]));
  CHECK(close(db[0], db[1]));
}

}  // namespace

TEST_CASE("BlockedConv equals the plane kernels on shapes of several channel blocks, in float and double") {
  // float blocks are 16 channels with AVX-512, double 8: both meet full and
  // partial blocks, pairs and single blocks, and rows cut into several tiles.
  const Index shapes[][6] = {{3, 4, 3, 7, 6, 3},   {2, 20, 37, 8, 8, 3},  {2, 17, 5, 6, 11, 5},
                             {2, 40, 9, 13, 29, 3}, {1, 33, 48, 7, 7, 5}, {2, 16, 16, 28, 28, 3},
                             {3, 1, 1, 3, 3, 3},    {1, 9, 50, 5, 37, 5}};
  for (const auto& s : shapes) {
    check_against_planes<float>(s[0], s[1], s[2], s[3], s[4], s[5], 2e-5);
    check_against_planes<double>(s[0], s[1], s[2], s[3], s[4], s[5], 1e-13);
  }
}

TEST_CASE("BlockedConv reads images of every small and tile-edge size in place, padding implied") {
  // Images narrower or shorter than the kernel (every tap of a row on the
  // padding), one tile per row, and the widths where rows are cut into two,
  // three or four tiles.
  for (const Index k : {3, 5}) {
    for (const Index side : {1, 2, 3, 4}) {
      check_against_planes<float>(2, 3, 17, side, 5, k, 2e-5);
      check_against_planes<float>(2, 5, 9, 6, side, k, 2e-5);
      check_against_planes<double>(1, 9, 3, side, side, k, 1e-13);
    }
    for (const Index width : {8, 9, 12, 13, 16, 17, 24, 25, 33, 49}) {
      check_against_planes<float>(1, 6, 33, 3, width, k, 2e-5);
      check_against_planes<double>(1, 6, 17, 4, width, k, 1e-13);
    }
  }
}

TEST_CASE("BlockedConv results are bitwise reproducible at 1 and 2 threads") {
  conv_checks::check_reproducible<BlockedConv<float>>(7, 19, 21, 10, 9, 3);
  conv_checks::check_reproducible<BlockedConv<float>>(5, 35, 17, 13, 30, 5);
}

TEST_CASE("BlockedConv calls each hook once per image, after(i) on final data, before(i) before dy is read") {
  conv_checks::check_hooks<BlockedConv<float>>();
}

TEST_CASE("BlockedConv takes exactly the 3x3 and 5x5 stride-1 'same' geometries") {
  CHECK(conv_accepts(ConvAlgorithm::blocked, conv_geometry(3, 4, 3, 1, same_padding, 1, 1)));
  CHECK(conv_accepts(ConvAlgorithm::blocked, conv_geometry(64, 64, 5, 1, same_padding, 32, 32)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::blocked, conv_geometry(4, 4, 1, 1, same_padding, 8, 8)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::blocked, conv_geometry(4, 4, 2, 1, same_padding, 8, 8)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::blocked, conv_geometry(4, 4, 7, 1, same_padding, 8, 8)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::blocked, conv_geometry(4, 4, 3, 2, same_padding, 8, 8)));
  CHECK_FALSE(conv_accepts(ConvAlgorithm::blocked, conv_geometry(4, 4, 3, 1, 0, 8, 8)));
  CHECK(parse_conv_algorithm("blocked") == ConvAlgorithm::blocked);
  // The automatic choice never takes it: Winograd is faster where it could.
  CHECK(choose_conv_algorithm(conv_geometry(96, 96, 3, 1, same_padding, 8, 8)) == ConvAlgorithm::winograd);
}
