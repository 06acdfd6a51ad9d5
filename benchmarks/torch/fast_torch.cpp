// libtorch alone on the cifar10-fast network of shallow (include/shallow/
// models/cifar10_fast.hpp, one branch per residual block), so PyTorch's epoch
// time can stand beside shallow's on the same machine: the SGD training step
// at batch 512 on random data, and an evaluation of 5000 images with the
// recipe's test-time augmentation (flips and one-pixel shifts: six views).
// The network is --recipe cifar10-fast's: GELU after the whitening and the
// groups' batch norms, each residual branch relu(BN(conv(x))), batch norms
// without a trained scale.
//
//   fast_torch [--threads T] [--steps S] [--rounds R]
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr int64_t kBatch = 512;
constexpr int64_t kTrainImages = 45000;  // shallow's recipe holds 5000 of the 50,000 out
constexpr int64_t kEvalImages = 5000;
constexpr int kWarmupSteps = 3;

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t padding, bool bias) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k).padding(padding).bias(bias));
}

// The recipe's batch norm: eps 1e-12, momentum 0.4, the scale fixed at 1.
torch::nn::BatchNorm2d batchnorm(int64_t channels) {
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(channels).eps(1e-12).momentum(0.4));
  bn->weight.set_requires_grad(false);
  return bn;
}

// Mirrors build_fast_model's layers; the initial values (whitening fit, Dirac
// filters, classifier scale) do not change the time of a step and are left at
// libtorch's defaults.
struct FastNet : torch::nn::Module {
  FastNet() {
    whiten = register_module("whiten", conv(3, 24, 2, 0, true));
    whiten->weight.set_requires_grad(false);  // fitted once, frozen; its bias trains
    int64_t in = 24;
    for (int64_t w : {64, 256, 256}) {
      const std::string g = std::to_string(groups.size());
      groups.push_back({register_module("conv" + g, conv(in, w, 3, 1, false)), register_module("bn" + g, batchnorm(w)),
                        register_module("res" + g, conv(w, w, 3, 1, false)),
                        register_module("res_bn" + g, batchnorm(w))});
      in = w;
    }
    head = register_module("head", torch::nn::Linear(torch::nn::LinearOptions(in, 10).bias(false)));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::gelu(whiten->forward(x));
    for (Group& g : groups) {
      x = torch::gelu(g.bn->forward(torch::max_pool2d(g.conv->forward(x), 2)));
      x = x + torch::relu(g.res_bn->forward(g.res->forward(x)));
    }
    return head->forward(torch::max_pool2d(x, x.size(2)).flatten(1));  // 3x3 left for 32x32 inputs
  }

  struct Group {
    torch::nn::Conv2d conv;
    torch::nn::BatchNorm2d bn;
    torch::nn::Conv2d res;
    torch::nn::BatchNorm2d res_bn;
  };
  torch::nn::Conv2d whiten{nullptr};
  std::vector<Group> groups;
  torch::nn::Linear head{nullptr};
};

int positive_int(int argc, char** argv, int& i) {
  if (i + 1 >= argc) {
    std::fprintf(stderr, "fast_torch: %s needs a value\n", argv[i]);
    std::exit(2);
  }
  char* end = nullptr;
  const long v = std::strtol(argv[++i], &end, 10);
  if (*end != '\0' || v < 1 || v > 10000) {
    std::fprintf(stderr, "fast_torch: %s needs a whole number from 1 to 10000, got '%s'\n", argv[i - 1], argv[i]);
    std::exit(2);
  }
  return int(v);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, steps = 10, rounds = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads") {
      threads = positive_int(argc, argv, i);
    } else if (a == "--steps") {
      steps = positive_int(argc, argv, i);
    } else if (a == "--rounds") {
      rounds = positive_int(argc, argv, i);
    } else {
      std::fprintf(stderr, "usage: fast_torch [--threads T] [--steps S] [--rounds R]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  // The inter-op pool must be sized before its first use; one thread keeps
  // the run to T cores, as shallow's single team does.
  at::set_num_interop_threads(1);
  at::set_num_threads(threads);
  torch::manual_seed(1);

  auto net = std::make_shared<FastNet>();
  std::vector<torch::Tensor> trainable;
  int64_t total = 0, n_trainable = 0;
  for (const torch::Tensor& p : net->parameters()) {
    total += p.numel();
    if (p.requires_grad()) {
      n_trainable += p.numel();
      trainable.push_back(p);
    }
  }
  torch::optim::SGD opt(trainable,
                        torch::optim::SGDOptions(0.1).momentum(0.85).nesterov(true).weight_decay(5e-4));
  const auto loss_options = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.2);

  const torch::Tensor x = torch::randn({kBatch, 3, 32, 32});
  const torch::Tensor labels = torch::randint(10, {kBatch}, torch::kLong);
  auto step = [&] {
    opt.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(x), labels, loss_options).backward();
    opt.step();
  };

  std::printf("libtorch %s (oneDNN %s), %d threads (interop 1), OMP_WAIT_POLICY=%s, batch %ld\n", TORCH_VERSION,
              at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() ? "on" : "off", at::get_num_threads(),
              std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "unset", long(kBatch));
  std::printf("parameters: %ld trainable, %ld total (%ld frozen: the 24x3x2x2 whitening filters, the batch norms' scales)\n",
              long(n_trainable), long(total), long(total - n_trainable));
  std::fflush(stdout);

  net->train();
  for (int i = 0; i < kWarmupSteps; ++i) step();
  std::vector<double> ms;
  for (int r = 0; r < rounds; ++r) {
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < steps; ++i) step();
    ms.push_back(seconds_since(start) * 1e3 / steps);
    std::printf("round %d: %.1f ms/step\n", r + 1, ms.back());
    std::fflush(stdout);
  }
  std::sort(ms.begin(), ms.end());
  const double median = rounds % 2 ? ms[std::size_t(rounds / 2)]
                                   : (ms[std::size_t(rounds / 2 - 1)] + ms[std::size_t(rounds / 2)]) / 2;

  // Evaluation as the recipe runs it: eval-mode BatchNorm, the logits of
  // each batch (weight 1/2) and of its two one-pixel shifts (1/4 each),
  // each view with its mirror image.
  const int64_t eval_batches = (kEvalImages + kBatch - 1) / kBatch;
  auto evaluate = [&](int64_t batch) {
    const torch::Tensor xb = x.narrow(0, 0, batch);
    const auto views = [&](const torch::Tensor& v) { return net->forward(v) + net->forward(torch::flip(v, {3})); };
    const auto shifted = [&](int64_t s) {
      return torch::nn::functional::pad(xb, torch::nn::functional::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReflect))
          .narrow(2, 1 + s, 32)
          .narrow(3, 1 + s, 32);
    };
    return (views(xb) / 2 + (views(shifted(-1)) + views(shifted(1))) / 4).argmax(1);
  };
  torch::NoGradGuard no_grad;
  net->eval();
  evaluate(kEvalImages - (eval_batches - 1) * kBatch);  // warm-up: the short last batch's shapes
  const Clock::time_point eval_start = Clock::now();
  for (int64_t b = 0; b < eval_batches; ++b) evaluate(std::min(kBatch, kEvalImages - b * kBatch));
  const double eval_s = seconds_since(eval_start);

  const int64_t epoch_steps = (kTrainImages + kBatch - 1) / kBatch;
  const double train_s = median * 1e-3 * double(epoch_steps);
  std::printf("median: %.1f ms/step, %.1f images/s (%d rounds of %d steps after %d warm-up steps)\n", median,
              double(kBatch) * 1e3 / median, rounds, steps, kWarmupSteps);
  std::printf("epoch: %ld steps = %.1f s training; evaluation of %ld images (6 views) %.1f s\n",
              long(epoch_steps), train_s, long(kEvalImages), eval_s);
  return 0;
}
