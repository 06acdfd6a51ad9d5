// Dataset readers: the real files under $SHALLOW_DATA (counts, first labels,
// pixel checksums), and crafted files with every fault a reader must name.
#include <catch2/catch.hpp>

#include <shallow/data/cifar10.hpp>
#include <shallow/data/files.hpp>
#include <shallow/data/image_folder.hpp>
#include <shallow/data/mnist.hpp>
#include <shallow/data/normalize.hpp>

#include <stb_image_write.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "test_files.hpp"

using namespace shallow;
namespace fs = std::filesystem;

namespace {

// The directory of one real dataset, or "" (with a warning) when it is absent.
std::string real_data(const std::string& name) {
  const char* root = std::getenv("SHALLOW_DATA");
  if (!root) {
    WARN("SHALLOW_DATA is not set: the checks on the real " << name << " files are skipped");
    return "";
  }
  const std::string dir = std::string(root) + "/" + name;
  if (!fs::is_directory(dir)) {
    WARN(dir << " does not exist: the checks on the real " << name << " files are skipped");
    return "";
  }
  return dir;
}

std::uint32_t crc_of(const std::vector<std::uint8_t>& bytes) {
  return std::uint32_t(crc32(crc32(0, nullptr, 0), bytes.data(), uInt(bytes.size())));
}

std::vector<int> first_labels(const Dataset& d, std::size_t n) {
  return std::vector<int>(d.labels.begin(), d.labels.begin() + std::ptrdiff_t(n));
}

std::string be32(std::uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}

std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, std::uint32_t magic = 2051) {
  std::string s = be32(magic) + be32(n) + be32(rows) + be32(cols);
  for (std::uint32_t i = 0; i < n * rows * cols; ++i) s += char(i * 7 % 256);
  return s;
}

std::string idx_labels(const std::vector<int>& labels, std::uint32_t magic = 2049) {
  std::string s = be32(magic) + be32(std::uint32_t(labels.size()));
  for (int l : labels) s += char(l);
  return s;
}

std::string cifar_records(int n, int label = 3) {
  std::string s;
  for (int r = 0; r < n; ++r) {
    s += char(label);
    for (int i = 0; i < 3072; ++i) s += char((r + i) % 251);
  }
  return s;
}

// The message of the IoError (or FormatError) that f() must throw.
template <class F>
std::string error_of(F&& f) {
  return message_of<IoError>(std::forward<F>(f));
}

template <class F>
std::string format_error_of(F&& f) {
  return message_of<FormatError>(std::forward<F>(f));
}

}  // namespace

TEST_CASE("MNIST: the real files give the published counts, labels and pixels", "[data][real]") {
  const std::string dir = real_data("mnist");
  if (dir.empty()) return;
  const Dataset train = load_mnist(dir, true), test = load_mnist(dir, false);
  CHECK(train.size() == 60000);
  CHECK(test.size() == 10000);
  CHECK(train.shape == Shape{1, 28, 28});
  CHECK(train.classes == 10);
  CHECK(first_labels(train, 10) == std::vector<int>{5, 0, 4, 1, 9, 2, 1, 3, 1, 4});
  CHECK(first_labels(test, 10) == std::vector<int>{7, 2, 1, 0, 4, 1, 4, 9, 5, 9});
  CHECK(crc_of(train.images) == 4083391318u);
  CHECK(crc_of(test.images) == 3838467927u);
  CHECK(std::accumulate(train.image(0), train.image(1), 0) == 27525);
  // The well-known normalisation constants.
  const Normalize norm = Normalize::fit(train);
  CHECK(norm.mean()[0] == Approx(0.1307).margin(1e-4));
  CHECK(norm.stddev()[0] == Approx(0.3081).margin(1e-4));
}

TEST_CASE("Fashion-MNIST: the Debian package's files read with their class names", "[data][real]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(dir)) {
    WARN(dir << " is absent (apt-get install dataset-fashion-mnist): skipped");
    return;
  }
  const Dataset train = load_fashion_mnist(dir, true), test = load_fashion_mnist(dir, false);
  CHECK(train.size() == 60000);
  CHECK(test.size() == 10000);
  CHECK(first_labels(train, 10) == std::vector<int>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5});
  CHECK(first_labels(test, 10) == std::vector<int>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
  CHECK(crc_of(train.images) == 2925911245u);
  CHECK(crc_of(test.images) == 309494841u);
  CHECK(train.class_names[9] == "Ankle boot");
}

TEST_CASE("CIFAR-10: the real batches give the expected counts, labels and pixels", "[data][real]") {
  const std::string dir = real_data("cifar10");
  if (dir.empty()) return;
  const Dataset train = load_cifar10(dir, true), test = load_cifar10(dir, false);
  CHECK(train.size() == 50000);
  CHECK(test.size() == 1000);  // the shared copy holds the first 1,000 test records
  CHECK(train.shape == Shape{3, 32, 32});
  CHECK(first_labels(train, 10) == std::vector<int>{6, 9, 9, 4, 1, 1, 2, 7, 8, 3});
  CHECK(first_labels(test, 10) == std::vector<int>{3, 8, 8, 0, 6, 6, 1, 6, 3, 1});
  CHECK(crc_of(train.images) == 3798869581u);
  CHECK(crc_of(test.images) == 2852626077u);
  CHECK(train.class_names[0] == "airplane");
  const auto mean = Normalize::fit(train).mean();
  CHECK(mean[0] == Approx(0.4914).margin(1e-4));
  CHECK(mean[2] == Approx(0.4465).margin(1e-4));
}

TEST_CASE("IDX: raw and gzip-compressed files read the same", "[data][idx]") {
  TempDir dir;
  const std::string images = idx_images(3, 4, 5), labels = idx_labels({1, 0, 2});
  write_bytes(dir.file("train-images-idx3-ubyte"), images);
  write_bytes(dir.file("train-labels-idx1-ubyte.gz"), gzip_bytes(labels));
  write_bytes(dir.file("t10k-images-idx3-ubyte.gz"), gzip_bytes(images));
  // Two gzip members, as `cat a.gz b.gz` makes, inflate to their concatenation.
  write_bytes(dir.file("t10k-labels-idx1-ubyte.gz"), gzip_bytes(labels.substr(0, 5)) + gzip_bytes(labels.substr(5)));
  const Dataset a = load_mnist(dir.path().string(), true), b = load_mnist(dir.path().string(), false);
  CHECK(a.shape == Shape{1, 4, 5});
  CHECK(a.labels == std::vector<int>{1, 0, 2});
  CHECK(a.images == b.images);
  CHECK(a.labels == b.labels);
  CHECK(a.images[7] == 49);
}

TEST_CASE("IDX: every malformed file is a FormatError naming the file and the fault", "[data][idx][errors]") {
  TempDir dir;
  const auto images_error = [&](const std::string& bytes) {
    write_bytes(dir.file("bad"), bytes);
    return format_error_of([&] { read_idx_images(dir.file("bad")); });
  };
  const std::string good = idx_images(2, 3, 3);

  CHECK_THAT(images_error(idx_images(2, 3, 3, 2049)), Catch::Contains("bad") && Catch::Contains("wrong magic number 2049"));
  CHECK_THAT(images_error(good.substr(0, 10)), Catch::Contains("too short for an IDX header"));
  CHECK_THAT(images_error(""), Catch::Contains("too short for an IDX header"));
  CHECK_THAT(images_error(good.substr(0, good.size() - 1)), Catch::Contains("truncated") && Catch::Contains("17"));
  CHECK_THAT(images_error(good + "x"), Catch::Contains("holds more"));
  CHECK_THAT(images_error(gzip_bytes(good.substr(0, good.size() - 4))), Catch::Contains("truncated"));
  // A header claiming billions of images is refused by the size check alone.
  CHECK_THAT(images_error(be32(2051) + be32(1000000000u) + be32(28) + be32(28)),
             Catch::Contains("1000000000 x 28 x 28") && Catch::Contains("truncated"));
  CHECK_THAT(images_error(be32(2051) + be32(0xffffffffu) + be32(0xffffffffu) + be32(0xffffffffu)),
             Catch::Contains("more than any file can hold"));
  CHECK_THAT(images_error(idx_images(0, 0, 3)), Catch::Contains("images of size 0"));

  SECTION("gzip damage") {
    std::string gz = gzip_bytes(good);
    CHECK_THAT(images_error(gz.substr(0, gz.size() / 2)), Catch::Contains("truncated gzip data"));
    gz[12] = char(gz[12] ^ 0xff);
    gz[13] = char(gz[13] ^ 0x55);
    CHECK_THAT(images_error(gz), Catch::Contains("corrupt gzip data") || Catch::Contains("truncated"));
    std::string crc = gzip_bytes(good);
    crc[crc.size() - 6] = char(crc[crc.size() - 6] ^ 1);  // the CRC-32 trailer
    CHECK_THAT(images_error(crc), Catch::Contains("corrupt gzip data"));
  }
  SECTION("labels out of range, and label and image counts that disagree") {
    write_bytes(dir.file("labels"), idx_labels({3, 10, 1}));
    CHECK_THAT(format_error_of([&] { read_idx_labels(dir.file("labels"), 10); }),
               Catch::Contains("labels") && Catch::Contains("label 10 of item 1 is out of range 0..9"));
    write_bytes(dir.file("images"), idx_images(2, 3, 3));
    write_bytes(dir.file("labels"), idx_labels({3, 1, 1}));
    CHECK_THAT(format_error_of([&] { read_idx_dataset(dir.file("images"), dir.file("labels"), numbered_classes(10)); }),
               Catch::Contains("holds 3 labels but") && Catch::Contains("holds 2 images"));
  }
}

TEST_CASE("IDX: a gzip bomb's header claim costs no memory", "[data][idx][errors]") {
  // 64 MiB of zeros compress to ~64 KiB; the header claims 10^9 images. The
  // reader must stop inflating once the data exceeds the claim it checked.
  TempDir dir;
  std::string payload = be32(2051) + be32(1) + be32(28) + be32(28);
  payload.append(std::size_t(64) << 20, '\0');
  write_bytes(dir.file("bomb.gz"), gzip_bytes(payload));
  CHECK_THAT(format_error_of([&] { read_idx_images(dir.file("bomb.gz")); }), Catch::Contains("holds more"));
}

TEST_CASE("Dataset files: missing, a directory, unreadable", "[data][errors]") {
  TempDir dir;
  CHECK_THAT(error_of([&] { load_mnist(dir.file("nowhere"), true); }), Catch::Contains("no such directory"));
  CHECK_THAT(error_of([&] { load_mnist(dir.path().string(), true); }),
             Catch::Contains("train-images-idx3-ubyte") && Catch::Contains("not found"));
  fs::create_directory(dir.file("d"));
  CHECK_THAT(error_of([&] { read_idx_images(dir.file("d")); }), Catch::Contains("is a directory"));
  Dataset sink;
  CHECK_THAT(error_of([&] { append_cifar10_batch(dir.file("d"), sink); }),
             Catch::Contains("is a directory"));
  write_bytes(dir.file("locked"), idx_images(1, 2, 2));
  fs::permissions(dir.file("locked"), fs::perms::none);
  if (::access(dir.file("locked").c_str(), R_OK) == 0) {
    WARN("running with permission to read anything (root?): the permission-denied case is skipped");
  } else {
    CHECK_THAT(error_of([&] { read_idx_images(dir.file("locked")); }), Catch::Contains("Permission denied"));
  }
}

TEST_CASE("OutputLock: a second holder is refused with the first one's pid, a released or abandoned lock is free",
          "[data][files]") {
  TempDir dir;
  const std::string out = dir.file("runs.csv");
  {
    OutputLock first(out);
    CHECK(read_bytes(out + ".lock") == std::to_string(::getpid()));
    CHECK_THAT(error_of([&] { OutputLock second(out); }),
               Catch::Contains("runs.csv") && Catch::Contains("being written by another process") &&
                   Catch::Contains("(pid " + std::to_string(::getpid()) + ")"));
  }
  CHECK_FALSE(fs::exists(out + ".lock"));
  // A lock file left by a killed process holds no lock: it is taken over.
  write_bytes(out + ".lock", "999999");
  { OutputLock again(out); CHECK(read_bytes(out + ".lock") == std::to_string(::getpid())); }
  CHECK_FALSE(fs::exists(out + ".lock"));
}

TEST_CASE("CIFAR-10: any whole number of records, and partial records and bad labels are errors", "[data][cifar]") {
  TempDir dir;
  write_bytes(dir.file("a.bin"), cifar_records(3, 7));
  write_bytes(dir.file("b.bin.gz"), gzip_bytes(cifar_records(2, 1)));
  const Dataset d = read_cifar10({dir.file("a.bin"), dir.file("b.bin.gz")});
  CHECK(d.size() == 5);
  CHECK(d.labels == std::vector<int>{7, 7, 7, 1, 1});
  CHECK(d.image(1)[0] == 1);  // record 1, first red pixel: (1 + 0) % 251
  CHECK(d.image(4)[1024] == (1 + 1024) % 251);  // first green pixel

  const auto error = [&](const std::string& bytes) {
    write_bytes(dir.file("bad.bin"), bytes);
    return format_error_of([&] { read_cifar10({dir.file("bad.bin")}); });
  };
  CHECK_THAT(error(cifar_records(2).substr(0, 5000)),
             Catch::Contains("bad.bin") && Catch::Contains("not a whole number of 3073-byte records"));
  CHECK_THAT(error(""), Catch::Contains("is empty"));
  CHECK_THAT(error(cifar_records(2, 10)), Catch::Contains("label 10 of record 0 is out of range 0..9"));
}

TEST_CASE("Images: PNG, BMP and PGM decode to planar pixels, resized bilinearly", "[data][images]") {
  TempDir dir;
  // A 2x2 RGB image: red, green / blue, white.
  const unsigned char rgb[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
  REQUIRE(stbi_write_png(dir.file("a.png").c_str(), 2, 2, 3, rgb, 6));
  REQUIRE(stbi_write_bmp(dir.file("a.bmp").c_str(), 2, 2, 3, rgb));
  for (const char* name : {"a.png", "a.bmp"}) {
    const auto px = load_image(dir.file(name), 3, 2, 2);
    CHECK(px == std::vector<std::uint8_t>{255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255});
  }
  // Upsampling 2x2 -> 4x4 with pixel centres aligned: the first row of the red
  // plane is 255, 191, 64, 0 (weights 1, 3/4, 1/4, 0).
  const auto up = load_image(dir.file("a.png"), 3, 4, 4);
  CHECK(std::vector<int>(up.begin(), up.begin() + 4) == std::vector<int>{255, 191, 64, 0});
  // Grey conversion of pure red, and a PGM read as RGB.
  CHECK(load_image(dir.file("a.png"), 1, 2, 2)[0] == 76);
  write_bytes(dir.file("g.pgm"), std::string("P5 1 1 255\n") + char(200));
  // Found by fuzz_image: stb_image crashed on this truncated 16-bit PGM.
  write_bytes(dir.file("deep.pgm"), "P5 35 57 42299M99\n");
  CHECK_THAT(format_error_of([&] { load_image(dir.file("deep.pgm"), 1, 2, 2); }),
             Catch::Contains("deep.pgm") && Catch::Contains("16-bit PNM"));
  CHECK(load_image(dir.file("g.pgm"), 3, 1, 1) == std::vector<std::uint8_t>{200, 200, 200});
}

TEST_CASE("Image folders: classes from subfolders, and bad images and layouts are named", "[data][images]") {
  TempDir dir;
  const unsigned char grey[4] = {10, 20, 30, 40};
  for (const char* cls : {"dog", "cat"}) {
    fs::create_directories(dir.path() / "train" / cls);
    for (int i = 0; i < 2; ++i)
      REQUIRE(stbi_write_png((dir.path() / "train" / cls / (std::to_string(i) + ".png")).string().c_str(), 2, 2, 1,
                             grey, 2));
  }
  write_bytes((dir.path() / "train" / "cat" / "notes.txt").string(), "not an image, and ignored");
  const Dataset d = load_image_folder((dir.path() / "train").string(), 1, 2, 2);
  CHECK(d.class_names == std::vector<std::string>{"cat", "dog"});
  CHECK(d.labels == std::vector<int>{0, 0, 1, 1});
  CHECK(d.images.size() == 16);
  CHECK(d.images[3] == 40);

  SECTION("a validation folder takes the training classes, and may not add one") {
    fs::create_directories(dir.path() / "val" / "dog");
    REQUIRE(stbi_write_png((dir.path() / "val" / "dog" / "x.png").string().c_str(), 2, 2, 1, grey, 2));
    const Dataset v = load_image_folder((dir.path() / "val").string(), 1, 2, 2, d.class_names);
    CHECK(v.labels == std::vector<int>{1});
    fs::create_directories(dir.path() / "val" / "cow");
    CHECK_THAT(format_error_of([&] { load_image_folder((dir.path() / "val").string(), 1, 2, 2, d.class_names); }),
               Catch::Contains("cow") && Catch::Contains("not one of the training set's classes"));
  }
  SECTION("an undecodable image") {
    write_bytes((dir.path() / "train" / "dog" / "broken.png").string(), "\x89PNG\r\n\x1a\n garbage");
    CHECK_THAT(format_error_of([&] { load_image_folder((dir.path() / "train").string(), 1, 2, 2); }),
               Catch::Contains("broken.png") && Catch::Contains("not a readable image"));
  }
  SECTION("an empty image file") {
    write_bytes((dir.path() / "train" / "dog" / "empty.jpg").string(), "");
    CHECK_THAT(format_error_of([&] { load_image_folder((dir.path() / "train").string(), 1, 2, 2); }),
               Catch::Contains("empty.jpg") && Catch::Contains("is empty"));
  }
  SECTION("no class subfolders, no images") {
    fs::create_directories(dir.path() / "flat");
    CHECK_THAT(format_error_of([&] { load_image_folder((dir.path() / "flat").string(), 1, 2, 2); }),
               Catch::Contains("no class subfolders"));
    fs::create_directories(dir.path() / "flat" / "a");
    CHECK_THAT(format_error_of([&] { load_image_folder((dir.path() / "flat").string(), 1, 2, 2); }),
               Catch::Contains("holds no image files"));
    CHECK_THAT(error_of([&] { load_image_folder(dir.file("missing"), 1, 2, 2); }),
               Catch::Contains("is not a directory"));
  }
  SECTION("an image whose header claims a huge size is refused before decoding") {
    // A BMP header for 60000 x 60000 pixels with no pixel data.
    std::string bmp = "BM" + std::string(12, '\0');
    std::string info(40, '\0');
    const auto put32 = [&](std::size_t at, std::uint32_t v) {
      for (int i = 0; i < 4; ++i) info[at + std::size_t(i)] = char((v >> (8 * i)) & 0xff);
    };
    put32(0, 40);
    put32(4, 60000);
    put32(8, 60000);
    info[12] = 1;
    info[14] = 24;
    bmp[10] = 54;
    write_bytes((dir.path() / "train" / "dog" / "huge.bmp").string(), bmp + info);
    CHECK_THAT(format_error_of([&] { load_image_folder((dir.path() / "train").string(), 1, 2, 2); }),
               Catch::Contains("huge.bmp") &&
                   (Catch::Contains("larger than") || Catch::Contains("not a readable image")));
  }
}

TEST_CASE("Dataset: slices, and normalisation constants of a known image", "[data]") {
  Dataset d;
  d.shape = {2, 1, 2};
  d.classes = 2;
  d.images = {0, 255, 51, 51, 255, 0, 51, 51};
  d.labels = {0, 1};
  CHECK(Normalize::fit(d).mean() == std::vector<double>{0.5, 0.2});
  const auto sd = Normalize::fit(d).stddev();
  CHECK(sd[0] == Approx(0.5));
  CHECK(sd[1] == 1.0);  // a constant channel keeps std 1 rather than dividing by zero
  const Dataset tail = d.slice(1, 2);
  CHECK(tail.labels == std::vector<int>{1});
  CHECK(tail.images == std::vector<std::uint8_t>{255, 0, 51, 51});
  CHECK_THROWS_AS(d.slice(1, 3), ConfigError);
}
