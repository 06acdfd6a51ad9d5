// A dataset from a folder with one subfolder per class:
//
//   root/cat/001.png, root/cat/002.jpg, root/dog/a.bmp, ...
//
// Classes are the subfolder names in sorted order; each image is converted
// to the requested channel count (1 grey, 3 RGB) and resized bilinearly to a
// fixed height x width, so a dataset's images share one shape.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../core/error.hpp"
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

// Every image under root/<class>/ as one dataset. With class_names given
// (a validation folder read with the training set's classes), labels follow
// that list and a subfolder not in it is an error.
inline Dataset load_image_folder(const std::string& root, Index channels, Index height, Index width,
                                 std::vector<std::string> class_names = {}) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw IoError(root, "is not a directory of class subfolders");
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory()) folders.push_back(e.path().filename().string());
  if (ec) throw IoError(root, "cannot list: " + ec.message());
  std::sort(folders.begin(), folders.end());
  if (folders.empty()) throw FormatError(root, "has no class subfolders (expected root/<class>/<image>)");
  if (class_names.empty()) class_names = folders;
  Dataset d;
  d.source = root;
  d.shape = {channels, height, width};
  d.classes = int(class_names.size());
  d.class_names = class_names;
  for (const std::string& folder : folders) {
    const auto it = std::find(class_names.begin(), class_names.end(), folder);
    if (it == class_names.end())
      throw FormatError((fs::path(root) / folder).string(), "is not one of the training set's classes");
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(fs::path(root) / folder, ec))
      if (e.is_regular_file() && detail::has_image_extension(e.path())) files.push_back(e.path());
    if (ec) throw IoError((fs::path(root) / folder).string(), "cannot list: " + ec.message());
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) {
      const std::vector<std::uint8_t> img = load_image(f.string(), channels, height, width);
      d.images.insert(d.images.end(), img.begin(), img.end());
      d.labels.push_back(int(it - class_names.begin()));
    }
  }
  if (d.labels.empty()) throw FormatError(root, "holds no image files (.png, .jpg, .bmp, ...)");
  return d;
}

}  // namespace shallow
