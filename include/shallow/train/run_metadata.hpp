/// \file
/// What a checkpoint carries besides weights and optimizer state: how far
/// the run got, what the network expects as input, the class names, the
/// normalisation, the metrics so far, and the settings that fixed the run.
/// Written into and read from a Checkpoint's metadata map; reading checks
/// every value (a crafted file with a valid checksum is still hostile), so a
/// predictor or a resumed run can trust what it gets.
///
///   key          value
///   epoch        epochs finished, a whole number
///   layout       sequential | parallel (informational)
///   dataset      the dataset's name (informational)
///   input        CxHxW of one input image
///   class_names  one name a line
///   mean, std    one number per channel, separated by spaces
///   metrics      one EpochMetrics JSON line per finished epoch
///   settings     a JSON object of the settings a resumed run must keep
///                (absent in checkpoints of shallow 0.1)
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/format.hpp"
#include "../core/json.hpp"
#include "../core/tensor.hpp"
#include "../data/normalize.hpp"
#include "checkpoint.hpp"
#include "metrics.hpp"

namespace shallow {

/// The run's metadata entries of a checkpoint (the keys in this file's comment).
struct RunMetadata {
  /// Bounds on what a checkpoint may claim, so that a hostile one is refused
  /// before anything of that size is allocated.
  static constexpr Index max_channels = 4096;
  /// Largest image side accepted.
  static constexpr Index max_side = 8192;
  /// Most values of one input image accepted.
  static constexpr Index max_input_values = Index(1) << 26;
  /// Largest epoch number accepted.
  static constexpr int max_epoch = 1 << 24;
  /// Most class names accepted.
  static constexpr std::size_t max_classes = 1 << 16;

  /// Epochs finished.
  int epoch = 0;
  ///@{
  /// The layout and the dataset's name (informational).
  std::string layout, dataset;
  ///@}
  /// The shape of one input image.
  Shape input;
  /// One name per class.
  std::vector<std::string> class_names;
  /// The normalisation the network was trained with.
  Normalize normalize;
  /// The metrics of every finished epoch.
  std::vector<EpochMetrics> history;
  /// The settings a resumed run must keep.
  std::map<std::string, std::string> settings;

  /// Adds the entries above to ck.metadata. ConfigError for a class name
  /// that could not be read back (empty, or holding a line break).
  void write(Checkpoint& ck) const {
    auto& m = ck.metadata;
    m["epoch"] = std::to_string(epoch);
    m["layout"] = layout;
    m["dataset"] = dataset;
    m["input"] = to_string(input);
    std::string names;
    for (const auto& n : class_names) {
      SHALLOW_CHECK(valid_class_name(n), ConfigError,
                    "RunMetadata: class name '" + n + "' is empty or holds a control character");
      names += n + "\n";
    }
    m["class_names"] = names;
    m["mean"] = join(normalize.mean());
    m["std"] = join(normalize.stddev());
    std::string lines;
    for (const auto& e : history) lines += to_json(e) + "\n";
    m["metrics"] = lines;
    Json s = Json::object();
    for (const auto& [key, value] : settings) s.set(key, value);
    m["settings"] = s.dump();
  }

  /// FormatError naming `path` and the entry for anything missing or wrong.
  static RunMetadata read(const Checkpoint& ck, const std::string& path) {
    RunMetadata r;
    const auto entry = [&](const std::string& key) -> const std::string& {
      const auto it = ck.metadata.find(key);
      if (it == ck.metadata.end())
        throw FormatError(path, "has no '" + key + "' metadata: not a checkpoint written by shallow-train");
      return it->second;
    };
    const auto bad = [&](const std::string& key, const std::string& what) {
      return FormatError(path, "metadata '" + key + "' " + what);
    };

    long long epoch = -1;
    if (!parse_number(entry("epoch"), epoch) || epoch < 0 || epoch > max_epoch)
      throw bad("epoch", "is not an epoch number between 0 and " + std::to_string(max_epoch) + ": '" +
                             entry("epoch").substr(0, 40) + "'");
    r.epoch = int(epoch);
    r.layout = entry("layout");
    r.dataset = entry("dataset");
    r.input = parse_input(entry("input"), path);

    std::istringstream names(entry("class_names"));
    for (std::string line; std::getline(names, line);) {
      if (!valid_class_name(line)) throw bad("class_names", "holds an empty or unprintable class name");
      if (r.class_names.size() >= max_classes) throw bad("class_names", "holds more than 65536 classes");
      r.class_names.push_back(line);
    }
    if (r.class_names.size() < 2) throw bad("class_names", "needs at least two classes");

    const auto numbers = [&](const std::string& key) {
      std::vector<double> v;
      std::istringstream in(entry(key));
      for (std::string word; in >> word;) {
        double x = 0;
        if (!parse_number(word, x)) throw bad(key, "holds '" + word.substr(0, 40) + "', not a number");
        if (Index(v.size()) >= r.input.c) throw bad(key, "holds more values than the input's channels");
        v.push_back(x);
      }
      if (Index(v.size()) != r.input.c)
        throw bad(key, "needs " + std::to_string(r.input.c) + " values, one per channel");
      return v;
    };
    try {
      r.normalize = Normalize(numbers("mean"), numbers("std"));
    } catch (const ConfigError& e) {
      throw bad("mean/std", std::string("is unusable: ") + e.what());
    }

    std::istringstream lines(entry("metrics"));
    for (std::string line; std::getline(lines, line);) r.history.push_back(metrics_from_json(line, path));
    if (r.history.size() != std::size_t(r.epoch) ||
        (!r.history.empty() && r.history.back().epoch != r.epoch))
      throw bad("metrics", "do not end at its epoch " + std::to_string(r.epoch));

    if (const auto it = ck.metadata.find("settings"); it != ck.metadata.end()) {
      const Json s = Json::parse(it->second, path + " (metadata 'settings')");
      if (!s.is_object()) throw bad("settings", "is not a JSON object");
      for (const auto& key : s.keys()) {
        const Json& v = s.at(key);
        if (!v.is_string()) throw bad("settings", "entry '" + key + "' is not a string");
        r.settings[key] = v.string();
      }
    }
    return r;
  }

 private:
  static bool valid_class_name(const std::string& name) {
    if (name.empty()) return false;
    for (const char c : name)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
  }

  static std::string join(const std::vector<double>& v) {
    std::string s;
    for (double x : v) s += (s.empty() ? "" : " ") + format_number(x);
    return s;
  }

  // "CxHxW", every size positive and within the bounds above.
  static Shape parse_input(const std::string& text, const std::string& path) {
    const auto bad = [&](const std::string& what) {
      return FormatError(path, "metadata 'input' " + what + ": '" + text.substr(0, 60) + "'");
    };
    std::vector<long long> dims;
    std::size_t begin = 0;
    for (;;) {
      const std::size_t x = text.find('x', begin);
      long long d = 0;
      if (!parse_number(text.substr(begin, x == std::string::npos ? std::string::npos : x - begin), d))
        throw bad("is not CxHxW");
      dims.push_back(d);
      if (x == std::string::npos) break;
      begin = x + 1;
    }
    if (dims.size() != 3) throw bad("is not CxHxW");
    if (dims[0] < 1 || dims[0] > max_channels) throw bad("has an impossible channel count");
    if (dims[1] < 1 || dims[1] > max_side || dims[2] < 1 || dims[2] > max_side)
      throw bad("has an impossible image size (at most " + std::to_string(max_side) + " pixels a side)");
    if (dims[0] * dims[1] * dims[2] > max_input_values)
      throw bad("needs more than " + std::to_string(max_input_values) + " values an image");
    return {Index(dims[0]), Index(dims[1]), Index(dims[2])};
  }
};

}  // namespace shallow
