// The two layouts against their definitions, against each other, and across
// thread counts.
#include <catch2/catch.hpp>

#include <shallow/shallow.hpp>

using namespace shallow;

namespace {

Tensor4<float> random_batch(Index n, Index c, Index h, Index w, std::uint64_t seed) {
  Tensor4<float> x(n, c, h, w);
  Rng rng(seed);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.uniform(-1, 1));
  return x;
}

double max_abs_diff(const Tensor4<float>& a, const Tensor4<float>& b) {
  REQUIRE(a.dimensions() == b.dimensions());
  return double((as_vector(a) - as_vector(b)).cwiseAbs().maxCoeff());
}

template <class L>
std::vector<Eigen::VectorXf> gradients(L& layer) {
  std::vector<Eigen::VectorXf> g;
  for (auto& p : layer.parameters()) g.push_back(p.grad);
  return g;
}

// Forward and backward at a given thread count; returns output, dL/dx and
// the parameter gradients, concatenated.
template <class L>
Eigen::VectorXf run_step(L& layer, const Tensor4<float>& x, int threads) {
  set_num_threads(threads);
  layer.zero_grad();
  const Tensor4<float> y = layer.forward(x);
  const Tensor4<float> dx = layer.backward(y);
  std::vector<float> all(as_vector(y).data(), as_vector(y).data() + y.size());
  all.insert(all.end(), dx.data(), dx.data() + dx.size());
  for (auto& g : gradients(layer)) all.insert(all.end(), g.data(), g.data() + g.size());
  return Eigen::Map<Eigen::VectorXf>(all.data(), Index(all.size()));
}

}  // namespace

TEST_CASE("ParallelResidual<N> equals x + sum of N separately run Conv2d + ReLU with the same weights") {
  const Index c = 3, k = 3;
  const auto x = random_batch(2, c, 7, 5, 1);
  ParallelResidual<Dynamic> wide(4, c, k, [] { ResidualOptions o; o.seed = 99; return o; }());
  auto params = wide.parameters();
  Tensor4<float> expected = x;
  for (Index i = 0; i < 4; ++i) {
    Conv2d<float> conv(c, c, k);
    auto cp = conv.parameters();
    cp[0].value = params[std::size_t(2 * i)].value;
    cp[1].value = params[std::size_t(2 * i + 1)].value;
    ReLU<float> relu;
    const Tensor4<float>& branch = relu.forward(conv.forward(x));
    as_vector(expected) += as_vector(branch);
  }
  CHECK(max_abs_diff(wide.forward(x), expected) < 1e-5);
}

TEST_CASE("SequentialResidual<N> equals the chain h_i = h_{i-1} + relu(conv_i(h_{i-1}))") {
  const Index c = 2, k = 5;
  const auto x = random_batch(3, c, 6, 6, 2);
  SequentialResidual<3> deep(c, k);
  auto params = deep.parameters();
  Tensor4<float> h = x;
  for (Index i = 0; i < 3; ++i) {
    Conv2d<float> conv(c, c, k);
    auto cp = conv.parameters();
    cp[0].value = params[std::size_t(2 * i)].value;
    cp[1].value = params[std::size_t(2 * i + 1)].value;
    ReLU<float> relu;
    const Tensor4<float> branch = relu.forward(conv.forward(h));
    as_vector(h) += as_vector(branch);
  }
  CHECK(max_abs_diff(deep.forward(x), h) < 1e-5);
}

TEST_CASE("ParallelResidual<1> equals SequentialResidual<1>, forward and backward") {
  const auto x = random_batch(2, 4, 5, 6, 3);
  SequentialResidual<1> deep(4, 3);
  ParallelResidual<1> wide(4, 3);
  copy_parameters(deep, wide);
  const Tensor4<float> yd = deep.forward(x), yw = wide.forward(x);
  CHECK(max_abs_diff(yd, yw) < 1e-6);
  const Tensor4<float> dxd = deep.backward(yd), dxw = wide.backward(yw);
  CHECK(max_abs_diff(dxd, dxw) < 1e-5);
  auto gd = gradients(deep), gw = gradients(wide);
  REQUIRE(gd.size() == gw.size());
  for (std::size_t i = 0; i < gd.size(); ++i) CHECK((gd[i] - gw[i]).cwiseAbs().maxCoeff() < 1e-4);
}

TEST_CASE("batch-normalised branches are act(BN_i(conv_i)) of separate layers, in training and evaluation") {
  const Index c = 3, k = 3, n = 3;
  const auto x = random_batch(4, c, 5, 6, 4);
  ResidualOptions o;
  o.batchnorm = true;
  o.batchnorm_momentum = 0.3;
  SequentialResidual<Dynamic> deep(n, c, k, o);
  ParallelResidual<Dynamic> wide(n, c, k, o);
  for (ResidualBlock<float>* block : {static_cast<ResidualBlock<float>*>(&deep), static_cast<ResidualBlock<float>*>(&wide)}) {
    INFO(to_string(block->layout()));
    auto params = block->parameters();
    REQUIRE(params.size() == std::size_t(4 * n));
    CHECK(params[2].name == "branch1.bn.weight");
    CHECK(params[7].name == "branch2.bn.bias");
    for (auto& p : params) p.value.setRandom();
    // The same branches as separate layers, with the block's weights.
    std::vector<Conv2d<float>> convs;
    std::vector<BatchNorm2d<float>> norms;
    for (Index i = 0; i < n; ++i) {
      convs.emplace_back(c, c, k);
      norms.emplace_back(c, 1e-5, 0.3);
      auto cp = convs.back().parameters(), np = norms.back().parameters();
      for (std::size_t j = 0; j < 2; ++j) {
        cp[j].value = params[std::size_t(4 * i) + j].value;
        np[j].value = params[std::size_t(4 * i + 2) + j].value;
      }
    }
    const bool sequential = block->layout() == Layout::sequential;
    const auto reference = [&] {
      Tensor4<float> h = x, sum = x;
      for (Index i = 0; i < n; ++i) {
        ReLU<float> relu;
        const Tensor4<float> z = convs[std::size_t(i)].forward(sequential ? h : x);
        const Tensor4<float> branch = relu.forward(norms[std::size_t(i)].forward(z));
        as_vector(h) += as_vector(branch);
        as_vector(sum) += as_vector(branch);
      }
      return sequential ? h : sum;
    };
    CHECK(max_abs_diff(block->forward(x), reference()) < 1e-5);
    auto buffers = block->buffers();
    REQUIRE(buffers.size() == std::size_t(2 * n));
    CHECK(buffers[2].name == "branch2.bn.running_mean");
    for (Index i = 0; i < n; ++i) {
      CHECK((buffers[std::size_t(2 * i)].value - norms[std::size_t(i)].running_mean()).cwiseAbs().maxCoeff() < 1e-6);
      CHECK((buffers[std::size_t(2 * i + 1)].value - norms[std::size_t(i)].running_var()).cwiseAbs().maxCoeff() < 1e-5);
    }
    block->eval();  // the block's norms follow it into evaluation
    for (auto& norm : norms) norm.eval();
    CHECK(max_abs_diff(block->forward(x), reference()) < 1e-5);
  }
}

TEST_CASE("with batch-normalised branches too, ParallelResidual<1> equals SequentialResidual<1>") {
  ResidualOptions o;
  o.batchnorm = true;
  const bool scale = GENERATE(true, false);
  INFO("batchnorm_scale " << scale);
  o.batchnorm_scale = scale;
  const auto x = random_batch(3, 4, 5, 6, 5);
  SequentialResidual<1> deep(4, 3, o);
  ParallelResidual<1> wide(4, 3, o);
  REQUIRE(deep.parameters().size() == (scale ? 4u : 3u));  // conv weight and bias, [bn weight,] bn bias
  for (auto& p : deep.parameters()) p.value.setRandom();
  copy_parameters(deep, wide);
  const Tensor4<float> yd = deep.forward(x), yw = wide.forward(x);
  CHECK(max_abs_diff(yd, yw) < 1e-6);
  CHECK(max_abs_diff(deep.backward(yd), wide.backward(yw)) < 1e-5);
  auto gd = gradients(deep), gw = gradients(wide);
  REQUIRE(gd.size() == gw.size());
  for (std::size_t i = 0; i < gd.size(); ++i) CHECK((gd[i] - gw[i]).cwiseAbs().maxCoeff() < 1e-4);
}

TEST_CASE("both layouts list the same parameter shapes in the same order, and equal counts") {
  for (Index n : {1, 2, 3, 5, 8}) {
    for (Index k : {1, 2, 3, 5}) {
      SequentialResidual<Dynamic> deep(n, 6, k);
      ParallelResidual<Dynamic> wide(n, 6, k);
      auto pd = deep.parameters(), pw = wide.parameters();
      REQUIRE(pd.size() == pw.size());
      REQUIRE(pd.size() == std::size_t(2 * n));
      for (std::size_t i = 0; i < pd.size(); ++i) {
        CHECK(pd[i].name == pw[i].name);
        CHECK(pd[i].shape == pw[i].shape);
      }
      CHECK(pd[0].name == "branch1.weight");
      CHECK(pd[0].shape == std::vector<Index>{6, 6, k, k});
      CHECK(pd[1].name == "branch1.bias");
      CHECK(parameter_count(deep) == parameter_count(wide));
      CHECK(parameter_count(deep) == n * (6 * 6 * k * k + 6));
    }
  }
}

TEST_CASE("the same seed gives both layouts the same initial weights") {
  ResidualOptions o;
  o.seed = 1234;
  SequentialResidual<Dynamic> deep(5, 3, 3, o);
  ParallelResidual<Dynamic> wide(5, 3, 3, o);
  auto pd = deep.parameters(), pw = wide.parameters();
  for (std::size_t i = 0; i < pd.size(); ++i) CHECK(pd[i].value == pw[i].value);
  o.seed = 1235;
  ParallelResidual<Dynamic> other(5, 3, 3, o);
  CHECK(other.parameters()[0].value != pw[0].value);
  // Different branches start from different weights.
  CHECK(pw[0].value != pw[2].value);
}

TEST_CASE("compile-time N and Dynamic N are the same computation") {
  const auto x = random_batch(2, 3, 5, 5, 4);
  ParallelResidual<3> fixed(3, 3);
  ParallelResidual<Dynamic> dynamic(3, 3, 3);
  CHECK(max_abs_diff(fixed.forward(x), dynamic.forward(x)) == 0);
  ResidualOptions tanh;
  tanh.activation = Activation::tanh;
  SequentialResidual<3> fixed_tanh(3, 3, tanh);
  SequentialResidual<Dynamic> dynamic_tanh(3, 3, 3, tanh);
  CHECK(max_abs_diff(fixed_tanh.forward(x), dynamic_tanh.forward(x)) == 0);
  CHECK(fixed_tanh.spec() == dynamic_tanh.spec());
}

TEST_CASE("copy_parameters refuses a model of another shape") {
  SequentialResidual<3> three(4, 3);
  ParallelResidual<2> two(4, 3);
  ParallelResidual<3> other_kernel(4, 5);
  CHECK_THROWS_AS(copy_parameters(three, two), ShapeError);
  CHECK_THROWS_AS(copy_parameters(three, other_kernel), ShapeError);
}

TEST_CASE("results are bitwise identical at one thread count and close across 1 and 2 threads") {
  const int saved = num_threads();
  const auto x = random_batch(8, 8, 12, 10, 5);
  SequentialResidual<4> deep(8, 3);
  ParallelResidual<4> wide(8, 3);
  for (Layer<float>* layer : {static_cast<Layer<float>*>(&deep), static_cast<Layer<float>*>(&wide)}) {
    INFO(layer->spec());
    const Eigen::VectorXf one_a = run_step(*layer, x, 1), one_b = run_step(*layer, x, 1);
    const Eigen::VectorXf two_a = run_step(*layer, x, 2), two_b = run_step(*layer, x, 2);
    CHECK((one_a.array() == one_b.array()).all());
    CHECK((two_a.array() == two_b.array()).all());
    const float scale = std::max(1.0f, one_a.cwiseAbs().maxCoeff());
    CHECK((one_a - two_a).cwiseAbs().maxCoeff() <= 1e-5f * scale);
  }
  set_num_threads(saved);
}

TEST_CASE("residual blocks reject bad sizes and inputs") {
  CHECK_THROWS_AS(SequentialResidual<Dynamic>(0, 4, 3), ConfigError);
  CHECK_THROWS_AS(ParallelResidual<Dynamic>(2, 0, 3), ConfigError);
  CHECK_THROWS_AS(ParallelResidual<Dynamic>(2, 4, 0), ConfigError);
  ParallelResidual<2> wide(4, 3);
  Tensor4<float> wrong(1, 3, 5, 5);
  wrong.setZero();
  CHECK_THROWS_AS(wide.forward(wrong), ShapeError);
  CHECK_THROWS_AS(parse_layout("diagonal"), Error);
  CHECK(parse_layout("shallow") == Layout::parallel);
}
