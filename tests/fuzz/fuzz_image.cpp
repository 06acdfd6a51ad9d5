// libFuzzer target: image decoding (stb_image) and resizing, on arbitrary
// bytes, to 1 and 3 channels.
#include <shallow/data/image_folder.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const shallow::Bytes bytes(data, data + size);
  for (shallow::Index channels : {1, 3}) {
    try {
      shallow::decode_image(bytes, "input", channels, 7, 5);
    } catch (const shallow::FormatError&) {
    }
  }
  return 0;
}
