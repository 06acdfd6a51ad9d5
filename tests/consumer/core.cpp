// shallow::core: layers, blocks, optimizers and models, with nothing but
// Eigen and OpenMP on the include path.
#include <shallow/nn.hpp>

#include <cstdio>

int main() {
  using namespace shallow;
  Tensor4<float> x(2, 4, 6, 6);
  x.setRandom();
  ParallelResidual<2> wide(4, 3);
  SequentialResidual<2> deep(4, 3);
  copy_parameters(wide, deep);
  Adam<float> opt(wide.parameters());
  const Tensor4<float>& y = wide.forward(x);
  wide.backward(y);
  opt.step();
  std::printf("consumer_core: shallow %s, output %ldx%ldx%ldx%ld, %ld parameters\n", version, long(y.dimension(0)),
              long(y.dimension(1)), long(y.dimension(2)), long(y.dimension(3)), long(parameter_count(wide)));
  return y.dimensions() == x.dimensions() ? 0 : 1;
}
