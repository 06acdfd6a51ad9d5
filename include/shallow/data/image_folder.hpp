/// \file
/// A dataset from a folder with one subfolder per class:
///
///   root/cat/001.png, root/cat/002.jpg, root/dog/a.bmp, ...
///
/// Classes are the subfolder names in sorted order; each image is converted
/// to the requested channel count (1 grey, 3 RGB) and resized bilinearly to a
/// fixed height x width, so a dataset's images share one shape.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/memory.hpp"
#include "dataset.hpp"
#include "image.hpp"

namespace shallow {

namespace detail {

inline bool has_image_extension(const std::filesystem::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* e : {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".pgm", ".ppm", ".pnm"})
    if (ext == e) return true;
  return false;
}

}  // namespace detail

/// Every image under root/\<class\>/ as one dataset. With class_names given
/// (a validation folder read with the training set's classes), labels follow
/// that list and a subfolder not in it is an error. Class names must be
/// printable (they are written one a line into checkpoints), and the
/// decoded images must fit in max_bytes (default: half the memory this
/// process may use), both checked before any image is decoded.
inline Dataset load_image_folder(const std::string& root, Index channels, Index height, Index width,
                                 std::vector<std::string> class_names = {},
                                 double max_bytes = available_memory_bytes() / 2) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw IoError(root, "is not a directory of class subfolders");
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory()) folders.push_back(e.path().filename().string());
  if (ec) throw IoError(root, "cannot list: " + ec.message());
  std::sort(folders.begin(), folders.end());
  if (folders.empty()) throw FormatError(root, "has no class subfolders (expected root/<class>/<image>)");
  for (const std::string& folder : folders)
    for (const char c : folder)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        throw FormatError((fs::path(root) / folder).string(), "class folder name holds a control character");
  if (class_names.empty()) class_names = folders;

  // Every file first, so the total size is known before decoding.
  std::vector<std::pair<fs::path, int>> files;
  for (const std::string& folder : folders) {
    const auto it = std::find(class_names.begin(), class_names.end(), folder);
    if (it == class_names.end())
      throw FormatError((fs::path(root) / folder).string(), "is not one of the training set's classes");
    std::vector<fs::path> mine;
    for (const auto& e : fs::directory_iterator(fs::path(root) / folder, ec))
      if (e.is_regular_file() && detail::has_image_extension(e.path())) mine.push_back(e.path());
    if (ec) throw IoError((fs::path(root) / folder).string(), "cannot list: " + ec.message());
    std::sort(mine.begin(), mine.end());
    for (const fs::path& f : mine) files.emplace_back(f, int(it - class_names.begin()));
  }
  if (files.empty()) throw FormatError(root, "holds no image files (.png, .jpg, .bmp, ...)");
  const double bytes = double(files.size()) * double(channels) * double(height) * double(width);
  if (bytes > max_bytes)
    throw FormatError(root, std::to_string(files.size()) + " images of " + std::to_string(channels) + "x" +
                                std::to_string(height) + "x" + std::to_string(width) + " need " +
                                format_bytes(bytes) + ", more than the " + format_bytes(max_bytes) +
                                " this process can give them");

  Dataset d;
  d.source = root;
  d.shape = {channels, height, width};
  d.classes = int(class_names.size());
  d.class_names = class_names;
  d.images.reserve(std::size_t(bytes));
  for (const auto& [file, label] : files) {
    const std::vector<std::uint8_t> img = load_image(file.string(), channels, height, width);
    d.images.insert(d.images.end(), img.begin(), img.end());
    d.labels.push_back(label);
  }
  return d;
}

}  // namespace shallow
