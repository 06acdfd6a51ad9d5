/// \file
/// A small JSON value with a reader and a writer that read what they write:
/// metrics lines, sweep grids and per-epoch records all go through it.
///
/// Objects keep their members in insertion order (so files read like the
/// code that wrote them); numbers are doubles, written in their shortest
/// exact form, and a NaN or infinity is written as null. The reader accepts
/// standard JSON plus trailing commas, nests at most max_depth deep (so
/// hostile input cannot exhaust the stack), and reports any fault as a
/// FormatError naming the source, the line and the column.
#pragma once

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "format.hpp"

namespace shallow {

/// A JSON value: null, boolean, number, string, array or object (the contract in this file's comment).
class Json {
 public:
  /// The kind of value held.
  enum class Type { null, boolean, number, string, array, object };
  /// Deepest nesting parse() accepts.
  static constexpr int max_depth = 64;

  Json() = default;
  /// The null value.
  Json(std::nullptr_t) {}
  /// A boolean.
  Json(bool b) : type_(Type::boolean), bool_(b) {}
  /// A number.
  Json(double v) : type_(Type::number), number_(v) {}
  /// A number.
  Json(int v) : Json(double(v)) {}
  /// A number.
  Json(long v) : Json(double(v)) {}
  /// A number (exact up to 2^53).
  Json(long long v) : Json(double(v)) {}
  /// A string.
  Json(std::string s) : type_(Type::string), string_(std::move(s)) {}
  /// A string.
  Json(const char* s) : Json(std::string(s)) {}

  /// An empty array.
  static Json array() { return Json(Type::array); }
  /// An empty object.
  static Json object() { return Json(Type::object); }

  /// The kind of value held.
  Type type() const { return type_; }
  /// Whether the value is null.
  bool is_null() const { return type_ == Type::null; }
  /// Whether the value is a number.
  bool is_number() const { return type_ == Type::number; }
  /// Whether the value is a string.
  bool is_string() const { return type_ == Type::string; }
  /// Whether the value is an array.
  bool is_array() const { return type_ == Type::array; }
  /// Whether the value is an object.
  bool is_object() const { return type_ == Type::object; }

  /// Typed access; ConfigError when the value is of another type.
  bool boolean() const { return expect(Type::boolean, "a boolean").bool_; }
  /// The number; ConfigError when the value is not one.
  double number() const { return expect(Type::number, "a number").number_; }
  /// The string; ConfigError when the value is not one.
  const std::string& string() const { return expect(Type::string, "a string").string_; }
  /// The array's elements; ConfigError when the value is not an array.
  const std::vector<Json>& items() const { return expect(Type::array, "an array").items_; }

  /// Appends v to an array (ConfigError otherwise); returns *this.
  Json& push(Json v) {
    expect(Type::array, "an array");
    items_.push_back(std::move(v));
    return *this;
  }

  /// Object members, in insertion order. set() replaces an existing key.
  const std::vector<std::string>& keys() const { return expect(Type::object, "an object").keys_; }
  /// Sets member key of an object to v (ConfigError when not an object); returns *this.
  Json& set(const std::string& key, Json v) {
    expect(Type::object, "an object");
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == key) {
        items_[i] = std::move(v);
        return *this;
      }
    keys_.push_back(key);
    items_.push_back(std::move(v));
    return *this;
  }
  /// nullptr when there is no such member.
  const Json* find(const std::string& key) const {
    expect(Type::object, "an object");
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == key) return &items_[i];
    return nullptr;
  }
  /// Member key; ConfigError when there is none.
  const Json& at(const std::string& key) const {
    const Json* v = find(key);
    SHALLOW_CHECK(v != nullptr, ConfigError, "JSON object has no member \"" + key + "\"");
    return *v;
  }

  /// One line, no spaces but after ':' and ','.
  std::string dump() const {
    std::string out;
    write(out);
    return out;
  }

  /// The value text holds; FormatError naming source, line and column when it is malformed.
  static Json parse(const std::string& text, const std::string& source) {
    Reader r{text, source};
    r.skip();
    Json v = r.value(0);
    r.skip();
    if (r.i < text.size()) r.fail("unexpected text after the value");
    return v;
  }

 private:
  explicit Json(Type t) : type_(t) {}

  const Json& expect(Type t, const char* what) const {
    SHALLOW_CHECK(type_ == t, ConfigError, std::string("JSON value is not ") + what);
    return *this;
  }

  static void write_string(std::string& out, const std::string& s) {
    out += '"';
    for (const char c : s) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            static const char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[(c >> 4) & 0xf];
            out += hex[c & 0xf];
          } else {
            out += c;
          }
      }
    }
    out += '"';
  }

  void write(std::string& out) const {
    switch (type_) {
      case Type::null: out += "null"; break;
      case Type::boolean: out += bool_ ? "true" : "false"; break;
      case Type::number: out += std::isfinite(number_) ? format_number(number_) : "null"; break;
      case Type::string: write_string(out, string_); break;
      case Type::array:
        out += '[';
        for (std::size_t i = 0; i < items_.size(); ++i) {
          if (i) out += ", ";
          items_[i].write(out);
        }
        out += ']';
        break;
      case Type::object:
        out += '{';
        for (std::size_t i = 0; i < keys_.size(); ++i) {
          if (i) out += ", ";
          write_string(out, keys_[i]);
          out += ": ";
          items_[i].write(out);
        }
        out += '}';
        break;
    }
  }

  struct Reader {
    const std::string& s;
    const std::string& source;
    std::size_t i = 0;

    [[noreturn]] void fail(const std::string& what) const {
      long line = 1, col = 1;
      for (std::size_t k = 0; k < i && k < s.size(); ++k) {
        col = s[k] == '\n' ? 1 : col + 1;
        line += s[k] == '\n';
      }
      throw FormatError(source, "line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what);
    }
    void skip() {
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    }
    char peek() const { return i < s.size() ? s[i] : '\0'; }
    void expect(char c) {
      skip();
      if (peek() != c) fail(std::string("expected '") + c + "'" + (i < s.size() ? "" : " before the end"));
      ++i;
    }
    bool literal(const char* word) {
      const std::string w(word);
      if (s.compare(i, w.size(), w) != 0) return false;
      i += w.size();
      return true;
    }
    // After an element: a comma (possibly trailing) or the closing bracket.
    void separator(char close) {
      skip();
      if (peek() == ',')
        ++i;
      else if (peek() != close)
        fail(std::string("expected ',' or '") + close + "'");
    }

    unsigned hex4() {
      if (i + 4 > s.size()) fail("truncated \\u escape");
      unsigned v = 0;
      for (int k = 0; k < 4; ++k, ++i) {
        const char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= unsigned(c - '0');
        else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
        else fail("bad \\u escape");
      }
      return v;
    }
    static void utf8(std::string& out, std::uint32_t cp) {
      if (cp < 0x80) {
        out += char(cp);
      } else if (cp < 0x800) {
        out += char(0xc0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3f));
      } else if (cp < 0x10000) {
        out += char(0xe0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
      } else {
        out += char(0xf0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3f));
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
      }
    }
    std::string string() {
      expect('"');
      std::string v;
      for (;;) {
        if (i >= s.size()) fail("unterminated string");
        const char c = s[i++];
        if (c == '"') return v;
        if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
        if (c != '\\') {
          v += c;
          continue;
        }
        if (i >= s.size()) fail("unterminated string");
        switch (s[i++]) {
          case '"': v += '"'; break;
          case '\\': v += '\\'; break;
          case '/': v += '/'; break;
          case 'b': v += '\b'; break;
          case 'f': v += '\f'; break;
          case 'n': v += '\n'; break;
          case 'r': v += '\r'; break;
          case 't': v += '\t'; break;
          case 'u': {
            std::uint32_t cp = hex4();
            if (cp >= 0xd800 && cp < 0xdc00) {
              if (!(literal("\\u"))) fail("unpaired surrogate in a \\u escape");
              const unsigned low = hex4();
              if (low < 0xdc00 || low >= 0xe000) fail("unpaired surrogate in a \\u escape");
              cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
              fail("unpaired surrogate in a \\u escape");
            }
            utf8(v, cp);
            break;
          }
          default: --i; fail("unknown escape in a string");
        }
      }
    }
    Json number() {
      const std::size_t begin = i;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '+' ||
                              s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
        ++i;
      double v = 0;
      // from_chars takes no leading '+', as JSON does not.
      if (!parse_number(s.substr(begin, i - begin), v)) {
        i = begin;
        fail("expected a value");
      }
      return Json(v);
    }
    Json value(int depth) {
      if (depth >= max_depth) fail("nested deeper than " + std::to_string(max_depth) + " levels");
      skip();
      const char c = peek();
      if (c == '{') {
        ++i;
        Json o = Json::object();
        while (skip(), peek() != '}') {
          if (i >= s.size()) fail("unterminated object");
          std::string key = string();
          if (o.find(key)) fail("key \"" + key + "\" appears twice");
          expect(':');
          o.set(key, value(depth + 1));
          separator('}');
        }
        ++i;
        return o;
      }
      if (c == '[') {
        ++i;
        Json a = Json::array();
        while (skip(), peek() != ']') {
          if (i >= s.size()) fail("unterminated array");
          a.push(value(depth + 1));
          separator(']');
        }
        ++i;
        return a;
      }
      if (c == '"') return Json(string());
      if (literal("null")) return Json();
      if (literal("true")) return Json(true);
      if (literal("false")) return Json(false);
      return number();
    }
  };

  Type type_ = Type::null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> items_;        // array elements, or object values
  std::vector<std::string> keys_;  // object keys, parallel to items_
};

}  // namespace shallow
