/// \file
/// What one epoch of training measured, and its JSON line form (one object a
/// line, as in a --metrics file): written by to_json, read back by
/// metrics_from_json, both through core/json.hpp.
#pragma once

#include <cmath>
#include <fstream>
#include <string>

#include "../core/error.hpp"
#include "../core/json.hpp"

namespace shallow {

/// One epoch's results, written as one JSON line.
struct EpochMetrics {
  /// The epoch, from 1.
  int epoch = 0;
  /// The learning rate used.
  double lr = 0;
  ///@{
  /// Running means of loss and accuracy over the epoch's training batches.
  double train_loss = 0, train_acc = 0;   // running means over the epoch's batches
  ///@}
  ///@{
  /// Loss and accuracy on the validation set; NaN without one.
  double val_loss = std::nan(""), val_acc = std::nan("");  // NaN: no validation set
  ///@}
  /// Seconds of training, validation excluded.
  double seconds = 0;                     // of training, validation excluded
  /// Training images per second.
  double images_per_s = 0;                // training images / seconds
  /// Seconds of the validation pass.
  double val_seconds = 0;                 // of the validation pass
};

/// One JSON object; NaN (no validation set) is written as null.
inline std::string to_json(const EpochMetrics& m) {
  Json o = Json::object();
  o.set("epoch", m.epoch)
      .set("lr", m.lr)
      .set("train_loss", m.train_loss)
      .set("train_acc", m.train_acc)
      .set("val_loss", m.val_loss)
      .set("val_acc", m.val_acc)
      .set("seconds", m.seconds)
      .set("images_per_s", m.images_per_s)
      .set("val_seconds", m.val_seconds);
  return o.dump();
}

/// Reads back a line written by to_json; fields it lacks keep their defaults
/// (lines of older versions lack val_seconds). FormatError naming `source`
/// when the line is not such an object.
inline EpochMetrics metrics_from_json(const std::string& line, const std::string& source) {
  const Json o = Json::parse(line, source);
  if (!o.is_object()) throw FormatError(source, "not a metrics line: " + line.substr(0, 80));
  const auto field = [&](const char* name, double fallback) {
    const Json* v = o.find(name);
    if (!v) return fallback;
    if (v->is_null()) return std::nan("");
    if (!v->is_number()) throw FormatError(source, std::string("metrics field '") + name + "' is not a number");
    return v->number();
  };
  EpochMetrics m;
  const double epoch = field("epoch", 0);
  if (!(epoch >= 0 && epoch <= 1e9 && epoch == std::floor(epoch)))
    throw FormatError(source, "metrics field 'epoch' is not an epoch number: " + format_number(epoch));
  m.epoch = int(epoch);
  m.lr = field("lr", 0);
  m.train_loss = field("train_loss", 0);
  m.train_acc = field("train_acc", 0);
  m.val_loss = field("val_loss", std::nan(""));
  m.val_acc = field("val_acc", std::nan(""));
  m.seconds = field("seconds", 0);
  m.images_per_s = field("images_per_s", 0);
  m.val_seconds = field("val_seconds", 0);
  return m;
}

/// Appends one line to a file (created if missing).
inline void append_line(const std::string& path, const std::string& line) {
  std::ofstream out(path, std::ios::app);
  out << line << '\n';
  out.flush();
  if (!out) throw IoError(path, "cannot append a line");
}

}  // namespace shallow
