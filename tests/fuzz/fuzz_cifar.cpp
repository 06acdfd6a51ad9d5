// libFuzzer target: CIFAR-10 batch contents, raw or gzip, from arbitrary bytes.
#include <shallow/data/cifar10.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  shallow::Dataset d;
  try {
    shallow::append_cifar10_records(shallow::Bytes(data, data + size), "input", d);
  } catch (const shallow::FormatError&) {
  }
  return 0;
}
