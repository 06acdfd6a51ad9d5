// shallow::train: a network trained a step and checkpointed in memory.
#include <shallow/train.hpp>

#include <cstdio>

int main() {
  using namespace shallow;
  Network<float> net(1);
  net.emplace<Conv2d<float>>(1, 2, 3);
  net.emplace<Flatten<float>>();
  net.emplace<Dense<float>>(2 * 4 * 4, 2);
  Sgd<float> opt(net.parameters(), SgdOptions{});
  const Checkpoint ck = capture(net, &opt);
  Network<float> copy = make_network<float>(ck.architecture);
  restore(ck, copy);
  std::printf("consumer_train: %zu layers, %zu parameter tensors in the checkpoint\n", copy.size(),
              ck.parameters.size());
  return copy.spec() == net.spec() ? 0 : 1;
}
