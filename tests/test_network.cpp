// Composition: run-time networks, compile-time stacks, specs, modes.
#include <catch2/catch.hpp>

#include <shallow/shallow.hpp>

using namespace shallow;

namespace {
Network<float> small_net() {
  Network<float> net;
  net.emplace<Conv2d<float>>(1, 4, 3);
  net.emplace<ReLU<float>>();
  net.add(make_residual<float>(Layout::parallel, 3, 4, 3));
  net.emplace<BatchNorm2d<float>>(4);
  net.emplace<MaxPool2d<float>>(2);
  net.emplace<Dropout<float>>(0.25);
  net.emplace<LeakyReLU<float>>(0.2);
  net.emplace<AvgPool2d<float>>(3, 1, 1);
  net.emplace<Flatten<float>>();
  net.emplace<Dense<float>>(4 * 4 * 4, 10);
  return net;
}
}  // namespace

TEST_CASE("a network rebuilt from its spec has the same structure, and its forward pass agrees") {
  Network<float> net = small_net();
  Network<float> copy = make_network<float>(net.spec());
  CHECK(copy.spec() == net.spec());
  CHECK(copy.size() == net.size());
  CHECK(parameter_count(copy) == parameter_count(net));
  copy_parameters(net, copy);
  net.eval();
  copy.eval();
  Tensor4<float> x(3, 1, 8, 8);
  x.setRandom();
  const Tensor4<float> a = net.forward(x), b = copy.forward(x);
  CHECK((as_vector(a) - as_vector(b)).cwiseAbs().maxCoeff() == 0);
  CHECK(net.output_shape({1, 8, 8}) == Shape{10, 1, 1});
}

TEST_CASE("a staged model halves the image and doubles the width per stage, in both layouts") {
  ModelConfig c;
  c.input = {3, 16, 16};
  c.layers = 2;
  c.filters = 4;
  c.stages = 3;
  c.pool = 0;
  c.layout = Layout::sequential;
  Network<float> deep = build_model<float>(c);
  c.layout = Layout::parallel;
  Network<float> wide = build_model<float>(c);
  CHECK(wide.spec() ==
        "conv2d in=3 out=4 kernel=3 stride=1 padding=same bias=0\n"
        "batchnorm2d channels=4 eps=1e-05 momentum=0.1\n"
        "relu\n"
        "parallel_residual layers=2 channels=4 kernel=3 activation=relu bias=1\n"
        "conv2d in=4 out=8 kernel=3 stride=2 padding=1 bias=0\n"
        "batchnorm2d channels=8 eps=1e-05 momentum=0.1\n"
        "relu\n"
        "parallel_residual layers=2 channels=8 kernel=3 activation=relu bias=1\n"
        "conv2d in=8 out=16 kernel=3 stride=2 padding=1 bias=0\n"
        "batchnorm2d channels=16 eps=1e-05 momentum=0.1\n"
        "relu\n"
        "parallel_residual layers=2 channels=16 kernel=3 activation=relu bias=1\n"
        "global_avgpool\n"
        "flatten\n"
        "dense in=16 out=10 bias=1\n");
  // stem, 3 x (batch norm + 2 branches), 2 transitions, dense
  const Index expected = (3 * 4 * 9) + (2 * 4 + 2 * (4 * 4 * 9 + 4)) + (4 * 8 * 9) + (2 * 8 + 2 * (8 * 8 * 9 + 8)) +
                         (8 * 16 * 9) + (2 * 16 + 2 * (16 * 16 * 9 + 16)) + (16 * 10 + 10);
  CHECK(parameter_count(wide) == expected);
  CHECK(parameter_count(deep) == expected);
  CHECK(wide.output_shape(c.input) == Shape{10, 1, 1});
  CHECK(make_network<float>(wide.spec()).spec() == wide.spec());

  c.pool = 8;
  CHECK_THROWS_WITH(build_model<float>(c), Catch::Contains("pool 8 is larger than the image"));
}

TEST_CASE("every layer's spec reads back to the same spec") {
  const char* specs[] = {
      "conv2d in=3 out=8 kernel=5 stride=2 padding=1 bias=0",
      "conv2d in=3 out=8 kernel=3 stride=1 padding=same bias=1",
      "sequential_residual layers=4 channels=8 kernel=3 activation=tanh bias=1",
      "parallel_residual layers=7 channels=2 kernel=2 activation=relu bias=0",
      "sequential_residual layers=2 channels=4 kernel=3 activation=relu bias=0 batchnorm=1 batchnorm_momentum=0.4",
      "parallel_residual layers=2 channels=4 kernel=3 activation=relu bias=0 batchnorm=1 batchnorm_momentum=0.4 "
      "batchnorm_scale=0",
      "dense in=10 out=3 bias=1",
      "maxpool2d kernel=3 stride=2 padding=1",
      "avgpool2d kernel=2 stride=2 padding=0",
      "global_avgpool",
      "flatten",
      "gelu",
      "batchnorm2d channels=4 eps=0.001 momentum=0.2",
      "batchnorm2d channels=4 eps=1e-12 momentum=0.4 scale=0",
      "dropout p=0.1",
      "leaky_relu negative_slope=0.2",
      "relu",
      "tanh",
      "sigmoid",
      "identity",
  };
  for (const char* s : specs) CHECK(make_layer<float>(s)->spec() == s);
}

TEST_CASE("bad specs are clear errors") {
  CHECK_THROWS_WITH(make_layer<float>("convolution in=1"), Catch::Contains("unknown layer 'convolution'"));
  CHECK_THROWS_AS(make_layer<float>("conv2d in=1 out=2"), ConfigError);
  CHECK_THROWS_AS(make_layer<float>("conv2d in=x out=2 kernel=3 stride=1 padding=same bias=1"), ConfigError);
  CHECK_THROWS_AS(make_layer<float>("dense in=3 out=-2 bias=1"), ConfigError);
  CHECK_THROWS_WITH(make_layer<float>("dense in=3 bias=1"), Catch::Contains("missing out="));
  // A key the layer does not read is a typo, not something to ignore.
  CHECK_THROWS_WITH(make_layer<float>("dense in=3 out=2 bias=1 colour=red"), Catch::Contains("unknown key colour=red"));
  CHECK_THROWS_WITH(make_layer<float>("dense in=3 out=2 bias=2"), Catch::Contains("bias=2 is not 0 or 1"));
  CHECK_THROWS_WITH(make_layer<float>("dense in=3 in=3 out=2 bias=1"), Catch::Contains("appears twice"));
  // Values that would make every prediction NaN are refused when read.
  CHECK_THROWS_WITH(make_layer<float>("leaky_relu negative_slope=nan"), Catch::Contains("not a finite number"));
  CHECK_THROWS_AS(make_layer<float>("sequential_residual layers=2 channels=2 kernel=3 activation=leaky_relu bias=1 "
                                    "negative_slope=inf"),
                  ConfigError);
  CHECK_THROWS_AS(make_layer<float>("conv2d in=1 out=2 kernel=3 stride=1 padding=same bias=1 algorithm=fft"),
                  ConfigError);
  // An optional flag: its default when left out, checked like any flag when given.
  CHECK(SpecReader("batchnorm2d scale=0").flag("scale", true) == false);
  CHECK(SpecReader("batchnorm2d").flag("scale", true) == true);
  CHECK(SpecReader("batchnorm2d").flag("scale", false) == false);
  CHECK_THROWS_WITH(make_layer<float>("batchnorm2d channels=2 eps=1e-5 momentum=0.1 scale=yes"),
                    Catch::Contains("scale=yes is not 0 or 1"));
}

TEST_CASE("parameters are named by position and listed in order") {
  Network<float> net = small_net();
  auto ps = net.parameters();
  REQUIRE(ps.size() == 2 + 6 + 2 + 2);
  CHECK(ps[0].name == "0.weight");
  CHECK(ps[2].name == "2.branch1.weight");
  CHECK(ps[7].name == "2.branch3.bias");
  CHECK(ps[8].name == "3.weight");
  CHECK(ps.back().name == "9.bias");
  auto bs = net.buffers();
  REQUIRE(bs.size() == 2);
  CHECK(bs[0].name == "3.running_mean");
}

TEST_CASE("train() and eval() reach every layer") {
  Network<float> net = small_net();
  net.eval();
  for (std::size_t i = 0; i < net.size(); ++i) CHECK_FALSE(net[i].training());
  net.train();
  for (std::size_t i = 0; i < net.size(); ++i) CHECK(net[i].training());
  // In evaluation Dropout is the identity and BatchNorm uses running stats:
  // two passes over one batch agree.
  net.eval();
  Tensor4<float> x(2, 1, 8, 8);
  x.setRandom();
  const Tensor4<float> a = net.forward(x), b = net.forward(x);
  CHECK((as_vector(a) - as_vector(b)).cwiseAbs().maxCoeff() == 0);
}

TEST_CASE("one seed fixes a whole network") {
  Network<float> a = small_net(), b = small_net();
  Rng ra(7), rb(7), rc(8);
  a.reset_parameters(ra);
  b.reset_parameters(rb);
  auto pa = a.parameters(), pb = b.parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) CHECK(pa[i].value == pb[i].value);
  b.reset_parameters(rc);
  CHECK(b.parameters()[0].value != pa[0].value);
}

TEST_CASE("a compile-time Stack computes what the same run-time Network does") {
  Stack<float, Conv2d<float>, ReLU<float>, GlobalAvgPool<float>, Dense<float>> stack(
      Conv2d<float>(2, 3, 3), ReLU<float>(), GlobalAvgPool<float>(), Dense<float>(3, 4));
  Network<float> net = make_network<float>(stack.spec());
  copy_parameters(stack, net);
  Tensor4<float> x(2, 2, 5, 5);
  x.setRandom();
  const Tensor4<float> a = stack.forward(x), b = net.forward(x);
  CHECK((as_vector(a) - as_vector(b)).cwiseAbs().maxCoeff() == 0);
  CHECK(parameter_count(stack) == 2 * 3 * 9 + 3 + 3 * 4 + 4);
  CHECK(stack.get<3>().spec() == "dense in=3 out=4 bias=1");
}

TEST_CASE("softmax cross-entropy is stable for huge logits and counts hits") {
  Tensor4<float> logits(2, 3, 1, 1);
  logits.setValues({{{{1000.f}}, {{0.f}}, {{-1000.f}}}, {{{0.f}}, {{0.f}}, {{0.f}}}});
  SoftmaxCrossEntropy<float> loss;
  const float l = loss.forward(logits, {0, 2});
  CHECK(std::isfinite(l));
  CHECK(l == Approx((0.0 + std::log(3.0)) / 2).epsilon(1e-5));
  CHECK(loss.correct() == 1);  // the first row predicts 0 correctly; the second's tie picks 0, not 2
  CHECK_THROWS_AS(loss.forward(logits, {0, 3}), ShapeError);
  CHECK_THROWS_AS(loss.forward(logits, {0}), ShapeError);
}
