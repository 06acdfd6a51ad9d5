// shallow-export: writes a shallow-train checkpoint as an ONNX model, for
// inference in any ONNX runtime: the network in inference mode, the
// normalisation of its training images as Sub and Div at the start, and its
// class names in the model's metadata (include/shallow/onnx/export_onnx.hpp
// gives the graph, the opset and the IR version).
#include <cstdio>
#include <string>

#include <shallow/onnx/export_onnx.hpp>

#include "support/cli.hpp"
#include "support/tool_main.hpp"

namespace shallow::tools {
namespace {

int main_body(const cli::Parser& p) {
  p.check();
  const std::string model = p.text("model"), out = p.text("onnx");
  if (model.empty()) throw cli::UsageError("--model FILE is required");
  if (out.empty()) throw cli::UsageError("--onnx FILE is required");
  check_writable(out);
  const Checkpoint ck = load_checkpoint(model);
  const RunMetadata meta = RunMetadata::read(ck, model);
  Network<float> net = load_network<float>(model);
  OnnxExportOptions o;
  o.mean = meta.normalize.mean();
  o.stddev = meta.normalize.stddev();
  o.class_names = meta.class_names;
  o.probabilities = p.flag("probabilities");
  o.metadata["dataset"] = meta.dataset;
  o.metadata["epoch"] = std::to_string(meta.epoch);
  export_onnx(net, out, meta.input, o);
  std::printf("%s: %zu layers, %ld parameters, input [N, %s], %zu classes, opset %ld\n", out.c_str(), net.size(),
              long(parameter_count(net)), to_string(meta.input).c_str(), meta.class_names.size(), long(onnx_opset));
  return 0;
}

}  // namespace
}  // namespace shallow::tools

int main(int argc, char** argv) {
  using namespace shallow::tools;
  cli::Parser p("shallow-export", "Writes a shallow-train checkpoint as an ONNX model (opset 13) for ONNX runtimes.");
  p.option("model", "", "checkpoint written by shallow-train --save")
      .option("onnx", "", "the ONNX file to write (replaced atomically)")
      .toggle("probabilities", "add a softmax output \"probabilities\" beside \"logits\"");
  return tool_main(argc, argv, p, main_body);
}
