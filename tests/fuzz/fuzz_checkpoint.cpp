// libFuzzer target: the checkpoint parser (magic, version, CRC, sections,
// tensors, metadata), and behind it what a tool does with a checkpoint that
// parsed: its metadata read as RunMetadata, its architecture built from
// text and the weights fitted to it. Each input is tried as it is and with
// its trailing CRC-32 recomputed, so mutations reach past the checksum.
#include <shallow/train/checkpoint.hpp>
#include <shallow/train/run_metadata.hpp>

#include <zlib.h>

#include <cstddef>
#include <cstdint>

namespace {

// The weights may claim at most 2^20 parameters: libFuzzer's malloc limit
// would otherwise report the library's own 512 MB cap as a failure.
constexpr double max_parameters = double(1 << 20);

void use(const shallow::Bytes& bytes) {
  try {
    const shallow::Checkpoint ck = shallow::parse_checkpoint(bytes, "input");
    try {
      shallow::RunMetadata::read(ck, "input");
    } catch (const shallow::Error&) {
    }
    shallow::Network<float> net = shallow::make_network<float>(ck.architecture, max_parameters);
    shallow::restore(ck, net);
  } catch (const shallow::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  shallow::Bytes bytes(data, data + size);
  use(bytes);
  if (size < 4) return 0;
  const std::size_t body = size - 4;
  const auto crc = static_cast<std::uint32_t>(crc32(crc32(0, nullptr, 0), data, static_cast<uInt>(body)));
  for (int i = 0; i < 4; ++i) bytes[body + std::size_t(i)] = static_cast<unsigned char>(crc >> (8 * i));
  use(bytes);
  return 0;
}
