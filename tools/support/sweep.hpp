// What shallow-sweep is made of, apart from training: the grid (axes from
// flags, a JSON file or a built-in figure of the paper, expanded in a fixed
// order), its shards, and the CSV of finished runs (one row per run, keyed
// by every column that determines the run, so a re-run skips what is done
// and shards merge without duplicates).
#pragma once

#include <shallow/shallow.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace sweep {

using shallow::Error;
using shallow::FormatError;

// The axes of a grid, in the order their product is enumerated (the last
// varies fastest), with their values when a grid leaves them out.
struct AxisDefault {
  const char* name;
  const char* values;
};
inline const AxisDefault axes_defaults[] = {
    {"datasets", "mnist"}, {"layouts", "sequential,parallel"}, {"kernels", "3"}, {"layers", "8"},
    {"filters", "16"},     {"optimizers", "adam"},             {"lrs", "0.001"}, {"epochs", "1"},
    {"seeds", "1"},
};

// Values per axis name, as text; one product of them. A grid is the union
// of its products.
using Axes = std::map<std::string, std::vector<std::string>>;
using Grid = std::vector<Axes>;

// One training run. train_limit and val_limit are the same for a whole
// sweep but part of a run's identity: a run on 2,000 images is not one on
// 60,000.
struct Config {
  std::string dataset, layout, optimizer;
  long layers = 0, filters = 0, kernel = 0, epochs = 0, seed = 0, train_limit = 0, val_limit = 0;
  double lr = 0;
};

struct Result {
  long params = 0;
  double q = 0, train_loss = 0, val_loss = 0, train_acc = 0, val_acc = 0, seconds = 0, images_per_s = 0;
};

// A row of the CSV, in order.
inline const std::vector<std::string> columns = {
    "dataset", "layout", "layers", "filters", "kernel", "optimizer", "lr", "train_limit", "val_limit", "params",
    "Q", "train_loss", "val_loss", "train_acc", "val_acc", "epochs", "seconds", "images_per_s", "seed", "version"};
// The columns that identify a run: equal keys, same experiment.
inline const std::vector<std::string> key_columns = {"dataset", "layout", "layers", "filters",
                                                     "kernel",  "optimizer", "lr", "epochs",
                                                     "seed",    "train_limit", "val_limit"};

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string::size_type begin = 0;
  for (;;) {
    const auto end = s.find(sep, begin);
    parts.push_back(s.substr(begin, end - begin));
    if (end == std::string::npos) return parts;
    begin = end + 1;
  }
}

inline std::string join(const std::vector<std::string>& parts, char sep) {
  std::string s;
  for (std::size_t i = 0; i < parts.size(); ++i) s += (i ? std::string(1, sep) : "") + parts[i];
  return s;
}

inline bool is_axis(const std::string& name) {
  for (const auto& a : axes_defaults)
    if (name == a.name) return true;
  return false;
}

// The paper's figures (Bermeitinger et al. 2023): Figure 3 varies the
// layers at 1 filter, Figure 4 the filters at 16 layers, Figure 5 both with
// layers x filters = 32; each for kernels 3 and 5, both layouts, MNIST and
// CIFAR-10. "all" is their union (shared configurations run once).
inline Grid builtin_grid(const std::string& name) {
  const auto figure = [](std::vector<std::string> layers, std::vector<std::string> filters) {
    return Axes{{"datasets", {"mnist", "cifar10"}},
                {"layouts", {"sequential", "parallel"}},
                {"kernels", {"3", "5"}},
                {"layers", std::move(layers)},
                {"filters", std::move(filters)}};
  };
  const std::vector<std::string> powers = {"1", "2", "4", "8", "16", "32"};
  Grid fig3 = {figure(powers, {"1"})}, fig4 = {figure({"16"}, powers)}, fig5;
  for (std::size_t i = 0; i < powers.size(); ++i) fig5.push_back(figure({powers[i]}, {powers[powers.size() - 1 - i]}));
  if (name == "fig3") return fig3;
  if (name == "fig4") return fig4;
  if (name == "fig5") return fig5;
  if (name == "all") {
    Grid all = fig3;
    all.insert(all.end(), fig4.begin(), fig4.end());
    all.insert(all.end(), fig5.begin(), fig5.end());
    return all;
  }
  throw Error("unknown built-in grid '" + name + "' (fig3, fig4, fig5, all)");
}

// Reads a grid file: a JSON object mapping axis names to arrays (or single
// values) of strings or numbers, or an array of such objects (a union of
// products). Whitespace and trailing commas are tolerated; anything else
// is a FormatError giving the line and column.
class GridFileParser {
 public:
  GridFileParser(std::string text, std::string source) : s_(std::move(text)), source_(std::move(source)) {}

  Grid parse() {
    Grid grid;
    skip();
    if (peek() == '[') {
      ++i_;
      while (skip(), peek() != ']') {
        grid.push_back(object());
        separator(']');
      }
      ++i_;
      if (grid.empty()) fail("the array of grids is empty");
    } else {
      grid.push_back(object());
    }
    skip();
    if (i_ < s_.size()) fail("unexpected text after the grid");
    return grid;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    long line = 1, col = 1;
    for (std::size_t k = 0; k < i_ && k < s_.size(); ++k) {
      col = s_[k] == '\n' ? 1 : col + 1;
      line += s_[k] == '\n';
    }
    throw FormatError(source_, "line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what);
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void expect(char c) {
    skip();
    if (peek() != c) fail(std::string("expected '") + c + "'" + (i_ < s_.size() ? "" : " before the end"));
    ++i_;
  }
  // After an element: a comma (possibly trailing) or the closing bracket.
  void separator(char close) {
    skip();
    if (peek() == ',') {
      ++i_;
    } else if (peek() != close) {
      fail(std::string("expected ',' or '") + close + "'");
    }
  }
  std::string string() {
    expect('"');
    std::string v;
    while (i_ < s_.size() && s_[i_] != '"') {
      if (s_[i_] == '\\') ++i_;
      if (i_ < s_.size()) v += s_[i_++];
    }
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return v;
  }
  std::string scalar() {
    skip();
    if (peek() == '"') return string();
    const std::size_t begin = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == '-' ||
                              s_[i_] == '+'))
      ++i_;
    if (i_ == begin) fail("expected a string, a number or an array");
    return s_.substr(begin, i_ - begin);
  }
  Axes object() {
    Axes axes;
    expect('{');
    while (skip(), peek() != '}') {
      const std::size_t at = i_;
      const std::string name = string();
      if (!is_axis(name)) {
        i_ = at;
        fail("unknown key \"" + name + "\" (datasets, layouts, layers, filters, kernels, optimizers, lrs, epochs, "
             "seeds)");
      }
      if (axes.count(name)) fail("key \"" + name + "\" appears twice");
      expect(':');
      skip();
      auto& values = axes[name];
      if (peek() == '[') {
        ++i_;
        while (skip(), peek() != ']') {
          values.push_back(scalar());
          separator(']');
        }
        ++i_;
        if (values.empty()) fail("\"" + name + "\" has no values");
      } else {
        values.push_back(scalar());
      }
      separator('}');
    }
    ++i_;
    return axes;
  }

  std::string s_, source_;
  std::size_t i_ = 0;
};

inline Grid parse_grid_file(const std::string& text, const std::string& source) {
  return GridFileParser(text, source).parse();
}

// The text of each key column of a configuration, in key_columns order.
inline std::vector<std::string> key(const Config& c) {
  return {c.dataset,
          c.layout,
          std::to_string(c.layers),
          std::to_string(c.filters),
          std::to_string(c.kernel),
          c.optimizer,
          shallow::format_number(c.lr),
          std::to_string(c.epochs),
          std::to_string(c.seed),
          std::to_string(c.train_limit),
          std::to_string(c.val_limit)};
}

namespace detail {

inline long whole(const std::string& axis, const std::string& v, long min) {
  long n = 0;
  const auto res = std::from_chars(v.data(), v.data() + v.size(), n);
  if (res.ec != std::errc() || res.ptr != v.data() + v.size() || n < min)
    throw Error(axis + ": '" + v + "' is not a whole number >= " + std::to_string(min));
  return n;
}

inline std::string one_of(const std::string& axis, const std::string& v, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed)
    if (v == a) return v;
  throw Error(axis + ": unknown value '" + v + "' (" + join(allowed, ',') + ")");
}

}  // namespace detail

// Every configuration of the grid, each once (the first time it occurs), in
// a fixed order: products in grid order, each enumerated over axes_defaults
// with the last axis fastest. Values are checked and written canonically
// ("deep" -> "sequential", "1e-3" -> "0.001"), so keys compare exactly.
// Error naming the axis for a bad value.
inline std::vector<Config> expand(const Grid& grid, long train_limit, long val_limit) {
  std::vector<Config> out;
  std::set<std::vector<std::string>> seen;
  for (Axes axes : grid) {
    std::vector<std::vector<std::string>> values;
    for (const auto& a : axes_defaults) {
      auto& v = axes[a.name];
      if (v.empty()) v = split(a.values, ',');
      values.push_back(v);
    }
    std::vector<std::size_t> at(values.size(), 0);
    for (bool more = true; more;) {
      // Axis numbers as in axes_defaults.
      const auto value = [&](std::size_t axis) { return values[axis][at[axis]]; };
      Config c;
      c.dataset = detail::one_of("datasets", value(0), {"mnist", "fashion-mnist", "cifar10"});
      try {
        c.layout = shallow::to_string(shallow::parse_layout(value(1)));
      } catch (const Error& e) {
        throw Error(std::string("layouts: ") + e.what());
      }
      c.kernel = detail::whole("kernels", value(2), 1);
      c.layers = detail::whole("layers", value(3), 1);
      c.filters = detail::whole("filters", value(4), 1);
      c.optimizer = detail::one_of("optimizers", value(5), {"sgd", "adam", "adamw"});
      const std::string lr = value(6);  // strtod's end pointer points into it
      char* end = nullptr;
      c.lr = std::strtod(lr.c_str(), &end);
      if (lr.empty() || *end != '\0' || !std::isfinite(c.lr) || c.lr <= 0)
        throw Error("lrs: '" + lr + "' is not a positive number");
      c.epochs = detail::whole("epochs", value(7), 1);
      c.seed = detail::whole("seeds", value(8), 0);
      c.train_limit = train_limit;
      c.val_limit = val_limit;
      if (seen.insert(key(c)).second) out.push_back(c);
      // Odometer step: the last axis turns fastest.
      more = false;
      for (std::size_t k = values.size(); k-- > 0;) {
        if (++at[k] < values[k].size()) {
          more = true;
          break;
        }
        at[k] = 0;
      }
    }
  }
  return out;
}

inline std::string describe(const Config& c) {
  return c.dataset + " " + c.layout + " layers=" + std::to_string(c.layers) + " filters=" + std::to_string(c.filters) +
         " kernel=" + std::to_string(c.kernel) + " " + c.optimizer + " lr=" + shallow::format_number(c.lr) +
         " epochs=" + std::to_string(c.epochs) + " seed=" + std::to_string(c.seed);
}

// "i/n" with 0 <= i < n.
inline std::pair<long, long> parse_shard(const std::string& s) {
  const auto parts = split(s, '/');
  try {
    if (parts.size() == 2) {
      const long i = detail::whole("shard", parts[0], 0), n = detail::whole("shard", parts[1], 1);
      if (i < n) return {i, n};
    }
  } catch (const Error&) {
  }
  throw Error("--shard must be i/n with 0 <= i < n, got '" + s + "'");
}

// Configuration k belongs to shard k % n: deterministic, disjoint, and the
// expensive configurations, which sit together in the grid, are dealt out
// evenly.
inline std::vector<Config> shard(const std::vector<Config>& all, long i, long n) {
  std::vector<Config> mine;
  for (std::size_t k = static_cast<std::size_t>(i); k < all.size(); k += static_cast<std::size_t>(n))
    mine.push_back(all[k]);
  return mine;
}

inline std::string csv_row(const Config& c, const Result& r) {
  const auto num = [](double v) { return std::isfinite(v) ? shallow::format_number(v) : std::string("nan"); };
  return join({c.dataset, c.layout, std::to_string(c.layers), std::to_string(c.filters), std::to_string(c.kernel),
               c.optimizer, shallow::format_number(c.lr), std::to_string(c.train_limit), std::to_string(c.val_limit),
               std::to_string(r.params), num(r.q), num(r.train_loss), num(r.val_loss), num(r.train_acc),
               num(r.val_acc), std::to_string(c.epochs), num(r.seconds), num(r.images_per_s), std::to_string(c.seed),
               shallow::version},
              ',');
}

// The key of a CSV row (fields in `columns` order), as key(config) gives it.
inline std::vector<std::string> row_key(const std::vector<std::string>& row) {
  std::vector<std::string> k;
  for (const auto& name : key_columns)
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == name) k.push_back(row[i]);
  return k;
}

// The rows of a sweep CSV, split into fields.
struct Table {
  std::vector<std::vector<std::string>> rows;

  std::set<std::vector<std::string>> keys() const {
    std::set<std::vector<std::string>> ks;
    for (const auto& r : rows) ks.insert(row_key(r));
    return ks;
  }
  std::string text() const {
    std::string s = join(columns, ',') + "\n";
    for (const auto& r : rows) s += join(r, ',') + "\n";
    return s;
  }
};

// FormatError (naming `source` and the line) unless the text is this
// version's header followed by rows of as many fields. Empty text is an
// empty table.
inline Table parse_csv(const std::string& text, const std::string& source) {
  Table t;
  if (text.empty()) return t;
  auto lines = split(text, '\n');
  if (lines.back().empty()) lines.pop_back();
  if (lines.front() != join(columns, ','))
    throw FormatError(source, "its header '" + lines.front().substr(0, 200) + "' is not shallow-sweep's '" +
                                  join(columns, ',') + "'");
  for (std::size_t n = 1; n < lines.size(); ++n) {
    auto fields = split(lines[n], ',');
    if (fields.size() != columns.size())
      throw FormatError(source, "line " + std::to_string(n + 1) + " has " + std::to_string(fields.size()) +
                                    " fields, not " + std::to_string(columns.size()));
    t.rows.push_back(std::move(fields));
  }
  return t;
}

// A missing file is an empty table.
inline Table read_csv(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  const shallow::Bytes bytes = shallow::read_file(path);
  return parse_csv(std::string(bytes.begin(), bytes.end()), path);
}

// Adds a row by rewriting the whole file atomically: a kill leaves the file
// with or without the row, never half of it.
inline void append_row(const std::string& path, const std::string& row) {
  Table t = read_csv(path);
  t.rows.push_back(split(row, ','));
  shallow::write_file_atomically(path, t.text());
}

// The rows of all tables, the first row of each key only.
inline Table merge(const std::vector<Table>& tables, std::size_t* duplicates = nullptr) {
  Table out;
  std::set<std::vector<std::string>> seen;
  for (const auto& t : tables)
    for (const auto& r : t.rows) {
      if (seen.insert(row_key(r)).second) {
        out.rows.push_back(r);
      } else if (duplicates) {
        ++*duplicates;
      }
    }
  return out;
}

}  // namespace sweep
