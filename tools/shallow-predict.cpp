// shallow-predict: classifies image files with a checkpoint written by
// shallow-train, printing the top-k classes and their probabilities.
//
// Each image is converted to the checkpoint's channel count, resized to its
// input size and normalised with the training set's statistics
// (RunMetadata, Normalize), exactly as in training.
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "support/cli.hpp"
#include "support/tool_main.hpp"

#include <shallow/shallow.hpp>

namespace shallow::tools {
namespace {

int main_body(const cli::Parser& p) {
  p.check();
  set_threads(p);
  const std::string path = p.text("model");
  if (path.empty()) throw cli::UsageError("--model FILE is required");
  if (p.positional().empty()) throw cli::UsageError("give at least one image file");
  const Checkpoint ck = load_checkpoint(path);
  const RunMetadata meta = RunMetadata::read(ck, path);
  const Shape input = meta.input;
  if (input.c != 1 && input.c != 3)
    throw FormatError(path, "input has " + std::to_string(input.c) + " channels; images give 1 or 3");
  Network<float> net = load_network<float>(path);
  net.eval();
  // Bounded by RunMetadata and the parameter limit, the input may still need
  // more activations than this process can hold.
  try {
    const double needed = training_bytes(net, input, 1), available = available_memory_bytes();
    if (needed > available)
      throw FormatError(path, "its network needs about " + format_bytes(needed) + " for one image of " +
                                  to_string(input) + ", more than the " + format_bytes(available) +
                                  " this process can use");
  } catch (const ShapeError& e) {
    throw FormatError(path, std::string("the network cannot take its own input ") + to_string(input) + ": " + e.what());
  }
  const Index classes = Index(meta.class_names.size());
  if (net.output_shape(input) != Shape{classes, 1, 1})
    throw FormatError(path, "the network's output does not match its " + std::to_string(classes) + " class names");
  const Index top = std::min<Index>(p.integer("top"), classes);

  Tensor4<float> x(1, input.c, input.h, input.w);
  std::vector<float> prob(std::size_t(classes), 0.0f);
  int failures = 0;
  for (const std::string& file : p.positional()) {
    try {
      meta.normalize.apply(load_image(file, input.c, input.h, input.w).data(), input, x.data());
    } catch (const Error& e) {
      std::fprintf(stderr, "shallow-predict: %s\n", e.what());
      ++failures;
      continue;
    }
    const Tensor4<float>& logits = net.forward(x);
    softmax(logits.data(), classes, prob.data());
    std::vector<std::size_t> order(prob.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return prob[a] > prob[b]; });
    std::printf("%s:", file.c_str());
    for (Index k = 0; k < top; ++k)
      std::printf("  %s %.4f", meta.class_names[order[std::size_t(k)]].c_str(), double(prob[order[std::size_t(k)]]));
    std::printf("\n");
  }
  return failures ? 1 : 0;
}

}  // namespace
}  // namespace shallow::tools

int main(int argc, char** argv) {
  using namespace shallow::tools;
  cli::Parser p("shallow-predict", "Classifies images with a shallow-train checkpoint.");
  p.positionals("IMAGE...")
      .option("model", "", "checkpoint written by shallow-train --save")
      .integer_option("top", "3", "how many classes to print per image", 1, 1000)
      .integer_option("threads", "0", "threads (0: all cores)", 0, 1024);
  return tool_main(argc, argv, p, main_body);
}
