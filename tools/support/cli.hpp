// A small command-line parser shared by the tools: declared flags with help
// text and defaults, typed values, and a clear message for anything else
// (unknown flag, missing value, a value that is not a number or out of range,
// an argument that is not a flag where the tool takes none).
#pragma once

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include <shallow/core/format.hpp>

namespace cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Parser {
 public:
  Parser(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

  // Lets the tool take arguments that are not flags (files), shown in the
  // usage line as `name`; without this, such an argument is an error (a
  // mistyped "-epochs 3" must not be ignored).
  Parser& positionals(const std::string& name) {
    positional_name_ = name;
    return *this;
  }

  // A flag that takes a value; `fallback` is shown in --help and used when absent.
  Parser& option(const std::string& name, const std::string& fallback, const std::string& help) {
    flags_.push_back({name, fallback, help, Kind::text});
    return *this;
  }
  // A flag whose value is a whole number in [min, max], read by integer().
  Parser& integer_option(const std::string& name, const std::string& fallback, const std::string& help,
                         long long min = 0, long long max = std::numeric_limits<long long>::max()) {
    flags_.push_back({name, fallback, help, Kind::integer, min, max});
    return *this;
  }
  // A flag whose value is a finite number >= min, read by number().
  Parser& number_option(const std::string& name, const std::string& fallback, const std::string& help,
                        double min = 0) {
    flags_.push_back({name, fallback, help, Kind::number, 0, 0, min});
    return *this;
  }
  // A flag without a value.
  Parser& toggle(const std::string& name, const std::string& help) {
    flags_.push_back({name, "", help, Kind::toggle});
    return *this;
  }

  // Returns false when --help was given (the help has been printed).
  bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        print_help();
        return false;
      }
      if (!shallow::starts_with(arg, "--")) {
        if (positional_name_.empty())
          throw UsageError("unexpected argument '" + arg + "'" +
                           (shallow::starts_with(arg, "-") ? " (flags start with --)" : "") + " (see --help)");
        positional_.push_back(arg);
        continue;
      }
      std::string name = arg.substr(2), value;
      const auto eq = name.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const Flag* f = find(name);
      if (!f) throw UsageError("unknown flag --" + name + " (see --help)");
      if (f->kind == Kind::toggle) {
        if (inline_value) throw UsageError("--" + name + " takes no value");
        values_[name] = "1";
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError("--" + name + " needs a value");
        value = argv[++i];
      }
      values_[name] = value;
    }
    return true;
  }

  // Replaces a flag's default (a recipe does this); a given flag still wins.
  void set_fallback(const std::string& name, const std::string& value) {
    for (auto& f : flags_)
      if (f.name == name) {
        f.fallback = value;
        f.replaced = true;
        return;
      }
    throw std::logic_error("cli: flag --" + name + " was never declared");
  }

  bool given(const std::string& name) const { return values_.count(name) != 0; }
  // Given, or set by set_fallback: chosen rather than left at its default.
  bool chosen(const std::string& name) const { return given(name) || declared(name).replaced; }
  bool flag(const std::string& name) const { return given(name) || declared(name).fallback == "1"; }

  std::string text(const std::string& name) const {
    auto it = values_.find(name);
    if (it != values_.end()) return it->second;
    return declared(name).fallback;
  }

  long long integer(const std::string& name) const {
    const Flag& f = declared(name, Kind::integer);
    const long long min = f.min_integer, max = f.max_integer;
    const std::string s = text(name);
    long long v = 0;
    auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size())
      throw UsageError("--" + name + " must be a whole number, got '" + s + "'");
    if (v < min || v > max)
      throw UsageError("--" + name + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                       ", got " + s);
    return v;
  }

  double number(const std::string& name) const {
    const double min = declared(name, Kind::number).min_number;
    const std::string s = text(name);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
      throw UsageError("--" + name + " must be a number, got '" + s + "'");
    if (v < min) throw UsageError("--" + name + " must be at least " + std::to_string(min) + ", got " + s);
    return v;
  }

  // Reads every numeric flag once, so that a bad value is reported before
  // any slow work starts.
  void check() const {
    for (const auto& f : flags_) {
      if (f.kind == Kind::integer) integer(f.name);
      if (f.kind == Kind::number) number(f.name);
    }
  }

  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& program() const { return program_; }

  void print_help() const {
    std::printf("usage: %s [flags]%s\n\n%s\n\nflags:\n", program_.c_str(),
                positional_name_.empty() ? "" : (" " + positional_name_).c_str(), summary_.c_str());
    for (const auto& f : flags_) {
      std::string left = "  --" + f.name + (f.kind == Kind::toggle ? "" : " " + placeholder(f));
      std::printf("%-28s %s", left.c_str(), f.help.c_str());
      if (f.kind != Kind::toggle && !f.fallback.empty()) std::printf(" (default: %s)", f.fallback.c_str());
      std::printf("\n");
    }
  }

 private:
  enum class Kind { text, integer, number, toggle };
  struct Flag {
    std::string name, fallback, help;
    Kind kind;
    long long min_integer = 0, max_integer = 0;
    double min_number = 0;
    bool replaced = false;  // by set_fallback
  };
  static std::string placeholder(const Flag& f) {
    std::string p;
    for (char c : f.name) p += c == '-' ? '_' : char(std::toupper(static_cast<unsigned char>(c)));
    return p;
  }
  const Flag* find(const std::string& name) const {
    for (const auto& f : flags_)
      if (f.name == name) return &f;
    return nullptr;
  }
  const Flag& declared(const std::string& name) const {
    const Flag* f = find(name);
    if (!f) throw std::logic_error("cli: flag --" + name + " was never declared");
    return *f;
  }
  const Flag& declared(const std::string& name, Kind kind) const {
    const Flag& f = declared(name);
    if (f.kind != kind) throw std::logic_error("cli: flag --" + name + " is not declared with that type");
    return f;
  }

  std::string program_, summary_, positional_name_;
  std::vector<Flag> flags_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace cli
