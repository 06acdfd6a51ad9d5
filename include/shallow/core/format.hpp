/// \file
/// Numbers as text that reads back exactly, for specs, metrics and files;
/// the prefix and suffix tests C++17's std::string lacks.
#pragma once

#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

namespace shallow {

/// Shortest text that reads back to the same double ("0.1", "1e-05", "nan").
inline std::string format_number(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

/// The whole of `text` as a number of type N; false (and v untouched) when
/// text is empty, has anything after the number, or is out of N's range.
template <class N>
bool parse_number(const std::string& text, N& v) {
  N parsed{};
  const auto res = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || res.ec != std::errc() || res.ptr != text.data() + text.size()) return false;
  v = parsed;
  return true;
}

/// Whether `text` begins with `prefix` (C++20's starts_with).
inline bool starts_with(const std::string& text, const std::string& prefix) {
  return text.size() >= prefix.size() && text.compare(0, prefix.size(), prefix) == 0;
}

/// Whether `text` ends with `suffix` (C++20's ends_with).
inline bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace shallow
