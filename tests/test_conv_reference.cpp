// Conv2d (float) against a naive direct convolution in double, on random
// shapes, with every algorithm that accepts each shape forced in turn;
// im2col/col2im as an adjoint pair; to_planes against its layout.
#include <catch2/catch.hpp>

#include <iterator>
#include <vector>

#include <shallow/shallow.hpp>

using namespace shallow;

namespace {

// y[n][o][oy][ox] = b[o] + sum_{c,ky,kx} W[o][c][ky][kx] * x[n][c][oy*s - pt + ky][ox*s - pl + kx]
Tensor4<double> direct_conv(const Tensor4<float>& x, const Conv2d<float>& conv) {
  const ConvGeometry g = conv.geometry(x.dimension(2), x.dimension(3));
  const Index n = x.dimension(0), k = g.kernel, out = conv.out_channels();
  Tensor4<double> y(n, out, g.out_h, g.out_w);
  for (Index b = 0; b < n; ++b)
    for (Index o = 0; o < out; ++o)
      for (Index oy = 0; oy < g.out_h; ++oy)
        for (Index ox = 0; ox < g.out_w; ++ox) {
          double sum = conv.has_bias() ? double(conv.bias()[o]) : 0.0;
          for (Index c = 0; c < g.channels; ++c)
            for (Index ky = 0; ky < k; ++ky)
              for (Index kx = 0; kx < k; ++kx) {
                const Index iy = oy * g.stride - g.pad_top + ky, ix = ox * g.stride - g.pad_left + kx;
                if (iy < 0 || iy >= g.height || ix < 0 || ix >= g.width) continue;
                sum += double(conv.weight()(o, (c * k + ky) * k + kx)) * double(x(b, c, iy, ix));
              }
          y(b, o, oy, ox) = sum;
        }
  return y;
}

}  // namespace

TEST_CASE("Conv2d forward equals a direct convolution on random shapes, with every algorithm") {
  Rng rng(2024);
  int runs[std::size(conv_algorithms)] = {};
  for (int trial = 0; trial < 60; ++trial) {
    const Index in = 1 + Index(rng.below(6)), out = 1 + Index(rng.below(7)), kernel = 1 + Index(rng.below(5));
    const Index stride = 1 + Index(rng.below(3));
    const bool same = rng.below(2) == 0;
    const Index padding = same ? same_padding : Index(rng.below(3));
    const Index n = 1 + Index(rng.below(4));
    const Index h = kernel + Index(rng.below(9)), w = kernel + Index(rng.below(9));
    Conv2d<float> conv(in, out, kernel, stride, padding, rng.below(2) == 0);
    Rng init(static_cast<std::uint64_t>(trial));
    conv.reset_parameters(init);
    Tensor4<float> x(n, in, h, w);
    x.setRandom();
    const Tensor4<double> ref = direct_conv(x, conv);
    for (std::size_t a = 0; a < std::size(conv_algorithms); ++a) {
      const ConvAlgorithm algorithm = conv_algorithms[a];
      if (!conv_accepts(algorithm, conv.geometry(h, w))) continue;
      ++runs[a];
      conv.set_algorithm(algorithm);
      const Tensor4<float>& y = conv.forward(x);
      CHECK(conv.last_algorithm() == algorithm);
      INFO(conv.spec() << " on " << n << "x" << in << "x" << h << "x" << w);
      REQUIRE(y.dimension(2) == ref.dimension(2));
      REQUIRE(y.dimension(3) == ref.dimension(3));
      double max_err = 0, max_ref = 0;
      for (Index i = 0; i < y.size(); ++i) {
        max_err = std::max(max_err, std::abs(double(y.data()[i]) - ref.data()[i]));
        max_ref = std::max(max_ref, std::abs(ref.data()[i]));
      }
      CHECK(max_err <= 1e-4 * std::max(max_ref, 1.0));
    }
  }
  // Each algorithm met several of the random shapes.
  CHECK(runs[0] == 60);
  CHECK(runs[1] >= 5);
}

TEST_CASE("a forced algorithm that cannot take a geometry is refused, never replaced") {
  Conv2d<float> strided(2, 2, 3, 2, same_padding, true, ConvOptions{ConvAlgorithm::planes});
  Tensor4<float> x(1, 2, 8, 8);
  x.setRandom();
  CHECK_THROWS_WITH(strided.forward(x), Catch::Contains("the planes algorithm cannot compute 2->2 8x8 k3 s2"));
  CHECK_THROWS_AS(strided.output_shape({2, 8, 8}), ConfigError);
  // The forced choice travels with the spec; automatic leaves no trace.
  CHECK(strided.spec() == "conv2d in=2 out=2 kernel=3 stride=2 padding=same bias=1 algorithm=planes");
  CHECK(make_layer<float>(strided.spec())->spec() == strided.spec());
  Conv2d<float> free(2, 2, 3);
  CHECK(free.spec() == "conv2d in=2 out=2 kernel=3 stride=1 padding=same bias=1");
  free.forward(x);
  CHECK(free.last_algorithm() == ConvAlgorithm::planes);
  strided.set_algorithm(ConvAlgorithm::automatic);
  strided.forward(x);
  CHECK(strided.last_algorithm() == ConvAlgorithm::im2col);
}

TEST_CASE("'same' padding keeps ceil(in/stride), even kernels pad bottom/right") {
  Conv2d<float> k2(1, 1, 2);
  const ConvGeometry g = k2.geometry(5, 6);
  CHECK(g.out_h == 5);
  CHECK(g.out_w == 6);
  CHECK(g.pad_top == 0);  // the one padding row goes below, as in PyTorch
  Conv2d<float> s2(1, 1, 3, 2);
  CHECK(s2.output_shape({1, 7, 8}) == Shape{1, 4, 4});
  Conv2d<float> valid(1, 1, 3, 1, 0);
  CHECK(valid.output_shape({1, 7, 8}) == Shape{1, 5, 6});
}

TEST_CASE("col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>") {
  Rng rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    ConvGeometry g;
    g.channels = 1 + Index(rng.below(3));
    g.kernel = 1 + Index(rng.below(4));
    g.stride = 1 + Index(rng.below(3));
    g.height = g.kernel + Index(rng.below(6));
    g.width = g.kernel + Index(rng.below(6));
    g.pad_top = Index(rng.below(3));
    g.pad_left = Index(rng.below(3));
    g.out_h = (g.height + 2 * g.pad_top - g.kernel) / g.stride + 1;
    g.out_w = (g.width + 2 * g.pad_left - g.kernel) / g.stride + 1;
    Eigen::VectorXd x = Eigen::VectorXd::Random(g.in_size());
    Eigen::VectorXd c = Eigen::VectorXd::Random(g.rows() * g.cols());
    Eigen::VectorXd col(g.rows() * g.cols()), back = Eigen::VectorXd::Zero(g.in_size());
    im2col(g, x.data(), col.data());
    col2im(g, c.data(), back.data());
    CHECK(col.dot(c) == Approx(x.dot(back)).epsilon(1e-12));
  }
}

TEMPLATE_TEST_CASE("to_planes writes each row into the plane interior and nothing else, at every width", "",
                   float, double) {
  using T = TestType;
  for (Index k : {3, 5})
    for (Index width = 1; width <= 40; ++width) {
      INFO("k" << k << " width " << width);
      const Index height = 3, channels = 2, pad = k / 2;
      const PlaneLayout p = plane_layout<T>(k, height, width);
      std::vector<T> x(std::size_t(channels * height * width)), planes(std::size_t(channels * p.stride), T(-7));
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = T(i + 1);
      to_planes(p, channels, pad, pad, x.data(), planes.data());
      Index wrong = 0;
      for (Index c = 0; c < channels; ++c)
        for (Index q = 0; q < p.stride; ++q) {
          const Index row = q / p.wp - pad, col = q % p.wp - pad;
          const bool inside = row >= 0 && row < height && col >= 0 && col < width;
          const T expected = inside ? x[std::size_t((c * height + row) * width + col)] : T(-7);
          wrong += planes[std::size_t(c * p.stride + q)] != expected;
        }
      CHECK(wrong == 0);
    }
}

TEST_CASE("Conv2d rejects impossible configurations with a ShapeError") {
  CHECK_THROWS_AS(Conv2d<float>(0, 4, 3), ConfigError);
  CHECK_THROWS_AS(Conv2d<float>(2, 4, 0), ConfigError);
  CHECK_THROWS_AS(Conv2d<float>(2, 4, 3, 0), ConfigError);
  CHECK_THROWS_AS(Conv2d<float>(2, 4, 3, 1, -5), ConfigError);
  Conv2d<float> conv(2, 4, 5, 1, 0);
  Tensor4<float> wrong_channels(1, 3, 8, 8);
  wrong_channels.setZero();
  CHECK_THROWS_AS(conv.forward(wrong_channels), ShapeError);
  Tensor4<float> too_small(1, 2, 3, 3);
  too_small.setZero();
  CHECK_THROWS_AS(conv.forward(too_small), ShapeError);
}

TEST_CASE("Gemm::add equals Eigen's product for each operand order, and again after a shape change") {
  Gemm<double> gemm;
  for (const Index scale : {1, 7, 1}) {  // large enough at 7 for Eigen's heap-sized packing blocks
    const Index m = 5 * scale, k = 37 * scale, n = 11 * scale;
    const MatrixR<double> a = MatrixR<double>::Random(m, k), b = MatrixR<double>::Random(k, n);
    const MatrixR<double> at = a.transpose(), bt = b.transpose();
    const MatrixR<double> start = MatrixR<double>::Random(m, n);
    const MatrixR<double> expected = start + a * b;
    MatrixR<double> c = start;
    gemm.add(a, b, c);
    CHECK((c - expected).norm() <= 1e-12 * expected.norm());
    c = start;
    gemm.add(at.transpose(), b, c);
    CHECK((c - expected).norm() <= 1e-12 * expected.norm());
    c = start;
    MatrixMap<double> cm(c.data(), m, n);
    gemm.add(a, bt.transpose(), cm);
    CHECK((c - expected).norm() <= 1e-12 * expected.norm());
  }
}
