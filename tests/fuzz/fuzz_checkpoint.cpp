// libFuzzer target: the checkpoint parser (magic, version, CRC, sections,
// tensors, metadata) on arbitrary bytes. Each input is tried as it is and
// with its trailing CRC-32 recomputed, so mutations reach the parser behind
// the checksum.
#include <shallow/train/checkpoint.hpp>

#include <zlib.h>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  shallow::Bytes bytes(data, data + size);
  try {
    shallow::parse_checkpoint(bytes, "input");
  } catch (const shallow::FormatError&) {
  }
  if (size < 4) return 0;
  const std::size_t body = size - 4;
  const auto crc = static_cast<std::uint32_t>(crc32(crc32(0, nullptr, 0), data, static_cast<uInt>(body)));
  for (int i = 0; i < 4; ++i) bytes[body + std::size_t(i)] = static_cast<unsigned char>(crc >> (8 * i));
  try {
    shallow::parse_checkpoint(bytes, "input");
  } catch (const shallow::FormatError&) {
  }
  return 0;
}
