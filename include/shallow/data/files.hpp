/// \file
/// Files in and out: the whole of a regular file (its size checked before
/// anything is read), transparently gunzipped when it starts with the gzip
/// magic; atomic replacement (temporary file, fsync, rename) so a crash
/// leaves the old contents or the new ones, never a mix; and an exclusive
/// lock on an output, so two processes never write one file.
///
/// Every fault is an IoError (cannot open, read, write, lock) or a
/// FormatError (too large, corrupt or truncated gzip data) naming the file.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include "../core/error.hpp"

namespace shallow {

/// A file's contents.
using Bytes = std::vector<unsigned char>;

namespace detail {

inline std::string errno_text(int e) { return std::generic_category().message(e); }

struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

// Makes a rename durable across a power cut. Best effort: the new file is
// already in place, and some file systems refuse to sync a directory.
inline void sync_parent_directory(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace detail

/// The largest file read_file takes by default: no dataset file, image or
/// checkpoint this library reads comes near it, and a refusal must not need
/// the memory the file claims.
inline constexpr std::uint64_t max_file_bytes = std::uint64_t(1) << 30;

/// The whole of a regular file of at most max_bytes. Directories, FIFOs and
/// devices are refused before reading, so a wrong path cannot block or stream
/// without end; so is a larger file, before any of it is allocated.
inline Bytes read_file(const std::string& path, std::uint64_t max_bytes = max_file_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw IoError(path, "cannot open: " + detail::errno_text(errno));
  detail::FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw IoError(path, "cannot stat: " + detail::errno_text(errno));
  if (S_ISDIR(st.st_mode)) throw IoError(path, "is a directory, not a file");
  if (!S_ISREG(st.st_mode)) throw IoError(path, "is not a regular file");
  if (std::uint64_t(st.st_size) > max_bytes)
    throw FormatError(path, "is " + std::to_string(st.st_size) + " bytes, more than the " +
                                std::to_string(max_bytes) + " this reader accepts");
  Bytes bytes(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(path, "cannot read: " + detail::errno_text(errno));
    if (n == 0) break;  // the file shrank meanwhile; callers check sizes
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

/// Whether bytes begin with the gzip magic number.
inline bool is_gzip(const Bytes& bytes) { return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

/// Inflates a gzip stream (one or more members), stopping after `limit`
/// bytes of output. The output grows as it is produced, so memory follows the
/// data actually present (deflate expands at most about 1032:1), never a
/// size claimed by a header.
inline Bytes gunzip(const Bytes& packed, const std::string& path,
                    std::size_t limit = std::numeric_limits<std::size_t>::max()) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw IoError(path, "zlib cannot start inflating");
  struct Ender {
    z_stream* z;
    ~Ender() { inflateEnd(z); }
  } ender{&z};
  const auto truncated = [&] { return FormatError(path, "truncated gzip data (the stream ends before its end marker)"); };
  Bytes out;
  std::size_t in_pos = 0;
  while (out.size() < limit) {
    if (out.size() == out.capacity())
      out.reserve(std::min(limit, std::max<std::size_t>(out.size() * 2, packed.size() * 4 + 64)));
    const std::size_t produced = out.size();
    out.resize(out.capacity());
    z.next_in = const_cast<unsigned char*>(packed.data() + in_pos);
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(packed.size() - in_pos, 1u << 30));
    z.next_out = out.data() + produced;
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - produced, 1u << 30));
    const uInt in_before = z.avail_in, out_before = z.avail_out;
    const int rc = inflate(&z, Z_NO_FLUSH);
    in_pos += in_before - z.avail_in;
    out.resize(produced + (out_before - z.avail_out));
    if (rc == Z_STREAM_END) {
      // Another member may follow (as `cat a.gz b.gz` makes); anything else
      // after the end is ignored, as gzip itself does.
      if (!(in_pos + 2 <= packed.size() && packed[in_pos] == 0x1f && packed[in_pos + 1] == 0x8b)) break;
      if (inflateReset(&z) != Z_OK) throw FormatError(path, "corrupt gzip data");
      continue;
    }
    if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_STREAM_ERROR)
      throw FormatError(path, std::string("corrupt gzip data: ") + (z.msg ? z.msg : "invalid stream"));
    if (rc == Z_MEM_ERROR) throw IoError(path, "out of memory while inflating");
    if (in_pos == packed.size() && z.avail_out != 0) throw truncated();
  }
  return out;
}

/// The file dir/stem, or dir/stem.gz when only that exists.
inline std::string find_data_file(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  const fs::path raw = fs::path(dir) / stem, gz = fs::path(dir) / (stem + ".gz");
  // A path that exists but cannot be resolved (a symbolic link loop, a
  // directory without search permission) is reported as such, not as missing.
  for (const fs::path& p : {raw, gz}) {
    std::error_code ec;
    if (fs::exists(p, ec)) return p.string();
    if (ec && ec != std::errc::no_such_file_or_directory)
      throw IoError(p.string(), "cannot be resolved: " + ec.message());
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw IoError(dir, ec && ec != std::errc::no_such_file_or_directory ? "cannot be resolved: " + ec.message()
                                                                         : "no such directory");
  throw IoError(raw.string(), "not found (nor " + gz.filename().string() + ")");
}

/// Writes bytes to path + ".tmp.<pid>", syncs them and renames the file over
/// path, so path holds its old contents or the new ones, never a mix, even
/// after a crash. On failure the temporary file is removed and IoError thrown.
inline void write_file_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw IoError(path, "cannot create " + tmp + ": " + detail::errno_text(errno));
  std::string failure;
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0 && failure.empty()) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failure = "cannot write " + tmp + ": " + detail::errno_text(n < 0 ? errno : EIO);
    } else {
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  if (failure.empty() && ::fsync(fd) != 0) failure = "cannot sync " + tmp + ": " + detail::errno_text(errno);
  if (::close(fd) != 0 && failure.empty()) failure = "cannot close " + tmp + ": " + detail::errno_text(errno);
  if (failure.empty() && ::rename(tmp.c_str(), path.c_str()) != 0)
    failure = "cannot replace it with " + tmp + ": " + detail::errno_text(errno);
  if (!failure.empty()) {
    ::unlink(tmp.c_str());
    throw IoError(path, failure);
  }
  detail::sync_parent_directory(path);
}

/// IoError unless path can be written as a file: an existing path must be a
/// regular file (writing would otherwise replace a device or a directory),
/// and its directory must exist and be writable. Lets a tool refuse a bad
/// output path before it computes anything.
inline void check_writable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw IoError(path, "is a directory, not a file to write");
    if (!S_ISREG(st.st_mode)) throw IoError(path, "exists and is not a regular file; refusing to replace it");
  } else if (errno != ENOENT) {
    throw IoError(path, "cannot stat: " + detail::errno_text(errno));
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw IoError(path, "cannot be written: directory " + dir + ": " + detail::errno_text(errno));
}

/// Whether two paths name the same file (existing or not).
inline bool same_file(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  namespace fs = std::filesystem;
  const auto ca = fs::weakly_canonical(fs::absolute(a, ea), ea), cb = fs::weakly_canonical(fs::absolute(b, eb), eb);
  return !ea && !eb && ca == cb;
}

/// An exclusive lock on writing `path`, held while the object lives: a
/// second process asking for the same path gets an IoError naming the
/// holder. The lock is taken on path + ".lock" (the output itself is
/// replaced by rename, which a lock on it would not survive); that file is
/// removed when the lock is released normally, and a lock left by a killed
/// process is free again, as the kernel drops it with the process.
class OutputLock {
 public:
  /// Takes the lock on path; IoError when another process holds it or the lock file cannot be created.
  explicit OutputLock(const std::string& path) : lock_path_(path + ".lock") {
    // A lock won on a file its holder has just unlinked guards nothing (a
    // third process would create and lock a new one): retry on the new file.
    for (;;) {
      fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
      if (fd_ < 0) throw IoError(path, "cannot create the lock file " + lock_path_ + ": " + detail::errno_text(errno));
      if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        char holder[32] = {};
        const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
        ::close(fd_);
        if (e == EWOULDBLOCK)
          throw IoError(path, "is being written by another process" +
                                  (n > 0 ? " (pid " + std::string(holder, std::size_t(n)) + ")" : std::string()) +
                                  "; refusing to write it too");
        throw IoError(path, "cannot lock " + lock_path_ + ": " + detail::errno_text(e));
      }
      struct stat held {}, named {};
      if (::fstat(fd_, &held) == 0 && ::stat(lock_path_.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
          held.st_ino == named.st_ino)
        break;
      ::close(fd_);
    }
    // The pid only improves the other process's message; failing to write it is harmless.
    const std::string pid = std::to_string(::getpid());
    const bool noted = ::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) == ssize_t(pid.size());
    (void)noted;
  }
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  ~OutputLock() {
    // Unlinked while still held, so no other process can lock the old file
    // after this one lets go of it.
    ::unlink(lock_path_.c_str());
    ::close(fd_);
  }

 private:
  std::string lock_path_;
  int fd_ = -1;
};

}  // namespace shallow
