// What a sweep writes: one CSV row per finished run, keyed by every column
// that determines the run (so a re-run skips what is done and shards merge
// without duplicates), and one JSON line per epoch of each finished run in a
// file beside it (<out>.epochs.jsonl). Both are rewritten atomically; a row
// and its epochs are written together, epochs first, so a kill between the
// two leaves epochs whose row is missing, which the re-run replaces.
#pragma once

#include <shallow/shallow.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sweep_grid.hpp"

namespace shallow::tools::sweep {

// What one run measured.
struct Result {
  long params = 0;
  double q = 0;                                   // training values (images x classes) / parameters
  double train_loss = 0, train_acc = 0;           // running means over the last epoch's batches
  double val_loss = 0, val_acc = 0;               // after the last epoch
  double train_eval_loss = 0, train_eval_acc = 0; // the whole training subset, in eval mode, at the end
  double test_loss = std::nan(""), test_acc = std::nan("");  // with a holdout: the test split
  double seconds = 0, images_per_s = 0;           // of training, validation excluded
  std::vector<EpochMetrics> epochs;
};

// The run settings that follow the axes in a row and in its key.
inline const char* const setting_columns[] = {"train_limit", "val_limit", "threads", "version"};
inline const char* const result_columns[] = {"params",          "Q",          "train_loss",   "val_loss",
                                             "train_acc",       "val_acc",    "train_eval_loss",
                                             "train_eval_acc",  "test_loss",  "test_acc",     "seconds",
                                             "images_per_s"};
inline constexpr std::size_t key_size = axis_count + 4;

inline std::vector<std::string> columns() {
  std::vector<std::string> c;
  for (const auto& a : axes) c.push_back(a.column);
  for (const char* s : setting_columns) c.push_back(s);
  for (const char* r : result_columns) c.push_back(r);
  return c;
}

inline std::string number_text(double v) { return std::isfinite(v) ? format_number(v) : "nan"; }

inline std::vector<std::string> row(const Config& c, const Result& r) {
  std::vector<std::string> fields = key(c);
  for (double v : {double(r.params), r.q, r.train_loss, r.val_loss, r.train_acc, r.val_acc, r.train_eval_loss,
                   r.train_eval_acc, r.test_loss, r.test_acc, r.seconds, r.images_per_s})
    fields.push_back(number_text(v));
  return fields;
}

// The configuration a row's key fields describe, canonical; ConfigError
// for a field that is not a valid value.
inline Config row_config(const std::vector<std::string>& fields) {
  Config c;
  for (std::size_t a = 0; a < axis_count; ++a) c.values[a] = canonical(axes[a], fields[a]);
  const auto whole = [&](std::size_t i) {
    long v = -1;
    if (!parse_number(fields[i], v) || v < 0)
      throw ConfigError(std::string(setting_columns[i - axis_count]) + ": '" + fields[i] + "' is not a count");
    return v;
  };
  c.train_limit = whole(axis_count);
  c.val_limit = whole(axis_count + 1);
  c.threads = whole(axis_count + 2);
  c.version = fields[axis_count + 3];
  if (c.version.empty()) throw ConfigError("version: empty");
  return c;
}

// The rows of a sweep CSV, split into fields, with their keys made canonical.
struct Table {
  std::vector<std::vector<std::string>> rows;

  std::set<std::vector<std::string>> keys() const {
    std::set<std::vector<std::string>> ks;
    for (const auto& r : rows) ks.insert(std::vector<std::string>(r.begin(), r.begin() + key_size));
    return ks;
  }
  std::string text() const {
    std::string s = join(columns(), ',') + "\n";
    for (const auto& r : rows) s += join(r, ',') + "\n";
    return s;
  }
};

// FormatError (naming `source` and the line) unless the text is this
// version's header followed by valid rows: as many fields, a valid key and
// numbers (or nan) for the results. Empty text is an empty table.
inline Table parse_csv(const std::string& text, const std::string& source) {
  Table t;
  if (text.empty()) return t;
  auto lines = split(text, '\n');
  if (lines.back().empty()) lines.pop_back();
  const std::string header = join(columns(), ',');
  if (lines.front() != header) {
    std::string shown = lines.front().substr(0, 120);
    for (char& ch : shown)
      if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = '?';
    throw FormatError(source, "its header '" + shown + "' is not shallow-sweep's '" + header + "'");
  }
  const std::size_t width = columns().size();
  for (std::size_t n = 1; n < lines.size(); ++n) {
    const std::string where = "line " + std::to_string(n + 1);
    auto fields = split(lines[n], ',');
    if (fields.size() != width)
      throw FormatError(source, where + " has " + std::to_string(fields.size()) + " fields, not " +
                                    std::to_string(width));
    try {
      const std::vector<std::string> k = key(row_config(fields));
      std::copy(k.begin(), k.end(), fields.begin());
    } catch (const ConfigError& e) {
      throw FormatError(source, where + ": " + e.what());
    }
    for (std::size_t i = key_size; i < width; ++i) {
      double v = 0;
      if (fields[i] != "nan" && !parse_number(fields[i], v))
        throw FormatError(source, where + ": " + columns()[i] + " '" + fields[i].substr(0, 40) + "' is not a number");
    }
    t.rows.push_back(std::move(fields));
  }
  return t;
}

inline std::string read_text(const std::string& path) {
  const Bytes bytes = read_file(path);
  return std::string(bytes.begin(), bytes.end());
}

// A missing file is an empty table.
inline Table read_csv(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return {};
  return parse_csv(read_text(path), path);
}

inline std::string epochs_path(const std::string& csv) { return csv + ".epochs.jsonl"; }

// The epoch records of one run, a JSON object a line: "run", an object of
// the run's key columns, then the epoch's metrics.
inline std::string epoch_lines(const Config& c, const std::vector<EpochMetrics>& epochs) {
  const std::vector<std::string> k = key(c), cols = columns();
  std::string lines;
  Json run = Json::object();
  for (std::size_t i = 0; i < key_size; ++i) run.set(cols[i], k[i]);
  for (const auto& m : epochs) {
    Json o = Json::object();
    o.set("run", run);
    const Json metrics = Json::parse(to_json(m), "epoch metrics");
    for (const auto& name : metrics.keys()) o.set(name, metrics.at(name));
    lines += o.dump() + "\n";
  }
  return lines;
}

// The key of an epoch record, canonical; FormatError naming the file.
inline std::vector<std::string> epoch_key(const Json& o, const std::string& source) {
  const std::vector<std::string> cols = columns();
  std::vector<std::string> fields;
  try {
    const Json& run = o.at("run");
    for (std::size_t i = 0; i < key_size; ++i) fields.push_back(run.at(cols[i]).string());
    return key(row_config(fields));
  } catch (const ConfigError& e) {
    throw FormatError(source, std::string("an epoch record's key is unusable: ") + e.what());
  }
}

// Epoch records by run key, in file order; a missing file holds none.
inline std::map<std::vector<std::string>, std::vector<std::string>> read_epochs(const std::string& path) {
  std::map<std::vector<std::string>, std::vector<std::string>> runs;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return runs;
  const auto lines = split(read_text(path), '\n');
  for (std::size_t n = 0; n < lines.size(); ++n) {
    if (lines[n].empty()) continue;
    const std::string where = path + " (line " + std::to_string(n + 1) + ")";
    const Json o = Json::parse(lines[n], where);
    if (!o.is_object()) throw FormatError(where, "not an epoch record");
    runs[epoch_key(o, where)].push_back(lines[n]);
  }
  return runs;
}

inline void write_epochs(const std::string& path,
                         const std::map<std::vector<std::string>, std::vector<std::string>>& runs) {
  std::string text;
  for (const auto& [k, lines] : runs)
    for (const auto& line : lines) text += line + "\n";
  write_file_atomically(path, text);
}

// Adds a finished run: its epochs (replacing any of an earlier, killed
// attempt), then its row. The caller holds the output's lock.
inline void append_run(const std::string& path, const Config& c, const Result& r) {
  auto runs = read_epochs(epochs_path(path));
  auto& mine = runs[key(c)];
  mine.clear();
  for (const auto& line : split(epoch_lines(c, r.epochs), '\n'))
    if (!line.empty()) mine.push_back(line);
  write_epochs(epochs_path(path), runs);
  Table t = read_csv(path);
  t.rows.push_back(row(c, r));
  write_file_atomically(path, t.text());
}

// The rows of all tables, the first row of each key only.
inline Table merge(const std::vector<Table>& tables, std::size_t* duplicates = nullptr) {
  Table out;
  std::set<std::vector<std::string>> seen;
  for (const auto& t : tables)
    for (const auto& r : t.rows) {
      if (seen.insert(std::vector<std::string>(r.begin(), r.begin() + key_size)).second)
        out.rows.push_back(r);
      else if (duplicates)
        ++*duplicates;
    }
  return out;
}

}  // namespace shallow::tools::sweep
