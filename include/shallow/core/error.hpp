/// \file
/// Typed exceptions. Everything shallow throws derives from shallow::Error, so a
/// caller can catch one type; the subclasses say which kind of fault it was:
///
///   ConfigError    a bad argument: a size, a rate, an option, a spec line
///   ShapeError     tensors whose shapes do not fit together
///   IoError        a file that cannot be opened, read or written
///   FormatError    a file that was read but whose contents are malformed
///   NumericError   training produced a NaN or an infinity
///
/// SHALLOW_CHECK(cond, Kind, args...) throws Kind(args...) when cond is false.
/// Its message arguments are evaluated only then, so a check that runs every
/// step costs a comparison, not a string.
#pragma once

#include <stdexcept>
#include <string>

namespace shallow {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ConfigError : public Error {
 public:
  using Error::Error;
};

class ShapeError : public Error {
 public:
  using Error::Error;
};

/// A file that cannot be opened, read or written; path() names it.
class IoError : public Error {
 public:
  /// The message is "path: what".
  IoError(const std::string& path, const std::string& what) : Error(path + ": " + what), path_(path) {}
  /// The file the fault concerns.
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

class FormatError : public IoError {
 public:
  /// The message is "path: what".
  using IoError::IoError;
};

class NumericError : public Error {
 public:
  using Error::Error;
};

}  // namespace shallow

/// Throws shallow's exception Kind, built from the remaining arguments, when cond is false; the arguments are evaluated only then.
#define SHALLOW_CHECK(cond, Kind, ...)                     \
  do {                                                     \
    if (!(cond)) throw ::shallow::Kind(__VA_ARGS__);       \
  } while (false)
