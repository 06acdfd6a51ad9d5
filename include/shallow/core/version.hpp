#pragma once

namespace shallow {
/// Kept equal to project(VERSION) in CMakeLists.txt (a test checks).
inline constexpr const char* version = "0.2.0";
}  // namespace shallow
