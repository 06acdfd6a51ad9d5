/// \file
/// Images from files (PNG, JPEG, BMP, GIF, TGA, PNM via stb_image), converted
/// to a channel count (1 grey, 3 RGB) and resized bilinearly to a fixed
/// height x width, as planar (C x H x W) bytes. Sizes are checked before stb
/// allocates anything for them.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <stb_image.h>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "files.hpp"

namespace shallow {

/// Larger images are refused before decoding: 2^26 pixels (8192 x 8192),
/// and image files of more than 256 MB before reading.
inline constexpr std::int64_t max_image_pixels = std::int64_t(1) << 26;
/// Image files larger than this (256 MB) are refused before reading.
inline constexpr std::uint64_t max_image_file_bytes = std::uint64_t(1) << 28;

namespace detail {

// Bilinear resampling of a planar (C x h x w) image, pixel centres aligned
// as in OpenCV's INTER_LINEAR and PyTorch's align_corners=False.
inline void resize_bilinear(const std::uint8_t* src, Index channels, Index sh, Index sw, std::uint8_t* dst, Index dh,
                            Index dw) {
  const auto axis = [](Index out, Index in, Index o, Index& i0, Index& i1, float& t) {
    float s = (float(o) + 0.5f) * float(in) / float(out) - 0.5f;
    s = std::max(s, 0.0f);
    i0 = std::min(Index(s), in - 1);
    i1 = std::min(i0 + 1, in - 1);
    t = s - float(i0);
  };
  for (Index y = 0; y < dh; ++y) {
    Index y0, y1;
    float ty;
    axis(dh, sh, y, y0, y1, ty);
    for (Index x = 0; x < dw; ++x) {
      Index x0, x1;
      float tx;
      axis(dw, sw, x, x0, x1, tx);
      for (Index c = 0; c < channels; ++c) {
        const std::uint8_t* p = src + c * sh * sw;
        const float top = float(p[y0 * sw + x0]) * (1 - tx) + float(p[y0 * sw + x1]) * tx;
        const float bottom = float(p[y1 * sw + x0]) * (1 - tx) + float(p[y1 * sw + x1]) * tx;
        dst[(c * dh + y) * dw + x] = std::uint8_t(std::clamp(top * (1 - ty) + bottom * ty + 0.5f, 0.0f, 255.0f));
      }
    }
  }
}

}  // namespace detail

/// The image at path as channels x height x width bytes (planar), converted
/// and resized. FormatError when the file is not a readable image.
/// decode_image does the same for a file's bytes already in memory.
inline std::vector<std::uint8_t> decode_image(const Bytes& bytes, const std::string& path, Index channels,
                                              Index height, Index width) {
  SHALLOW_CHECK(channels == 1 || channels == 3, ConfigError,
                "load_image: channels must be 1 or 3, got " + std::to_string(channels));
  SHALLOW_CHECK(height > 0 && width > 0, ConfigError, "load_image: the target size must be positive");
  if (bytes.empty()) throw FormatError(path, "is empty, not an image");
  if (bytes.size() > std::size_t(INT_MAX)) throw FormatError(path, "is too large for an image file");
  int w = 0, h = 0, n = 0;
  if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &w, &h, &n))
    throw FormatError(path, std::string("not a readable image: ") + stbi_failure_reason());
  // Debian's stb_image reports a top-down BMP's height as negative.
  h = h == INT_MIN ? 0 : std::abs(h);
  // Debian's stb_image reads past the buffer on a truncated 16-bit PNM (found
  // by fuzz_image: "P5 35 57 42299\n" and no pixels), so those are refused.
  if (bytes[0] == 'P' && stbi_is_16_bit_from_memory(bytes.data(), int(bytes.size())))
    throw FormatError(path, "16-bit PNM images are not supported");
  if (w <= 0 || h <= 0 || std::int64_t(w) * h > max_image_pixels)
    throw FormatError(path, "image of " + std::to_string(w) + "x" + std::to_string(h) +
                                " pixels is larger than the 8192x8192 this loader accepts");
  // No real encoder packs more than ~1000 pixels a byte (deflate's limit);
  // a header claiming more is refused before stb allocates for it.
  if (std::int64_t(w) * h > std::max<std::int64_t>(1 << 16, 2048 * std::int64_t(bytes.size())))
    throw FormatError(path, "claims " + std::to_string(w) + "x" + std::to_string(h) + " pixels, more than a file of " +
                                std::to_string(bytes.size()) + " bytes can hold");
  const std::unique_ptr<unsigned char, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &n, int(channels)), stbi_image_free);
  if (!pixels) throw FormatError(path, std::string("cannot decode the image: ") + stbi_failure_reason());
  // stb gives interleaved rows (HWC); the library is planar (CHW).
  std::vector<std::uint8_t> planar(std::size_t(channels) * std::size_t(w) * std::size_t(h));
  const Index plane = Index(w) * h;
  for (Index i = 0; i < plane; ++i)
    for (Index c = 0; c < channels; ++c) planar[std::size_t(c * plane + i)] = pixels.get()[i * channels + c];
  if (h == height && w == width) return planar;
  std::vector<std::uint8_t> out(std::size_t(channels * height * width));
  detail::resize_bilinear(planar.data(), channels, h, w, out.data(), height, width);
  return out;
}

/// The image file at path as channels x height x width bytes (planar), converted and resized; IoError or FormatError when it cannot be read or decoded.
inline std::vector<std::uint8_t> load_image(const std::string& path, Index channels, Index height, Index width) {
  return decode_image(read_file(path, max_image_file_bytes), path, channels, height, width);
}

}  // namespace shallow
