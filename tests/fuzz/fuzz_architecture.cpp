// libFuzzer target: architecture text (spec lines, as checkpoints and flags
// carry them) built into a network, and, when it takes a small image,
// trained one step on one: every layer's from_spec and every constructor
// must refuse bad values with a shallow::Error, and every network they
// accept must run.
#include <shallow/nn.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace shallow;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    // A small budget: libFuzzer's malloc limit would otherwise report the
    // library's own 512 MB cap as a failure.
    Network<float> net = make_network<float>(text, double(1 << 20));
    if (net.size() == 0) return 0;
    for (const Shape in : {Shape{1, 6, 6}, Shape{3, 8, 8}, Shape{2, 5, 7}}) {
      Shape out;
      try {
        out = net.output_shape(in);
      } catch (const ShapeError&) {
        continue;
      }
      if (net.memory_values(in) > double(1 << 22)) continue;
      Tensor4<float> x(2, in.c, in.h, in.w);
      x.setConstant(0.5f);
      const Tensor4<float>& y = net.forward(x);
      if (y.dimension(1) != out.c || y.dimension(2) != out.h || y.dimension(3) != out.w) __builtin_trap();
      Tensor4<float> dy = y;
      net.backward(dy);
    }
  } catch (const Error&) {
  }
  return 0;
}
