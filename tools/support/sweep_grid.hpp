// shallow-sweep's grid: the axes of a study, defined once in `axes` (the
// grid-file key and flag, the CSV column, the default, how a value is
// checked and written canonically), products of axis values read from flags,
// a JSON grid file or a built-in figure of the paper, and their expansion
// into run configurations in a fixed order.
#pragma once

#include <shallow/shallow.hpp>

#include <array>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace shallow::tools::sweep {

enum class AxisKind { name, layout, whole, positive, seed_count };

struct Axis {
  const char* key;       // in grid files and as a --flag (a comma list)
  const char* column;    // in the CSV and in a shallow-train flag
  const char* defaults;  // the values when a grid leaves the axis out
  AxisKind kind;
  const char* allowed;   // for names: the comma list of values
  long min = 0, max = 0; // for whole numbers
};

// In the order a product is enumerated (the last varies fastest). The ranges
// are shallow-train's, so a grid is refused before it runs, not at the run
// that crosses one.
inline const Axis axes[] = {
    {"datasets", "dataset", "mnist", AxisKind::name, "mnist,fashion-mnist,cifar10"},
    {"layouts", "layout", "sequential,parallel", AxisKind::layout, ""},
    {"kernels", "kernel", "3", AxisKind::whole, "", 1, 63},
    {"layers", "layers", "8", AxisKind::whole, "", 1, 4096},
    {"filters", "filters", "16", AxisKind::whole, "", 1, 4096},
    {"optimizers", "optimizer", "adam", AxisKind::name, "sgd,adam,adamw"},
    {"lrs", "lr", "0.001", AxisKind::positive, ""},
    {"epochs", "epochs", "1", AxisKind::whole, "", 1, 1 << 20},
    // As a flag a count K (seeds 1..K); in a grid file a list of seeds.
    {"seeds", "seed", "1", AxisKind::seed_count, "", 0, 1L << 40},
};
inline constexpr std::size_t axis_count = sizeof axes / sizeof axes[0];
enum AxisId : std::size_t { dataset, layout, kernel, layers, filters, optimizer, lr, epochs, seed };

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

// The canonical text of a value of axis a ("deep" -> "sequential",
// "1.00E-03" -> "0.001", "08" -> "8"), so equal settings compare equal as
// text. ConfigError naming the axis for a bad value.
inline std::string canonical(const Axis& a, const std::string& v) {
  const auto fail = [&](const std::string& what) { return ConfigError(std::string(a.key) + ": '" + v + "' " + what); };
  switch (a.kind) {
    case AxisKind::name:
      for (const auto& ok : split(a.allowed, ','))
        if (v == ok) return v;
      throw fail(std::string("is not one of ") + a.allowed);
    case AxisKind::layout:
      try {
        return to_string(parse_layout(v));
      } catch (const ConfigError&) {
        throw fail("is not a layout (sequential, parallel)");
      }
    case AxisKind::whole:
    case AxisKind::seed_count: {
      long n = 0;
      double d = 0;
      // Whole numbers may arrive as JSON numbers, e.g. "8" or "8.0" or "1e1".
      if (!parse_number(v, n)) {
        if (!parse_number(v, d) || d != std::floor(d) || std::abs(d) > 1e15) throw fail("is not a whole number");
        n = long(d);
      }
      if (n < a.min || n > a.max)
        throw fail("is out of range " + std::to_string(a.min) + ".." + std::to_string(a.max));
      return std::to_string(n);
    }
    case AxisKind::positive: {
      double d = 0;
      if (!parse_number(v, d) || !std::isfinite(d) || d <= 0) throw fail("is not a positive number");
      return format_number(d);
    }
  }
  throw fail("has an unknown kind");
}

// Values per axis key, as text; one product of them. A grid is the union of
// its products.
using Axes = std::map<std::string, std::vector<std::string>>;
using Grid = std::vector<Axes>;

inline const Axis* find_axis(const std::string& key) {
  for (const auto& a : axes)
    if (key == a.key) return &a;
  return nullptr;
}

inline std::string axis_keys() {
  std::vector<std::string> keys;
  for (const auto& a : axes) keys.push_back(a.key);
  return join(keys, ',');
}

// One training run: the canonical value of every axis, plus the settings
// that are the same for a whole sweep but part of a run's identity (a run
// on 2,000 images is not one on 60,000; one at 2 threads is not bitwise one
// at 1; one of another library version may differ).
struct Config {
  std::array<std::string, axis_count> values;
  long train_limit = 0, val_limit = 0, threads = 1;
  std::string version = shallow::version;

  const std::string& operator[](AxisId a) const { return values[a]; }
  long whole(AxisId a) const { return std::stol(values[a]); }
};

// The text that identifies a run: every axis and run setting.
inline std::vector<std::string> key(const Config& c) {
  std::vector<std::string> k(c.values.begin(), c.values.end());
  k.insert(k.end(), {std::to_string(c.train_limit), std::to_string(c.val_limit), std::to_string(c.threads), c.version});
  return k;
}

inline std::string describe(const Config& c) {
  std::string s;
  for (std::size_t a = 0; a < axis_count; ++a) s += (a ? " " : "") + std::string(axes[a].column) + "=" + c.values[a];
  return s;
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
  throw ConfigError("unknown built-in grid '" + name + "' (fig3, fig4, fig5, all)");
}

// A grid file: a JSON object mapping axis keys to arrays (or single values)
// of strings or numbers, or an array of such objects (a union of products).
// FormatError naming the file for anything else.
inline Grid parse_grid_file(const std::string& text, const std::string& source) {
  const Json doc = Json::parse(text, source);
  std::vector<const Json*> objects;
  if (doc.is_array()) {
    for (const Json& o : doc.items()) objects.push_back(&o);
    if (objects.empty()) throw FormatError(source, "the array of grids is empty");
  } else {
    objects.push_back(&doc);
  }
  Grid grid;
  for (const Json* o : objects) {
    if (!o->is_object()) throw FormatError(source, "a grid is an object of axes, e.g. {\"layers\": [1, 2]}");
    Axes axes;
    for (const auto& k : o->keys()) {
      if (!find_axis(k)) throw FormatError(source, "unknown key \"" + k + "\" (" + axis_keys() + ")");
      const Json& v = o->at(k);
      std::vector<const Json*> values;
      if (v.is_array())
        for (const Json& item : v.items()) values.push_back(&item);
      else
        values.push_back(&v);
      if (values.empty()) throw FormatError(source, "\"" + k + "\" has no values");
      for (const Json* item : values) {
        if (item->is_string())
          axes[k].push_back(item->string());
        else if (item->is_number())
          axes[k].push_back(format_number(item->number()));
        else
          throw FormatError(source, "\"" + k + "\" holds a value that is neither a string nor a number");
      }
    }
    grid.push_back(std::move(axes));
  }
  return grid;
}

// The values of an axis given as a flag: a comma list, or for seeds a count.
inline std::vector<std::string> flag_values(const Axis& a, const std::string& text) {
  if (a.kind != AxisKind::seed_count) return split(text, ',');
  long k = 0;
  if (!parse_number(text, k) || k < 1 || k > 1000) throw ConfigError("--seeds: '" + text + "' is not a count 1..1000");
  std::vector<std::string> seeds;
  for (long s = 1; s <= k; ++s) seeds.push_back(std::to_string(s));
  return seeds;
}

// Every configuration of the grid, each once (the first time it occurs), in
// a fixed order: products in grid order, each enumerated over `axes` with
// the last axis fastest. Every value is checked and canonical; ConfigError
// naming the axis for a bad one, before anything runs.
inline std::vector<Config> expand(const Grid& grid, const Config& base) {
  std::vector<Config> out;
  std::set<std::vector<std::string>> seen;
  for (const Axes& given : grid) {
    std::array<std::vector<std::string>, axis_count> values;
    for (std::size_t a = 0; a < axis_count; ++a) {
      const auto it = given.find(axes[a].key);
      const std::vector<std::string> raw = it != given.end() ? it->second : split(axes[a].defaults, ',');
      for (const auto& v : raw) values[a].push_back(canonical(axes[a], v));
    }
    std::array<std::size_t, axis_count> at{};
    for (bool more = true; more;) {
      Config c = base;
      for (std::size_t a = 0; a < axis_count; ++a) c.values[a] = values[a][at[a]];
      if (seen.insert(key(c)).second) out.push_back(c);
      // Odometer step: the last axis turns fastest.
      more = false;
      for (std::size_t a = axis_count; a-- > 0;) {
        if (++at[a] < values[a].size()) {
          more = true;
          break;
        }
        at[a] = 0;
      }
    }
  }
  return out;
}

}  // namespace shallow::tools::sweep
