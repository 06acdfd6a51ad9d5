// libFuzzer target: IDX images and labels, raw or gzip, from arbitrary bytes.
#include <shallow/data/mnist.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const shallow::Bytes bytes(data, data + size);
  try {
    shallow::parse_idx_images(bytes, "input");
  } catch (const shallow::FormatError&) {
  }
  try {
    shallow::parse_idx_labels(bytes, "input", 10);
  } catch (const shallow::FormatError&) {
  }
  return 0;
}
