// The public-API snippet of issue 2, kept exactly as written: it
// must compile and run unchanged.
#include <catch2/catch.hpp>

#include <shallow/shallow.hpp>

#include <fstream>
#include <iterator>
#include <string>

namespace {
void snippet() {
  using namespace shallow;
  Tensor4<float> x(64, 8, 28, 28);        // Eigen::Tensor<T, 4, Eigen::RowMajor>: N x C x H x W
  x.setRandom();
  Conv2d<float> conv(8, 16, 3);           // in, out, kernel; stride 1, 'same' padding, bias by default
  SequentialResidual<4> deep(8, 3);       // channels, kernel: h_i = h_{i-1} + relu(conv_i(h_{i-1}))
  ParallelResidual<4> wide(8, 3);         // y = x + sum_i relu(conv_i(x))
  copy_parameters(deep, wide);            // same weights, other wiring
  Tensor4<float> y = wide.forward(x);     // caches what backward needs
  Tensor4<float> dx = wide.backward(y);   // returns dL/dx; parameter gradients ACCUMULATE into .grad
  for (auto& p : wide.parameters())       // Parameter<T>{name, value, grad}: flat Eigen::Map<VectorX<T>> views
    p.grad.setZero();
}
}  // namespace

TEST_CASE("the README snippet compiles and runs") { REQUIRE_NOTHROW(snippet()); }

TEST_CASE("the snippet's objects behave as its comments say") {
  using namespace shallow;
  Tensor4<float> x(4, 8, 10, 12);
  x.setRandom();
  SequentialResidual<4> deep(8, 3);
  ParallelResidual<4> wide(8, 3);
  copy_parameters(deep, wide);
  const Tensor4<float>& y = wide.forward(x);
  CHECK(y.dimensions() == x.dimensions());
  Tensor4<float> dy = y;
  wide.backward(dy);
  bool any_nonzero = false;
  for (auto& p : wide.parameters()) any_nonzero = any_nonzero || p.grad.cwiseAbs().maxCoeff() > 0;
  CHECK(any_nonzero);
  for (auto& p : wide.parameters()) p.grad.setZero();
  for (auto& p : wide.parameters()) CHECK(p.grad.cwiseAbs().maxCoeff() == 0);
}

TEST_CASE("version.hpp matches the CMake project version") {
  CHECK(std::string(shallow::version) == SHALLOW_PROJECT_VERSION);
}

TEST_CASE("README's program is examples/train_mnist.cpp, verbatim") {
  const auto read = [](const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string readme = read(std::string(SHALLOW_SOURCE_DIR) + "/README.md");
  const std::string example = read(std::string(SHALLOW_SOURCE_DIR) + "/examples/train_mnist.cpp");
  CHECK(readme.find("```cpp\n" + example + "```\n") != std::string::npos);
}
