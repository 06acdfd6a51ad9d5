// shallow-predict: classifies image files with a checkpoint written by
// shallow-train, printing the top-k classes and their probabilities.
//
// Each image is converted to the checkpoint's channel count, resized to its
// input size and normalised with the training set's mean and std, as in
// training.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>

#include "support/training_setup.hpp"

namespace {

using namespace shallow;

Shape parse_shape(const std::string& text, const std::string& path) {
  Shape s;
  char x1 = 0, x2 = 0;
  std::istringstream in(text);
  if (!(in >> s.c >> x1 >> s.h >> x2 >> s.w) || x1 != 'x' || x2 != 'x' || s.c <= 0 || s.h <= 0 || s.w <= 0)
    throw FormatError(path, "metadata 'input' is not CxHxW: '" + text + "'");
  return s;
}

std::vector<double> parse_numbers(const std::string& text, std::size_t count, const std::string& what,
                                  const std::string& path) {
  std::vector<double> v;
  std::istringstream in(text);
  for (double x; in >> x;) v.push_back(x);
  if (v.size() != count) throw FormatError(path, "metadata '" + what + "' needs " + std::to_string(count) + " values");
  return v;
}

const std::string& meta(const Checkpoint& ck, const std::string& key, const std::string& path) {
  const auto it = ck.metadata.find(key);
  if (it == ck.metadata.end()) throw FormatError(path, "has no '" + key + "' metadata: not written by shallow-train");
  return it->second;
}

}  // namespace

int main(int argc, char** argv) {
  tools::prefer_passive_waiting(argv);
  cli::Parser p("shallow-predict", "Classifies images with a shallow-train checkpoint.\n"
                                   "usage: shallow-predict --model FILE [--top K] IMAGE...");
  p.option("model", "", "checkpoint written by shallow-train --save")
      .integer_option("top", "3", "how many classes to print per image", 1, 1000)
      .integer_option("threads", "0", "threads (0: all cores)", 0, 1024);
  return tools::run_tool("shallow-predict", [&] {
    if (!p.parse(argc, argv)) return 0;
    p.check();
    tools::set_threads(p);
    const std::string path = p.text("model");
    if (path.empty()) throw cli::UsageError("--model FILE is required");
    if (p.positional().empty()) throw cli::UsageError("give at least one image file");
    const Checkpoint ck = load_checkpoint(path);
    const Shape input = parse_shape(meta(ck, "input", path), path);
    if (input.c != 1 && input.c != 3)
      throw FormatError(path, "input has " + std::to_string(input.c) + " channels; images give 1 or 3");
    std::vector<std::string> names;
    std::istringstream lines(meta(ck, "class_names", path));
    for (std::string line; std::getline(lines, line);) names.push_back(line);
    const auto mean = parse_numbers(meta(ck, "mean", path), std::size_t(input.c), "mean", path);
    const auto sd = parse_numbers(meta(ck, "std", path), std::size_t(input.c), "std", path);
    Network<float> net = load_network<float>(path);
    net.eval();
    if (net.output_shape(input) != Shape{Index(names.size()), 1, 1})
      throw FormatError(path, "the network's output does not match its " + std::to_string(names.size()) +
                                  " class names");
    const Index top = std::min<Index>(p.integer("top"), Index(names.size()));

    Tensor4<float> x(1, input.c, input.h, input.w);
    int failures = 0;
    for (const std::string& file : p.positional()) {
      std::vector<std::uint8_t> pixels;
      try {
        pixels = load_image(file, input.c, input.h, input.w);
      } catch (const Error& e) {
        std::fprintf(stderr, "shallow-predict: %s\n", e.what());
        ++failures;
        continue;
      }
      const Index plane = input.h * input.w;
      for (Index i = 0; i < input.size(); ++i) {
        const std::size_t c = std::size_t(i / plane);
        x.data()[i] = float((pixels[std::size_t(i)] / 255.0 - mean[c]) / sd[c]);
      }
      const Tensor4<float>& logits = net.forward(x);
      std::vector<double> prob(names.size());
      const float* z = logits.data();
      const double zmax = *std::max_element(z, z + prob.size());
      double sum = 0;
      for (std::size_t k = 0; k < prob.size(); ++k) sum += prob[k] = std::exp(double(z[k]) - zmax);
      std::vector<std::size_t> order(prob.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return prob[a] > prob[b]; });
      std::printf("%s:", file.c_str());
      for (Index k = 0; k < top; ++k)
        std::printf("  %s %.4f", names[order[std::size_t(k)]].c_str(), prob[order[std::size_t(k)]] / sum);
      std::printf("\n");
    }
    return failures ? 1 : 0;
  });
}
