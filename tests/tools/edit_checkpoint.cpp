// edit_checkpoint: rewrites sections of a checkpoint and writes it with a
// correct checksum, as an attacker would, so the tests (and the fuzzers'
// seed corpora) reach the metadata and architecture parsers behind the CRC.
//
//   edit_checkpoint IN OUT [--meta KEY=VALUE]... [--meta-file KEY=FILE]...
//                          [--drop-meta KEY]... [--arch TEXT] [--arch-file FILE]
//
// --arch replaces the architecture text (spec lines; "\n" in TEXT is a line
// break). The weights are kept as they are, so they may no longer fit it:
// that is for the reader under test to find.
#include <shallow/train.hpp>

#include <cstdio>
#include <string>

namespace {

std::string unescape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string file_text(const std::string& path) {
  const shallow::Bytes b = shallow::read_file(path);
  return std::string(b.begin(), b.end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: edit_checkpoint IN OUT [--meta K=V] [--meta-file K=FILE] [--drop-meta K] "
                         "[--arch TEXT] [--arch-file FILE]\n");
    return 2;
  }
  try {
    shallow::Checkpoint ck = shallow::load_checkpoint(argv[1]);
    for (int i = 3; i < argc; ++i) {
      const std::string flag = argv[i];
      if (i + 1 >= argc) throw shallow::ConfigError(flag + " needs a value");
      const std::string value = argv[++i];
      const auto eq = value.find('=');
      if (flag == "--meta" || flag == "--meta-file") {
        if (eq == std::string::npos) throw shallow::ConfigError(flag + " needs KEY=VALUE");
        const std::string v = value.substr(eq + 1);
        ck.metadata[value.substr(0, eq)] = flag == "--meta" ? unescape(v) : file_text(v);
      } else if (flag == "--drop-meta") {
        ck.metadata.erase(value);
      } else if (flag == "--arch") {
        ck.architecture = unescape(value);
      } else if (flag == "--arch-file") {
        ck.architecture = file_text(value);
      } else {
        throw shallow::ConfigError("unknown flag " + flag);
      }
    }
    shallow::save_checkpoint(argv[2], ck);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "edit_checkpoint: %s\n", e.what());
    return 1;
  }
  return 0;
}
