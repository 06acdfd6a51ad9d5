// shallow::shallow: everything, through the one umbrella.
#include <shallow/shallow.hpp>

#include <cstdio>

int main() {
  using namespace shallow;
  ModelConfig c;
  c.layers = 2;
  c.filters = 4;
  Network<float> net = build_model<float>(c);
  std::printf("consumer_shallow: %s, %ld parameters\n", describe(c).c_str(), long(parameter_count(net)));
  return parameter_count(net) > 0 ? 0 : 1;
}
