// Every layer's backward pass against central finite differences, in double.
#include <algorithm>

#include "gradcheck.hpp"

using namespace shallow;
using gradcheck::check_layer;
using gradcheck::random_tensor;

TEST_CASE("Conv2d gradients: kernels, strides, padding, bias, batch sizes") {
  struct Case {
    Index in, out, kernel, stride, padding;
    bool bias;
    Index n, h, w;
  };
  const Index L = detail::lanes<double>;  // a channel block: 8 with AVX-512, 2 with SSE2
  const Case cases[] = {
      {3, 4, 3, 1, same_padding, true, 2, 7, 6},  // odd kernel, non-square
      {2, 3, 1, 1, same_padding, true, 3, 5, 4},  // 1x1: the pointwise path
      {2, 2, 5, 1, same_padding, false, 1, 6, 7},  // k5, no bias, batch 1
      {2, 3, 2, 1, same_padding, true, 2, 5, 6},  // even kernel: asymmetric 'same'
      {3, 2, 4, 1, same_padding, true, 1, 6, 5},  // even kernel 4
      {2, 3, 3, 2, same_padding, true, 2, 7, 8},  // stride 2, 'same' = ceil(in/2)
      {2, 2, 3, 2, 0, true, 2, 9, 7},             // stride 2, no padding
      {1, 2, 3, 1, 2, true, 2, 4, 5},             // explicit padding larger than k/2
      {2, 2, 1, 2, 0, false, 2, 6, 5},            // 1x1 with stride 2 goes through im2col
      {4, 1, 3, 3, 1, true, 2, 8, 8},             // stride 3
      // 3x3 images reach the weight-gradient kernel in groups (42 images with
      // AVX-512, 56 with SSE2): full and partial groups at one and two threads.
      {2, 3, 3, 1, same_padding, true, 120, 3, 3},
      // Several channel blocks, full and partial, pairs and single blocks,
      // rows in unequal tiles; counted in blocks, so that builds with narrow
      // packets (the sanitizer build's) need no more channels than that.
      {L + 2, 2 * L + 3, 3, 1, same_padding, true, 2, 5, 9},
      {L + 1, 2 * L + 1, 5, 1, same_padding, false, 1, 6, 11},
  };
  // Every algorithm on every case it accepts.
  for (const auto& c : cases)
    for (ConvAlgorithm a : conv_algorithms) {
      Conv2d<double> conv(c.in, c.out, c.kernel, c.stride, c.padding, c.bias, ConvOptions{a});
      if (!conv_accepts(a, conv.geometry(c.h, c.w))) continue;
      INFO(to_string(a));
      check_layer(conv, random_tensor(c.n, c.in, c.h, c.w, 7));
    }
}

TEST_CASE("activation gradients") {
  const auto x = random_tensor(2, 3, 4, 5, 11);
  ReLU<double> relu;
  LeakyReLU<double> leaky(0.1);
  Tanh<double> tanh;
  Sigmoid<double> sigmoid;
  Identity<double> identity;
  check_layer(relu, x);
  check_layer(leaky, x);
  check_layer(tanh, x);
  check_layer(sigmoid, x);
  check_layer(identity, x);
  // GELU bends where |x| < 3: inputs there, and in its tails.
  GELU<double> gelu;
  check_layer(gelu, random_tensor(2, 3, 4, 5, 12, 4.0));
}

TEST_CASE("GELU is x Phi(x): PyTorch's values at fixed points, float close to double std::erf") {
  Tensor4<float> x(1, 1, 1, 7);
  const float points[] = {-5.f, -2.f, -0.75f, 0.f, 0.5f, 1.f, 3.f};
  std::copy(std::begin(points), std::end(points), x.data());
  GELU<float> gelu;
  const auto& y = gelu.forward(x);
  // torch.nn.functional.gelu(torch.tensor([...], dtype=torch.float64))
  const double torch[] = {-1.4332578593e-06, -4.5500263896e-02, -1.6997051428e-01, 0.0,
                          3.4573123064e-01, 8.4134474607e-01, 2.9959503059e+00};
  for (int i = 0; i < 7; ++i) {
    const double exact = 0.5 * points[i] * (1 + std::erf(points[i] / std::sqrt(2.0)));
    CHECK(exact == Approx(torch[i]).epsilon(1e-9).margin(1e-15));
    // 1 + erf cancels in float's tail (PyTorch's float gives -1.49e-6 at -5;
    // Eigen's float erf reaches -1 there on some targets): an absolute margin.
    CHECK(y.data()[i] == Approx(exact).epsilon(4e-7).margin(2e-6));
  }
}

TEST_CASE("pooling gradients") {
  const auto x = random_tensor(2, 3, 7, 6, 13);
  MaxPool2d<double> max2(2);
  MaxPool2d<double> max3(3, 2, 1);  // overlapping windows, padded
  AvgPool2d<double> avg2(2);
  AvgPool2d<double> avg3(3, 2, 1);
  GlobalAvgPool<double> global;
  check_layer(max2, x);
  check_layer(max3, x);
  check_layer(avg2, x);
  check_layer(avg3, x);
  check_layer(global, x);
}

TEST_CASE("Flatten and Dense gradients") {
  Flatten<double> flatten;
  check_layer(flatten, random_tensor(2, 3, 2, 4, 17));
  Dense<double> dense(24, 5);
  check_layer(dense, random_tensor(3, 3, 2, 4, 19));  // reads each sample as 24 values
  Dense<double> no_bias(6, 2, false);
  check_layer(no_bias, random_tensor(1, 6, 1, 1, 23));
}

TEST_CASE("BatchNorm2d gradients in training and evaluation") {
  BatchNorm2d<double> bn(3);
  for (auto& p : bn.parameters()) p.value.setRandom();  // not the trivial gamma=1, beta=0
  const auto x = random_tensor(4, 3, 3, 2, 29, 2.0);
  check_layer(bn, x);
  bn.eval();
  check_layer(bn, x);
}

TEST_CASE("BatchNorm2d without a trained scale: gradients, and only the bias a parameter") {
  BatchNorm2d<double> bn(3, 1e-12, 0.4, false);
  REQUIRE(bn.parameters().size() == 1);
  CHECK(bn.parameters()[0].name == "bias");
  bn.parameters()[0].value.setRandom();
  const auto x = random_tensor(4, 3, 3, 2, 37, 2.0);
  check_layer(bn, x);
  // The same as a batch norm with a trained scale of 1 and the same bias.
  BatchNorm2d<double> scaled(3, 1e-12, 0.4);
  scaled.parameters()[1].value = bn.beta();
  const Tensor4<double> y = bn.forward(x), expected = scaled.forward(x);
  CHECK(std::equal(y.data(), y.data() + y.size(), expected.data()));
  bn.eval();
  check_layer(bn, x);
}

TEST_CASE("Dropout gradients with a fixed mask") {
  Dropout<double> drop(0.3);
  gradcheck::Options opt;
  opt.before_forward = [&] { drop.reseed(42); };
  check_layer(drop, random_tensor(2, 3, 4, 4, 31), opt);
  drop.eval();
  check_layer(drop, random_tensor(2, 3, 4, 4, 31));
}

TEST_CASE("residual gradients: both layouts, N in {1,2,3,5}, kernels 1, 2, 3, 5") {
  struct Case {
    Index n, channels, kernel, batch, h, w;
    Activation act;
  };
  const Case cases[] = {
      {1, 3, 3, 2, 6, 5, Activation::relu},    {2, 2, 3, 1, 5, 7, Activation::relu},
      {3, 2, 5, 2, 6, 6, Activation::tanh},    {5, 2, 3, 2, 4, 5, Activation::relu},
      {2, 3, 1, 3, 4, 3, Activation::sigmoid}, {3, 2, 2, 2, 5, 4, Activation::leaky_relu},
      {2, 2, 4, 1, 6, 5, Activation::identity},
  };
  // The branches' convolutions with every algorithm that takes them.
  for (const auto& c : cases)
    for (ConvAlgorithm a : conv_algorithms) {
      if (!conv_accepts(a, conv_geometry(c.channels, c.channels, c.kernel, 1, same_padding, c.h, c.w))) continue;
      ResidualOptions o;
      o.activation = c.act;
      o.negative_slope = 0.2;
      o.algorithm = a;
      o.seed = 100 + static_cast<std::uint64_t>(c.n);
      INFO(to_string(a));
      const auto x = random_tensor(c.batch, c.channels, c.h, c.w, 37);
      SequentialResidual<Dynamic, double> deep(c.n, c.channels, c.kernel, o);
      ParallelResidual<Dynamic, double> wide(c.n, c.channels, c.kernel, o);
      check_layer(deep, x);
      check_layer(wide, x);
    }
}

TEST_CASE("residual gradients with batch-normalised branches: both layouts, training and evaluation") {
  for (Index n : {1, 3})
    for (Activation act : {Activation::relu, Activation::tanh}) {
      ResidualOptions o;
      o.activation = act;
      o.batchnorm = true;
      o.batchnorm_scale = n == 1;  // N=3 without a trained scale
      o.bias = false;  // batch norm cancels a bias before it: its true gradient is 0, its relative error noise
      o.seed = 200 + static_cast<std::uint64_t>(n);
      INFO("N=" << n << " " << to_string(act) << " scale " << o.batchnorm_scale);
      const auto x = random_tensor(3, 2, 4, 5, 43);
      SequentialResidual<Dynamic, double> deep(n, 2, 3, o);
      ParallelResidual<Dynamic, double> wide(n, 2, 3, o);
      Rng rng(5);
      for (ResidualBlock<double>* block : {static_cast<ResidualBlock<double>*>(&deep), static_cast<ResidualBlock<double>*>(&wide)}) {
        for (auto& p : block->parameters())  // not the trivial gamma=1, beta=0
          if (p.name.find(".bn.") != std::string::npos) p.value.setRandom();
        check_layer(*block, x);
        block->forward(x);  // moves the running statistics off 0 and 1
        block->eval();
        check_layer(*block, x);
      }
    }
}

TEST_CASE("fixed-N residual templates check like the dynamic ones") {
  const auto x = random_tensor(2, 2, 5, 6, 41);
  SequentialResidual<3, double> deep(2, 3);
  ResidualOptions tanh;
  tanh.activation = Activation::tanh;
  ParallelResidual<3, double> wide(2, 3, tanh);
  check_layer(deep, x);
  check_layer(wide, x);
}

TEST_CASE("a whole network, run-time and compile-time, checks end to end") {
  Network<double> net;
  net.emplace<Conv2d<double>>(1, 3, 3);
  net.emplace<ParallelResidual<2, double>>(3, 3);
  net.emplace<BatchNorm2d<double>>(3);
  net.emplace<MaxPool2d<double>>(2);
  net.emplace<SequentialResidual<2, double>>(3, 3);
  net.emplace<Flatten<double>>();
  net.emplace<Dense<double>>(3 * 3 * 4, 4);
  check_layer(net, random_tensor(3, 1, 6, 8, 43));

  Stack<double, Conv2d<double>, ReLU<double>, GlobalAvgPool<double>, Dense<double>> stack(
      Conv2d<double>(2, 3, 3), ReLU<double>(), GlobalAvgPool<double>(), Dense<double>(3, 2));
  check_layer(stack, random_tensor(2, 2, 5, 5, 47));
}

TEST_CASE("a staged model (strided convs, batch norm, both layouts) checks end to end") {
  for (Layout layout : {Layout::sequential, Layout::parallel}) {
    ModelConfig c;
    c.input = {2, 8, 8};
    c.classes = 3;
    c.layout = layout;
    c.layers = 2;
    c.filters = 2;
    c.stages = 2;
    c.pool = 0;
    Network<double> net = build_model<double>(c);
    check_layer(net, random_tensor(3, 2, 8, 8, 53));
  }
}

TEST_CASE("loss gradients") {
  SECTION("softmax cross-entropy") {
    auto logits = random_tensor(4, 5, 1, 1, 53, 3.0);
    const std::vector<int> labels{0, 3, 4, 1};
    SoftmaxCrossEntropy<double> loss;
    loss.forward(logits, labels);
    const Eigen::VectorXd analytic = as_vector(loss.backward());
    CHECK(gradcheck::relative_error(analytic, gradcheck::numeric_loss_gradient(loss, logits, labels)) < 1e-6);
  }
  SECTION("mean squared error") {
    auto y = random_tensor(3, 2, 2, 2, 59);
    const auto target = random_tensor(3, 2, 2, 2, 61);
    MSELoss<double> loss;
    loss.forward(y, target);
    const Eigen::VectorXd analytic = as_vector(loss.backward());
    CHECK(gradcheck::relative_error(analytic, gradcheck::numeric_loss_gradient(loss, y, target)) < 1e-6);
  }
}
