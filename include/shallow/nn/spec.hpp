/// \file
/// Layer specs: one line "name key=value ...", written by a layer's spec()
/// with SpecWriter and read back by its static from_spec() with SpecReader,
/// so an architecture can be stored as text (in checkpoints, on the command
/// line) and rebuilt exactly. Numbers are written in their shortest exact
/// form. A reader that leaves a key unread, or reads a key that is missing or
/// malformed, throws ConfigError quoting the line: a typo in a spec is never
/// silently ignored. A reader may carry a parameter budget (make_network
/// gives every line of an architecture one): a layer's from_spec reserves
/// its parameters before it allocates them, so a spec claiming billions is
/// refused without trying.
#pragma once

#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "../core/error.hpp"
#include "../core/format.hpp"

namespace shallow {

/// Builds a spec line: SpecWriter("conv2d")("in", 1)("out", 16).str() is "conv2d in=1 out=16".
class SpecWriter {
 public:
  /// A line holding only the layer's name.
  explicit SpecWriter(const std::string& name) : line_(name) {}
  /// Appends " key=value"; value must not contain spaces. Returns *this.
  SpecWriter& operator()(const std::string& key, const std::string& value) {
    line_ += " " + key + "=" + value;
    return *this;
  }
  /// Appends " key=value".
  SpecWriter& operator()(const std::string& key, const char* value) { return (*this)(key, std::string(value)); }
  /// Appends " key=value" in decimal.
  SpecWriter& operator()(const std::string& key, long long value) { return (*this)(key, std::to_string(value)); }
  /// Appends " key=value" in decimal.
  SpecWriter& operator()(const std::string& key, long value) { return (*this)(key, (long long)value); }
  /// Appends " key=value" in decimal.
  SpecWriter& operator()(const std::string& key, int value) { return (*this)(key, (long long)value); }
  /// Appends " key=1" or " key=0".
  SpecWriter& operator()(const std::string& key, bool value) { return (*this)(key, value ? "1" : "0"); }
  /// Appends " key=value", the number in its shortest exact form.
  SpecWriter& operator()(const std::string& key, double value) { return (*this)(key, format_number(value)); }
  /// The line so far.
  const std::string& str() const { return line_; }

 private:
  std::string line_;
};

/// Reads a spec line's name and key=value pairs; every read checks, and failures throw ConfigError quoting the line.
class SpecReader {
 public:
  /// budget: parameters left for this and later lines (null: no limit).
  explicit SpecReader(const std::string& line, double* budget = nullptr) : line_(line), budget_(budget) {
    std::istringstream in(line);
    in >> name_;
    std::string tok;
    while (in >> tok) {
      const auto eq = tok.find('=');
      if (eq == std::string::npos || eq == 0) fail("expected key=value, got '" + tok + "'");
      if (!values_.emplace(tok.substr(0, eq), tok.substr(eq + 1)).second)
        fail("key " + tok.substr(0, eq) + " appears twice");
    }
  }
  /// The layer's name: the line's first word.
  const std::string& name() const { return name_; }
  /// The whole line, for messages.
  const std::string& line() const { return line_; }
  /// Whether the line has key (does not mark it read).
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  /// The value of key as written; ConfigError when missing.
  std::string text(const std::string& key) const {
    auto it = values_.find(key);
    if (it == values_.end()) fail("missing " + key + "=");
    read_.insert(key);
    return it->second;
  }
  /// The value of key as an integer; ConfigError when missing or not one.
  long long integer(const std::string& key) const {
    const std::string s = text(key);
    long long v = 0;
    if (!parse_number(s, v)) fail(key + "=" + s + " is not an integer");
    return v;
  }
  /// A finite number.
  double number(const std::string& key) const {
    const std::string s = text(key);
    double v = 0;
    if (!parse_number(s, v) || !std::isfinite(v)) fail(key + "=" + s + " is not a finite number");
    return v;
  }
  /// The value of key, which must be 0 or 1 (else ConfigError).
  bool flag(const std::string& key) const {
    const std::string s = text(key);
    if (s != "0" && s != "1") fail(key + "=" + s + " is not 0 or 1");
    return s == "1";
  }
  /// The 0/1 value of key, or `otherwise` when the spec leaves key out.
  bool flag(const std::string& key, bool otherwise) const { return has(key) ? flag(key) : otherwise; }
  /// Takes `count` parameters (a product of values read from the spec, in
  /// double so it cannot overflow) out of the budget; ConfigError when they
  /// do not fit. Call in from_spec before constructing the layer.
  void reserve_parameters(double count) const {
    if (!budget_) return;
    if (!(count <= *budget_))
      fail("needs " + format_number(count) + " parameters, more than the " + format_number(*budget_) +
           " left of the architecture's limit");
    *budget_ -= count;
  }

  /// Every key of the line must have been read: call last in from_spec.
  void finish() const {
    for (const auto& [key, value] : values_)
      if (!read_.count(key)) fail("unknown key " + key + "=" + value);
  }

  /// Throws a ConfigError quoting the line, with what.
  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError("layer spec '" + line_ + "': " + what);
  }

 private:
  std::string line_, name_;
  double* budget_;
  std::map<std::string, std::string> values_;
  mutable std::set<std::string> read_;
};

}  // namespace shallow
