// Typed exceptions. Everything shallow throws derives from shallow::Error, so a
// caller can catch one type; the subclasses say which kind of fault it was.
#pragma once

#include <stdexcept>
#include <string>

namespace shallow {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A tensor of the wrong shape, or a layer configured with impossible sizes.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A file that could not be opened, read or written.
class IoError : public Error {
 public:
  IoError(const std::string& path, const std::string& what)
      : Error(path + ": " + what), path_(path) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// A file that was read but whose contents are malformed.
class FormatError : public IoError {
 public:
  using IoError::IoError;
};

// Training produced a NaN or an infinity.
class NumericError : public Error {
 public:
  using Error::Error;
};

}  // namespace shallow
