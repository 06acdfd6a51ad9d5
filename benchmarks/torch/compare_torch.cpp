// shallow beside libtorch, in one process: the conv training steps of the
// performance issue and the demo's MNIST network step in both layouts, at 1
// and 2 threads (at::set_num_threads and shallow::set_num_threads set alike).
//
// Each measurement alternates the two libraries round by round, so a noisy
// neighbour slows both alike; it prints medians over the rounds and the
// median of the per-round ratios libtorch time / shallow time (> 1: shallow is
// faster); see side_by_side.hpp.
//
//   compare_torch [--rounds R] [--min-ms T]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <shallow/shallow.hpp>

#include "../bench_common.hpp"
#include "../side_by_side.hpp"

namespace {

constexpr shallow::Index kBatch = 64;

struct Settings {
  int rounds = 7;
  double min_ms = 300;  // per library per round
};

torch::Tensor to_torch(const shallow::Tensor4<float>& x) {
  return torch::from_blob(const_cast<float*>(x.data()),
                          {x.dimension(0), x.dimension(1), x.dimension(2), x.dimension(3)})
      .clone();
}

void set_threads(int threads) {
  shallow::set_num_threads(threads);
  at::set_num_threads(threads);
}

// One conv training step: forward, backward-data, backward-weights.
SideBySide conv_step(const Settings& s, shallow::Index c, shallow::Index hw, shallow::Index k) {
  shallow::Conv2d<float> conv(c, c, k);
  const shallow::Tensor4<float> x = random_batch(kBatch, c, hw, hw);
  const shallow::Tensor4<float> dy = random_batch(kBatch, c, hw, hw);
  auto ours = [&] {
    conv.forward(x);
    conv.backward(dy);
  };

  torch::Tensor tx = to_torch(x).requires_grad_(true);
  torch::Tensor tdy = to_torch(dy);
  torch::Tensor w = torch::randn({c, c, k, k}).mul_(0.1).requires_grad_(true);
  torch::Tensor b = torch::zeros({c}).requires_grad_(true);
  auto theirs = [&] {
    for (torch::Tensor* t : {&tx, &w, &b}) t->mutable_grad() = torch::Tensor();
    torch::conv2d(tx, w, b, 1, k / 2).backward(tdy);
  };
  return side_by_side(s.rounds, s.min_ms, ours, theirs);
}

// The demo's MNIST network (shallow::build_model's defaults: conv 1->16, ReLU,
// 8 residual layers of 16 filters k3, max-pool 4, dense), one Adam step on a
// batch. libtorch's parallel layout runs its 8 branches as one 16->128 conv.
struct TorchNet : torch::nn::Module {
  TorchNet(bool parallel, int layers, int filters) : parallel(parallel), layers(layers), filters(filters) {
    stem = register_module("stem", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, filters, 3).padding(1)));
    if (parallel) {
      branches.push_back(register_module(
          "fused", torch::nn::Conv2d(torch::nn::Conv2dOptions(filters, layers * filters, 3).padding(1))));
    } else {
      for (int i = 0; i < layers; ++i)
        branches.push_back(register_module("branch" + std::to_string(i),
                                           torch::nn::Conv2d(torch::nn::Conv2dOptions(filters, filters, 3).padding(1))));
    }
    head = register_module("head", torch::nn::Linear(filters * 7 * 7, 10));
  }

  torch::Tensor forward(torch::Tensor x) {
    torch::Tensor h = torch::relu(stem->forward(x));
    if (parallel) {
      const torch::Tensor a = torch::relu(branches[0]->forward(h));
      h = h + a.view({h.size(0), layers, filters, h.size(2), h.size(3)}).sum(1);
    } else {
      for (auto& conv : branches) h = h + torch::relu(conv->forward(h));
    }
    return head->forward(torch::max_pool2d(h, 4).flatten(1));
  }

  bool parallel;
  int layers, filters;
  torch::nn::Conv2d stem{nullptr};
  std::vector<torch::nn::Conv2d> branches;
  torch::nn::Linear head{nullptr};
};

SideBySide network_step(const Settings& s, shallow::Layout layout) {
  const shallow::ModelConfig config = mnist_network(layout);
  NetworkStep ours(config, kBatch);
  TorchNet tnet(layout == shallow::Layout::parallel, int(config.layers), int(config.filters));
  torch::optim::Adam topt(tnet.parameters(), torch::optim::AdamOptions(1e-3));
  const torch::Tensor tx = to_torch(ours.input());
  const torch::Tensor tlabels = torch::tensor(std::vector<int64_t>(ours.labels().begin(), ours.labels().end()));
  auto theirs = [&] {
    topt.zero_grad();
    torch::nn::functional::cross_entropy(tnet.forward(tx), tlabels).backward();
    topt.step();
  };
  return side_by_side(s.rounds, s.min_ms, [&] { ours(); }, theirs);
}

double arg(int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "compare_torch: %s needs a value\n", argv[i]);
    std::exit(2);
  }
  char* end = nullptr;
  const double v = std::strtod(argv[++i], &end);
  if (*end != '\0' || v <= 0) {
    std::fprintf(stderr, "compare_torch: %s needs a positive number, got '%s'\n", argv[i - 1], argv[i]);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds") {
      const double r = arg(argc, argv, i);
      if (r != std::floor(r) || r > 1000) {
        std::fprintf(stderr, "compare_torch: --rounds needs a whole number from 1 to 1000, got '%s'\n", argv[i]);
        return 2;
      }
      s.rounds = int(r);
    } else if (a == "--min-ms") {
      s.min_ms = arg(argc, argv, i);
    } else {
      std::fprintf(stderr, "usage: compare_torch [--rounds R] [--min-ms T]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  std::printf("libtorch %s (oneDNN %s), shallow %s, batch %ld, OMP_WAIT_POLICY=%s, medians of %d rounds of >= %.0f ms each\n\n",
              TORCH_VERSION, at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() ? "on" : "off",
              shallow::version, long(kBatch), std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "unset",
              s.rounds, s.min_ms);

  std::printf("| conv step (fwd + bwd-data + bwd-weights) | threads | shallow ms | libtorch ms | libtorch / shallow |\n");
  std::printf("|---|---|---|---|---|\n");
  const struct {
    shallow::Index c, hw;
  } shapes[] = {{1, 28}, {8, 28}, {16, 28}, {32, 32}, {64, 32}};
  for (int threads : {1, 2}) {
    set_threads(threads);
    for (const auto& sh : shapes) {
      const SideBySide m = conv_step(s, sh.c, sh.hw, 3);
      std::printf("| %ld->%ld, %ldx%ld, k3 | %d | %.3f | %.3f | %.2fx |\n", long(sh.c), long(sh.c), long(sh.hw),
                  long(sh.hw), threads, m.shallow * 1e3, m.other * 1e3, m.ratio);
      std::fflush(stdout);
    }
  }

  std::printf("\n| MNIST network step (Adam) | threads | shallow img/s | libtorch img/s | shallow / libtorch |\n");
  std::printf("|---|---|---|---|---|\n");
  for (int threads : {1, 2}) {
    set_threads(threads);
    for (shallow::Layout layout : {shallow::Layout::sequential, shallow::Layout::parallel}) {
      const SideBySide m = network_step(s, layout);
      std::printf("| %s | %d | %.0f | %.0f | %.2fx |\n", shallow::to_string(layout).c_str(), threads,
                  double(kBatch) / m.shallow, double(kBatch) / m.other, m.ratio);
      std::fflush(stdout);
    }
  }
  return 0;
}
