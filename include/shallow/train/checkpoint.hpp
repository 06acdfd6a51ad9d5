/// \file
/// Checkpoints: a network's architecture, weights and buffers, optionally its
/// optimizer's state, and free-form metadata for the trainer, in one
/// versioned binary file that is replaced atomically and verified before it
/// is trusted.
///
/// File layout (every integer little-endian):
///
///   offset  size  field
///   0       12    magic "SHALLOWCKPT\0"
///   12      4     u32 format version (checkpoint_format_version)
///   16            sections in this order, each a 4-byte ASCII tag, a u64
///                 payload length and the payload:
///                   ARCH  str architecture (Network::spec(), a layer a line)
///                   PARM  u64 count, count x tensor      (parameters)
///                   BUFF  u64 count, count x tensor      (buffers)
///                   OPTM  str kind, i64 steps, u64 count, count x tensor
///                         (rank 1; present only with optimizer state)
///                   META  u64 count, count x (str key, str value)
///   end-4   4     u32 CRC-32 (zlib's crc32) of every byte before it
///
///   str    = u64 byte count, bytes (no terminator)
///   tensor = str name, u32 value bytes (4: float32, 8: float64), u32 rank,
///            rank x u64 dims, product(dims) values   (version 1: no value
///            bytes field; every value float32)
///
/// Loading checks magic, version and checksum before parsing, bounds every
/// count and length by the bytes that remain, and refuses NaN or infinite
/// values, so a corrupt or hostile file gives a FormatError rather than a
/// crash, a hang or a huge allocation. Values are stored in the network's
/// scalar type (float32 for float, float64 for double); a checkpoint of a
/// double network loads into a float one rounded to float, as a cast would.
/// Version 1 files (shallow 0.1) still load.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../data/files.hpp"
#include "../nn/layer.hpp"
#include "../nn/layer_factory.hpp"
#include "../nn/network.hpp"
#include "../optim/optimizer.hpp"

namespace shallow {

/// The file format version this code writes (and the newest it reads).
inline constexpr std::uint32_t checkpoint_format_version = 2;

/// One stored tensor: a parameter, a buffer or an optimizer state vector.
struct NamedTensor {
  /// The parameter's, buffer's or state vector's name.
  std::string name;
  /// Its logical shape.
  std::vector<Index> shape;
  /// Row-major; as many as the shape's product.
  std::vector<double> values;  // row-major; as many as the shape's product
  /// Bytes a value took in the file it came from: 4 or 8.
  std::uint32_t value_bytes = 4;  // in the file it came from
};

/// The contents of a checkpoint file (the layout in this file's comment).
struct Checkpoint {
  /// The network's spec(), compared on load.
  std::string architecture;              // Network::spec()
  /// The network's parameters, in parameters() order.
  std::vector<NamedTensor> parameters;   // in parameters() order
  /// The network's buffers, in buffers() order; shape {size}.
  std::vector<NamedTensor> buffers;      // in buffers() order; shape {size}
  /// Optimizers carry no name of their own, so the caller sets the kind
  /// ("adam") and checks it on resume; it is saved only with the state.
  std::string optimizer;
  /// The optimizer's state, if saved.
  std::optional<OptimizerState<double>> optimizer_state;
  /// Bytes a value takes in the file: 4 (float32) or 8 (float64), set by
  /// capture from the network's scalar type.
  std::uint32_t value_bytes = 4;
  /// Free-form key/value entries (RunMetadata writes its own here).
  std::map<std::string, std::string> metadata;
};

namespace detail {

// Keeps a parameter out of template argument deduction, so a call may pass
// nullptr or a derived optimizer for it.
template <class T>
struct identity {
  using type = T;
};
template <class T>
using non_deduced = typename identity<T>::type;

inline constexpr char checkpoint_magic[12] = "SHALLOWCKPT";  // 11 letters and the NUL
inline constexpr std::size_t checkpoint_header_size = 16;    // magic + version
inline constexpr std::size_t checkpoint_trailer_size = 4;    // CRC-32

static_assert(std::numeric_limits<float>::is_iec559 && sizeof(float) == 4, "checkpoints store IEEE float32");
static_assert(std::numeric_limits<double>::is_iec559 && sizeof(double) == 8, "checkpoints store IEEE float64");

inline std::uint32_t crc32_of(const unsigned char* data, std::size_t size) {
  uLong crc = crc32(0, nullptr, 0);
  while (size > 0) {  // zlib takes uInt lengths: feed large buffers in chunks
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(size, std::size_t{1} << 30));
    crc = crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

inline std::uint32_t read_le32(const unsigned char* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

inline std::string shape_text(const std::vector<Index>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// "" when every value is finite, else what is wrong with them.
inline std::string non_finite(const double* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(v[i])) return "holds NaN";
    if (std::isinf(v[i])) return "holds an infinity";
  }
  return "";
}

class CheckpointWriter {
 public:
  void u32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void raw(const char* p, std::size_t n) { bytes_.append(p, n); }
  void str(const std::string& s) {
    u64(s.size());
    bytes_ += s;
  }
  void tensor(const std::string& name, const std::vector<Index>& shape, const double* values, std::size_t n,
              std::uint32_t value_bytes) {
    str(name);
    u32(value_bytes);
    u32(static_cast<std::uint32_t>(shape.size()));
    for (Index d : shape) u64(static_cast<std::uint64_t>(d));
    for (std::size_t i = 0; i < n; ++i) {
      if (value_bytes == 8) {
        std::uint64_t bits;
        std::memcpy(&bits, values + i, sizeof bits);
        u64(bits);
      } else {
        const float f = static_cast<float>(values[i]);
        std::uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        u32(bits);
      }
    }
  }
  // A section's length is known once its payload is written: end_section
  // fills it in.
  void begin_section(const char (&tag)[5]) {
    raw(tag, 4);
    length_at_ = bytes_.size();
    u64(0);
  }
  void end_section() {
    const std::uint64_t length = bytes_.size() - length_at_ - 8;
    for (int i = 0; i < 8; ++i) bytes_[length_at_ + std::size_t(i)] = static_cast<char>((length >> (8 * i)) & 0xff);
  }
  std::string finish() {
    u32(crc32_of(reinterpret_cast<const unsigned char*>(bytes_.data()), bytes_.size()));
    return std::move(bytes_);
  }

 private:
  std::string bytes_;
  std::size_t length_at_ = 0;
};

// Reads [pos, end) of a verified file; every read is bounded by the bytes
// that remain, and every fault is a FormatError naming the file.
class CheckpointReader {
 public:
  CheckpointReader(const unsigned char* begin, const unsigned char* end, const std::string& path,
                   std::uint32_t version)
      : pos_(begin), end_(end), path_(path), version_(version) {}

  std::size_t remaining() const { return static_cast<std::size_t>(end_ - pos_); }
  [[noreturn]] void fail(const std::string& what) const { throw FormatError(path_, what); }

  const unsigned char* take(std::uint64_t n, const std::string& what) {
    if (n > remaining())
      fail(what + " needs " + std::to_string(n) + " bytes, only " + std::to_string(remaining()) + " are left");
    const unsigned char* p = pos_;
    pos_ += n;
    return p;
  }
  std::uint32_t u32(const std::string& what) { return read_le32(take(4, what)); }
  std::uint64_t u64(const std::string& what) {
    const unsigned char* p = take(8, what);
    return std::uint64_t(read_le32(p)) | std::uint64_t(read_le32(p + 4)) << 32;
  }
  std::string str(const std::string& what) {
    const std::uint64_t n = u64(what + " length");
    const unsigned char* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
  }
  // A count of items of at least min_bytes each, so it cannot exceed what
  // the remaining bytes could hold.
  std::size_t count(const std::string& what, std::size_t min_bytes) {
    const std::uint64_t n = u64(what);
    if (n > remaining() / min_bytes)
      fail(what + " " + std::to_string(n) + " is more than the " + std::to_string(remaining()) +
           " remaining bytes can hold");
    return static_cast<std::size_t>(n);
  }

  // kind: "parameter", "buffer", "optimizer tensor"; named in errors.
  NamedTensor tensor(const std::string& kind) {
    NamedTensor t;
    t.name = str(kind + " name");
    const std::string what = kind + " '" + t.name + "'";
    const std::uint32_t bytes = version_ == 1 ? 4 : u32(what + " value size");
    if (bytes != 4 && bytes != 8) fail(what + ": values of " + std::to_string(bytes) + " bytes (need 4 or 8)");
    t.value_bytes = bytes;
    const std::uint32_t rank = u32(what + " rank");
    if (rank > remaining() / 8) fail(what + ": rank " + std::to_string(rank) + " exceeds the file");
    for (std::uint32_t i = 0; i < rank; ++i) {
      const std::uint64_t d = u64(what + " shape");
      if (d > remaining()) fail(what + ": dimension " + std::to_string(d) + " exceeds the file");
      t.shape.push_back(static_cast<Index>(d));
    }
    // The value count, bounded by the bytes left at every factor so it
    // cannot overflow.
    std::uint64_t n = std::count(t.shape.begin(), t.shape.end(), Index{0}) ? 0 : 1;
    for (Index d : t.shape) {
      if (n != 0 && n > remaining() / bytes / std::uint64_t(d))
        fail(what + " of shape " + shape_text(t.shape) + " holds more values than the file");
      n *= std::uint64_t(d);
    }
    const unsigned char* p = take(n * bytes, what + " values");
    t.values.resize(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < t.values.size(); ++i) {
      if (bytes == 8) {
        const std::uint64_t bits = std::uint64_t(read_le32(p + 8 * i)) | std::uint64_t(read_le32(p + 8 * i + 4)) << 32;
        std::memcpy(&t.values[i], &bits, sizeof bits);
      } else {
        const std::uint32_t bits = read_le32(p + 4 * i);
        float f;
        std::memcpy(&f, &bits, sizeof f);
        t.values[i] = f;
      }
    }
    if (const std::string bad = non_finite(t.values.data(), t.values.size()); !bad.empty()) fail(what + " " + bad);
    return t;
  }

  bool next_section_is(const char (&tag)[5]) const { return remaining() >= 4 && std::memcmp(pos_, tag, 4) == 0; }
  // The next section's payload, which must be fully consumed.
  CheckpointReader section(const char (&tag)[5]) {
    if (!next_section_is(tag)) {
      std::string found = remaining() >= 4 ? std::string(reinterpret_cast<const char*>(pos_), 4) : "end of data";
      for (char& c : found)
        if (c < 0x20 || c > 0x7e) c = '?';
      fail(std::string("expected section ") + tag + ", found '" + found + "'");
    }
    pos_ += 4;
    const std::uint64_t length = u64(std::string("section ") + tag + " length");
    const unsigned char* p = take(length, std::string("section ") + tag);
    return CheckpointReader(p, p + length, path_, version_);
  }
  void expect_end(const std::string& what) const {
    if (remaining() != 0) fail(what + " has " + std::to_string(remaining()) + " unexpected bytes at its end");
  }

 private:
  const unsigned char* pos_;
  const unsigned char* end_;
  const std::string& path_;
  std::uint32_t version_;
};

inline void write_tensors(CheckpointWriter& w, const std::vector<NamedTensor>& tensors, const std::string& kind,
                          std::uint32_t value_bytes) {
  w.u64(tensors.size());
  for (const auto& t : tensors) {
    Index n = 1;
    for (Index d : t.shape) {
      if (d < 0) throw ShapeError("checkpoint: " + kind + " '" + t.name + "' has shape " + shape_text(t.shape));
      n *= d;
    }
    if (static_cast<std::size_t>(n) != t.values.size())
      throw ShapeError("checkpoint: " + kind + " '" + t.name + "' of shape " + shape_text(t.shape) + " holds " +
                       std::to_string(t.values.size()) + " values");
    // A file that load_checkpoint would refuse is not worth replacing a good one with.
    if (const std::string bad = non_finite(t.values.data(), t.values.size()); !bad.empty())
      throw NumericError("checkpoint: " + kind + " '" + t.name + "' " + bad + "; not saving");
    w.tensor(t.name, t.shape, t.values.data(), t.values.size(), value_bytes);
  }
}

inline std::string encode_checkpoint(const Checkpoint& ck) {
  if (!ck.optimizer.empty() && !ck.optimizer_state)
    throw ConfigError("checkpoint: optimizer '" + ck.optimizer + "' is named but its state was not captured");
  if (ck.value_bytes != 4 && ck.value_bytes != 8)
    throw ConfigError("checkpoint: values of " + std::to_string(ck.value_bytes) + " bytes (need 4 or 8)");
  CheckpointWriter w;
  w.raw(checkpoint_magic, sizeof checkpoint_magic);
  w.u32(checkpoint_format_version);
  w.begin_section("ARCH");
  w.str(ck.architecture);
  w.end_section();
  w.begin_section("PARM");
  write_tensors(w, ck.parameters, "parameter", ck.value_bytes);
  w.end_section();
  w.begin_section("BUFF");
  write_tensors(w, ck.buffers, "buffer", ck.value_bytes);
  w.end_section();
  if (ck.optimizer_state) {
    std::vector<NamedTensor> tensors;
    for (const auto& [name, v] : ck.optimizer_state->tensors)
      tensors.push_back({name, {v.size()}, std::vector<double>(v.data(), v.data() + v.size())});
    w.begin_section("OPTM");
    w.str(ck.optimizer);
    w.u64(static_cast<std::uint64_t>(ck.optimizer_state->steps));
    write_tensors(w, tensors, "optimizer tensor", ck.value_bytes);
    w.end_section();
  }
  w.begin_section("META");
  w.u64(ck.metadata.size());
  for (const auto& [key, value] : ck.metadata) {
    w.str(key);
    w.str(value);
  }
  w.end_section();
  return w.finish();
}

// The smallest encoded tensor (empty name, rank 0, one value) and metadata
// entry (two empty strings): bounds for counts read from a file.
inline constexpr std::size_t min_tensor_bytes = 8 + 4 + 4;
inline constexpr std::size_t min_entry_bytes = 8 + 8;

inline std::vector<NamedTensor> read_tensors(CheckpointReader& r, const std::string& kind) {
  const std::size_t n = r.count(kind + " count", min_tensor_bytes);
  std::vector<NamedTensor> tensors;
  for (std::size_t i = 0; i < n; ++i) tensors.push_back(r.tensor(kind));
  return tensors;
}

inline Checkpoint decode_checkpoint(const Bytes& bytes, const std::string& path) {
  const std::size_t size = bytes.size();
  if (size == 0) throw FormatError(path, "empty file, not a checkpoint");
  if (std::memcmp(bytes.data(), checkpoint_magic, std::min(size, sizeof checkpoint_magic)) != 0)
    throw FormatError(path, "not a shallow checkpoint (wrong magic bytes)");
  if (size < checkpoint_header_size + checkpoint_trailer_size)
    throw FormatError(path, "truncated: " + std::to_string(size) + " bytes, shorter than any checkpoint");
  // The version before the checksum, so a newer file is named as such.
  const std::uint32_t version = read_le32(bytes.data() + sizeof checkpoint_magic);
  if (version < 1 || version > checkpoint_format_version)
    throw FormatError(path, "checkpoint format version " + std::to_string(version) + ", this build reads versions 1 to " +
                                std::to_string(checkpoint_format_version));
  const std::size_t body = size - checkpoint_trailer_size;
  const std::uint32_t stored = read_le32(bytes.data() + body), computed = crc32_of(bytes.data(), body);
  if (stored != computed)
    throw FormatError(path, "checksum mismatch (stored " + std::to_string(stored) + ", computed " +
                                std::to_string(computed) + "): the file is corrupt or truncated");

  CheckpointReader r(bytes.data() + checkpoint_header_size, bytes.data() + body, path, version);
  Checkpoint ck;
  {
    CheckpointReader s = r.section("ARCH");
    ck.architecture = s.str("architecture");
    s.expect_end("section ARCH");
  }
  {
    CheckpointReader s = r.section("PARM");
    ck.parameters = read_tensors(s, "parameter");
    for (const auto& t : ck.parameters) ck.value_bytes = std::max(ck.value_bytes, t.value_bytes);
    s.expect_end("section PARM");
  }
  {
    CheckpointReader s = r.section("BUFF");
    ck.buffers = read_tensors(s, "buffer");
    s.expect_end("section BUFF");
  }
  if (r.next_section_is("OPTM")) {
    CheckpointReader s = r.section("OPTM");
    ck.optimizer = s.str("optimizer kind");
    OptimizerState<double> state;
    state.steps = static_cast<std::int64_t>(s.u64("optimizer step count"));
    if (state.steps < 0) s.fail("negative optimizer step count " + std::to_string(state.steps));
    for (auto& t : read_tensors(s, "optimizer tensor")) {
      if (t.shape.size() != 1) s.fail("optimizer tensor '" + t.name + "' has shape " + shape_text(t.shape));
      state.tensors.emplace_back(std::move(t.name),
                                 Eigen::Map<const VectorX<double>>(t.values.data(), Index(t.values.size())));
    }
    s.expect_end("section OPTM");
    ck.optimizer_state = std::move(state);
  }
  {
    CheckpointReader s = r.section("META");
    const std::size_t n = s.count("metadata count", min_entry_bytes);
    for (std::size_t i = 0; i < n; ++i) {
      std::string key = s.str("metadata key");
      std::string value = s.str("metadata '" + key + "'");
      // try_emplace leaves key alone when it is already there.
      if (!ck.metadata.try_emplace(std::move(key), std::move(value)).second)
        s.fail("metadata key '" + key + "' appears twice");
    }
    s.expect_end("section META");
  }
  r.expect_end("the checkpoint");
  return ck;
}

inline std::vector<std::string> spec_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// Names the first layer that differs, which says more than two whole
// architectures side by side.
inline void require_same_architecture(const std::string& stored, const std::string& actual) {
  if (stored == actual) return;
  const auto a = spec_lines(stored), b = spec_lines(actual);
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  auto line = [&](const std::vector<std::string>& v) { return i < v.size() ? "'" + v[i] + "'" : "no layer"; };
  throw ShapeError("checkpoint: architecture differs from the network's at layer " + std::to_string(i) +
                   ": the checkpoint has " + line(a) + ", the network " + line(b) + " (" + std::to_string(a.size()) +
                   " layers vs " + std::to_string(b.size()) + ")");
}

inline void require_same_tensor(const std::string& kind, std::size_t i, const NamedTensor& stored,
                                const std::string& name, const std::vector<Index>& shape, Index size) {
  if (stored.name != name || stored.shape != shape || stored.values.size() != static_cast<std::size_t>(size))
    throw ShapeError("checkpoint: " + kind + " " + std::to_string(i) + " is '" + stored.name + "' of shape " +
                     shape_text(stored.shape) + " with " + std::to_string(stored.values.size()) +
                     " values, the network's is '" + name + "' of shape " + shape_text(shape));
}

inline void require_same_count(const std::string& kind, std::size_t stored, std::size_t actual) {
  if (stored != actual)
    throw ShapeError("checkpoint: holds " + std::to_string(stored) + " " + kind + ", the network " +
                     std::to_string(actual));
}

// Checks everything before changing anything, so a mismatch leaves the
// network and the optimizer as they were.
template <class T>
void load_weights(const Checkpoint& ck, Layer<T>& net, Optimizer<T>* opt) {
  auto params = net.parameters();
  auto buffers = net.buffers();
  require_same_count("parameters", ck.parameters.size(), params.size());
  for (std::size_t i = 0; i < params.size(); ++i)
    require_same_tensor("parameter", i, ck.parameters[i], params[i].name, params[i].shape, params[i].value.size());
  require_same_count("buffers", ck.buffers.size(), buffers.size());
  for (std::size_t i = 0; i < buffers.size(); ++i)
    require_same_tensor("buffer", i, ck.buffers[i], buffers[i].name, {buffers[i].value.size()},
                        buffers[i].value.size());
  if (opt) {
    if (!ck.optimizer_state) throw ShapeError("checkpoint: holds no optimizer state to restore");
    OptimizerState<T> state;
    state.steps = ck.optimizer_state->steps;
    for (const auto& [name, v] : ck.optimizer_state->tensors) state.tensors.emplace_back(name, v.template cast<T>());
    opt->load_state(state);  // checks all before it changes anything
  }
  auto copy = [](const NamedTensor& from, VectorMap<T>& to) {
    to = Eigen::Map<const VectorX<double>>(from.values.data(), to.size()).template cast<T>();
  };
  for (std::size_t i = 0; i < params.size(); ++i) copy(ck.parameters[i], params[i].value);
  for (std::size_t i = 0; i < buffers.size(); ++i) copy(ck.buffers[i], buffers[i].value);
}

template <class T>
NamedTensor to_named(const std::string& name, std::vector<Index> shape, const VectorMap<T>& values) {
  NamedTensor t{name, std::move(shape), std::vector<double>(static_cast<std::size_t>(values.size())),
                std::uint32_t(sizeof(T))};
  Eigen::Map<VectorX<double>>(t.values.data(), values.size()) = values.template cast<double>();
  return t;
}

}  // namespace detail

/// A snapshot of net (a Network or any Layer) and, when given, of opt's
/// state. Set `optimizer` and `metadata` on the result before saving.
template <class T>
Checkpoint capture(Layer<T>& net, const Optimizer<detail::non_deduced<T>>* opt = nullptr) {
  Checkpoint ck;
  ck.architecture = net.spec();
  ck.value_bytes = std::uint32_t(sizeof(T));
  for (const auto& p : net.parameters()) ck.parameters.push_back(detail::to_named(p.name, p.shape, p.value));
  for (const auto& b : net.buffers()) ck.buffers.push_back(detail::to_named(b.name, {b.value.size()}, b.value));
  if (opt) {
    OptimizerState<double> state;
    const OptimizerState<T> s = opt->state();
    state.steps = s.steps;
    for (const auto& [name, v] : s.tensors) state.tensors.emplace_back(name, v.template cast<double>());
    ck.optimizer_state = std::move(state);
  }
  return ck;
}

/// Loads ck into an existing net (and opt, when given). The architecture
/// must match net.spec() exactly and every parameter and buffer by name and
/// shape; otherwise ShapeError names the first difference and nothing changes.
template <class T>
void restore(const Checkpoint& ck, Layer<T>& net, Optimizer<detail::non_deduced<T>>* opt = nullptr) {
  detail::require_same_architecture(ck.architecture, net.spec());
  detail::load_weights(ck, net, opt);
}

/// Replaces path atomically; an existing file is never left half-written.
/// Throws IoError when the file cannot be written (the old one stays),
/// NumericError for NaN or infinite values, which loading would refuse.
inline void save_checkpoint(const std::string& path, const Checkpoint& ck) {
  write_file_atomically(path, detail::encode_checkpoint(ck));
}

/// IoError when path cannot be read (missing, permission denied, a
/// directory); FormatError naming the fault when its contents are not a
/// sound checkpoint.
inline Checkpoint load_checkpoint(const std::string& path) {
  return detail::decode_checkpoint(read_file(path), path);
}

/// The same for a checkpoint file's bytes already in memory.
inline Checkpoint parse_checkpoint(const Bytes& bytes, const std::string& path) {
  return detail::decode_checkpoint(bytes, path);
}

/// A network built from the stored architecture with the stored weights and
/// buffers, in training mode as any new network (call eval() to predict).
/// A checkpoint whose weights do not fit its own architecture is a FormatError.
template <class T = float>
Network<T> load_network(const std::string& path) {
  const Checkpoint ck = load_checkpoint(path);
  try {
    Network<T> net = make_network<T>(ck.architecture);
    detail::load_weights<T>(ck, net, nullptr);
    return net;
  } catch (const std::bad_alloc&) {
    throw FormatError(path, "the architecture needs more memory than is available");
  } catch (const Error& e) {
    throw FormatError(path, std::string("inconsistent checkpoint: ") + e.what());
  }
}

}  // namespace shallow
