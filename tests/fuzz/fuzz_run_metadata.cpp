// libFuzzer target: a checkpoint's metadata as RunMetadata reads it. The
// input is KEY\0VALUE\0KEY\0VALUE..., so mutations reach every entry's
// parser (epoch, input shape, class names, normalisation, metrics JSON,
// settings JSON) directly, without a checkpoint around them.
#include <shallow/train/run_metadata.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  shallow::Checkpoint ck;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t key_end = text.find('\0', at);
    if (key_end == std::string::npos) break;
    std::size_t value_end = text.find('\0', key_end + 1);
    if (value_end == std::string::npos) value_end = text.size();
    ck.metadata[text.substr(at, key_end - at)] = text.substr(key_end + 1, value_end - key_end - 1);
    at = value_end + 1;
  }
  try {
    const shallow::RunMetadata m = shallow::RunMetadata::read(ck, "input");
    shallow::Checkpoint again;
    m.write(again);  // what was read can be written back
    shallow::RunMetadata::read(again, "again");
  } catch (const shallow::Error&) {
  }
  return 0;
}
