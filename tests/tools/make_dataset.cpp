// make_dataset: writes small synthetic datasets in the real formats, so the
// tool tests run without downloaded data:
//
//   make_dataset DIR mnist TRAIN TEST    DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
//   make_dataset DIR cifar10 TRAIN TEST  DIR/data_batch_{1..5}.bin, DIR/test_batch.bin
//
// Class k of 10 is a bright bar at a row of its own (and, for CIFAR-10, a
// colour of its own) on low noise, so a small network learns it in an
// epoch. The same arguments write the same bytes.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<unsigned char>;

std::uint64_t state = 0x9e3779b97f4a7c15ULL;
unsigned next_byte(unsigned below) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return unsigned(state % below);
}

void put_be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
}

bool write(const std::string& path, const Bytes& bytes, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb6");
    if (!f) return false;
    const bool ok = gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size());
    return gzclose(f) == Z_OK && ok;
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

// One image of `channels` x side x side for class `label`.
void image(Bytes& out, int label, int channels, int side) {
  const int row = 2 + label * (side - 4) / 10;
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        const bool bar = y >= row && y < row + 2 && x >= 3 && x < side - 3;
        const bool tinted = channels == 1 || (label + c) % 3 == 0;
        out.push_back(static_cast<unsigned char>(bar && tinted ? 180 + next_byte(60) : next_byte(50)));
      }
}

bool mnist(const std::string& dir, const char* prefix, int n) {
  Bytes images, labels;
  put_be32(images, 2051);
  put_be32(images, std::uint32_t(n));
  put_be32(images, 28);
  put_be32(images, 28);
  put_be32(labels, 2049);
  put_be32(labels, std::uint32_t(n));
  for (int i = 0; i < n; ++i) {
    const int label = int(next_byte(10));
    labels.push_back(static_cast<unsigned char>(label));
    image(images, label, 1, 28);
  }
  const std::string p = dir + "/" + prefix;
  return write(p + "-images-idx3-ubyte.gz", images, true) && write(p + "-labels-idx1-ubyte.gz", labels, true);
}

bool cifar(const std::string& path, int n) {
  Bytes records;
  for (int i = 0; i < n; ++i) {
    const int label = int(next_byte(10));
    records.push_back(static_cast<unsigned char>(label));
    image(records, label, 3, 32);
  }
  return write(path, records, false);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: make_dataset DIR mnist|cifar10 TRAIN TEST\n");
    return 2;
  }
  const std::string dir = argv[1], kind = argv[2];
  const int train = std::atoi(argv[3]), test = std::atoi(argv[4]);
  if (train < 5 || test < 1 || (kind != "mnist" && kind != "cifar10")) {
    std::fprintf(stderr, "make_dataset: need mnist|cifar10, TRAIN >= 5 and TEST >= 1\n");
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  bool ok = true;
  if (kind == "mnist") {
    ok = mnist(dir, "train", train) && mnist(dir, "t10k", test);
  } else {
    for (int b = 0; b < 5; ++b)
      ok = ok && cifar(dir + "/data_batch_" + std::to_string(b + 1) + ".bin", train * (b + 1) / 5 - train * b / 5);
    ok = ok && cifar(dir + "/test_batch.bin", test);
  }
  if (!ok) {
    std::fprintf(stderr, "make_dataset: cannot write under %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
