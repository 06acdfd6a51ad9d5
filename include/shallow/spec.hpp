// Layer specs: one line "name key=value ...", written by Layer::spec() and
// read back by the layer factory, so an architecture can be stored as text
// (in checkpoints, on the command line) and rebuilt exactly.
#pragma once

#include <charconv>
#include <map>
#include <sstream>
#include <string>
#include <system_error>

#include "error.hpp"

namespace shallow {

// Shortest text that reads back to the same double.
inline std::string format_number(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

class SpecReader {
 public:
  explicit SpecReader(const std::string& line) : line_(line) {
    std::istringstream in(line);
    in >> name_;
    std::string tok;
    while (in >> tok) {
      const auto eq = tok.find('=');
      if (eq == std::string::npos || eq == 0) throw Error("layer spec '" + line + "': expected key=value, got '" + tok + "'");
      values_[tok.substr(0, eq)] = tok.substr(eq + 1);
    }
  }
  const std::string& name() const { return name_; }
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  std::string text(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) throw Error("layer spec '" + line_ + "': missing " + key + "=");
    return it->second;
  }
  long long integer(const std::string& key) const {
    const std::string s = text(key);
    long long v = 0;
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size())
      throw Error("layer spec '" + line_ + "': " + key + "=" + s + " is not an integer");
    return v;
  }
  double number(const std::string& key) const {
    const std::string s = text(key);
    double v = 0;
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size())
      throw Error("layer spec '" + line_ + "': " + key + "=" + s + " is not a number");
    return v;
  }

 private:
  std::string line_, name_;
  std::map<std::string, std::string> values_;
};

}  // namespace shallow
