// Either layout from run-time settings, as the tools build theirs: the
// study's classifier from a ModelConfig, a residual block on its own, and a
// network from spec lines.
//   layouts_from_settings [sequential|parallel [LAYERS [FILTERS]]]
#include <shallow/nn.hpp>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  using namespace shallow;
  ModelConfig c;                                   // MNIST-sized: 1x28x28, 10 classes
  c.layout = parse_layout(argc > 1 ? argv[1] : "parallel");
  c.layers = argc > 2 ? std::atol(argv[2]) : 8;
  c.filters = argc > 3 ? std::atol(argv[3]) : 16;
  Network<float> net = build_model<float>(c);
  std::printf("%s: %ld parameters, %.1f M multiply-adds an image\n%s", describe(c).c_str(),
              long(parameter_count(net)), net.macs(c.input) / 1e6, net.spec().c_str());

  // The same block alone, in the other layout, with the same weights.
  const Layout other = c.layout == Layout::sequential ? Layout::parallel : Layout::sequential;
  auto block = make_residual<float>(c.layout, c.layers, c.filters, c.kernel);
  auto twin = make_residual<float>(other, c.layers, c.filters, c.kernel);
  copy_parameters(*block, *twin);
  Tensor4<float> x(4, c.filters, 28, 28);
  x.setRandom();
  const Tensor4<float> y = block->forward(x);
  const Tensor4<float>& z = twin->forward(x);
  std::printf("%s vs %s on the same weights: outputs differ by %.3g on average\n", to_string(c.layout).c_str(),
              to_string(other).c_str(), double((as_vector(y) - as_vector(z)).cwiseAbs().mean()));

  // A network from its spec lines has the same architecture.
  Network<float> again = make_network<float>(net.spec());
  return again.spec() == net.spec() ? 0 : 1;
}
