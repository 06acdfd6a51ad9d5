// DataLoader: batches cover an epoch exactly once, shuffles are a function of
// (seed, epoch), normalisation and augmentation do what they say on crafted
// images, and prefetching changes nothing.
#include <catch2/catch.hpp>

#include <shallow/data/data_loader.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

using namespace shallow;

namespace {

// n images of 1 x h x w whose pixels are all equal to their index (mod 256),
// labelled index % classes.
Dataset numbered(Index n, Index h = 2, Index w = 2, int classes = 5) {
  Dataset d;
  d.shape = {1, h, w};
  d.classes = classes;
  d.class_names = numbered_classes(classes);
  for (Index i = 0; i < n; ++i) {
    d.images.insert(d.images.end(), std::size_t(h * w), std::uint8_t(i % 256));
    d.labels.push_back(int(i % classes));
  }
  return d;
}

// Dataset indices of one epoch, in batch order, recovered from the pixels.
std::vector<Index> epoch_order(DataLoader<float>& loader, int epoch, std::vector<Index>* sizes = nullptr) {
  std::vector<Index> seen;
  Batch<float> b;
  loader.start_epoch(epoch);
  while (loader.next(b)) {
    if (sizes) sizes->push_back(b.size);
    REQUIRE(b.x.dimension(0) == b.size);
    REQUIRE(Index(b.y.size()) == b.size);
    for (Index k = 0; k < b.size; ++k) {
      const Index i = Index(b.x(k, 0, 0, 0) * 255.0f + 0.5f);
      CHECK(b.y[std::size_t(k)] == int(i % 5));
      seen.push_back(i);
    }
  }
  return seen;
}

}  // namespace

TEST_CASE("DataLoader: every image once per epoch, in full batches and one partial", "[loader]") {
  const Dataset d = numbered(23);
  LoaderOptions o;
  o.batch_size = 5;
  DataLoader<float> loader(d, o);
  CHECK(loader.batches() == 5);
  std::vector<Index> sizes;
  std::vector<Index> order = epoch_order(loader, 1, &sizes);
  CHECK(sizes == std::vector<Index>{5, 5, 5, 5, 3});
  std::vector<Index> identity(23);
  std::iota(identity.begin(), identity.end(), Index(0));
  CHECK(order == identity);  // no shuffle: dataset order

  o.drop_last = true;
  DataLoader<float> dropping(d, o);
  CHECK(dropping.batches() == 4);
  CHECK(epoch_order(dropping, 1).size() == 20);
}

TEST_CASE("DataLoader: the shuffle is a permutation fixed by seed and epoch", "[loader]") {
  const Dataset d = numbered(200);
  LoaderOptions o;
  o.batch_size = 16;
  o.shuffle = true;
  o.seed = 7;
  DataLoader<float> a(d, o), b(d, o);
  const auto e1 = epoch_order(a, 1), e2 = epoch_order(a, 2);
  CHECK(std::set<Index>(e1.begin(), e1.end()).size() == 200);
  CHECK(e1 != e2);
  // Epoch 1 again, after epoch 2, and from another loader: the same order.
  CHECK(epoch_order(b, 1) == e1);
  CHECK(epoch_order(a, 1) == e1);
  o.seed = 8;
  DataLoader<float> c(d, o);
  CHECK(epoch_order(c, 1) != e1);
}

TEST_CASE("DataLoader: per-channel normalisation", "[loader]") {
  Dataset d;
  d.shape = {2, 1, 1};
  d.classes = 2;
  d.images = {0, 255, 51, 102};
  d.labels = {0, 1};
  LoaderOptions o;
  o.batch_size = 2;
  o.normalize = Normalize({0.5, 0.2}, {0.5, 0.4});
  DataLoader<float> loader(d, o);
  Batch<float> b;
  loader.start_epoch(0);
  REQUIRE(loader.next(b));
  CHECK(b.x(0, 0, 0, 0) == Approx(-1.0));
  CHECK(b.x(0, 1, 0, 0) == Approx(2.0));
  CHECK(b.x(1, 0, 0, 0) == Approx((0.2 - 0.5) / 0.5));
  CHECK(b.x(1, 1, 0, 0) == Approx((0.4 - 0.2) / 0.4));
  CHECK_FALSE(loader.next(b));

  CHECK_THROWS_AS(Normalize({0.5, 0.2}, {0.5, 0.0}), ConfigError);
  CHECK_THROWS_AS(Normalize({0.5, 0.2}, {0.5, std::nan("")}), ConfigError);
  CHECK_THROWS_AS(Normalize({0.5, 0.2}, {0.5}), ConfigError);
  o.normalize = Normalize({0.5}, {0.5});
  CHECK_THROWS_AS(DataLoader<float>(d, o), ShapeError);
}

// 64 copies of one 1 x 3 x 4 image with distinct pixels 1..12.
Dataset twelve_pixels() {
  Dataset d;
  d.shape = {1, 3, 4};
  d.classes = 1;
  for (int copy = 0; copy < 64; ++copy) {
    for (int v = 1; v <= 12; ++v) d.images.push_back(std::uint8_t(v));
    d.labels.push_back(0);
  }
  return d;
}

// The pixel values (0..255) of each image of the first batch of `epoch`.
std::vector<std::vector<int>> first_batch_pixels(const Dataset& d, const LoaderOptions& o, int epoch) {
  DataLoader<float> loader(d, o);
  Batch<float> b;
  loader.start_epoch(epoch);
  REQUIRE(loader.next(b));
  std::vector<std::vector<int>> images;
  for (Index k = 0; k < b.size; ++k) {
    std::vector<int> img;
    for (Index y = 0; y < d.shape.h; ++y)
      for (Index x = 0; x < d.shape.w; ++x) img.push_back(int(b.x(k, 0, y, x) * 255.0f + 0.5f));
    images.push_back(img);
  }
  return images;
}

// Whether a 3 x 4 image is the twelve_pixels source, flipped or not, shifted
// by (dy, dx) in [-r, r]: source(sy, sx) is what it shows at source
// coordinates (sy, sx), inside the image or in its padding.
template <class Source>
bool shifted_source(const std::vector<int>& img, int r, Source source) {
  for (int flip = 0; flip < 2; ++flip)
    for (int dy = -r; dy <= r; ++dy)
      for (int dx = -r; dx <= r; ++dx) {
        bool all = true;
        for (int y = 0; y < 3 && all; ++y)
          for (int x = 0; x < 4 && all; ++x)
            all = img[std::size_t(y * 4 + x)] == source(y + dy, (flip ? 3 - x : x) + dx);
        if (all) return true;
      }
  return false;
}

TEST_CASE("DataLoader: crops are shifted windows with zero padding, flips mirror rows", "[loader]") {
  const Dataset d = twelve_pixels();
  LoaderOptions o;
  o.batch_size = 64;
  o.crop_padding = 1;
  o.horizontal_flip = true;
  std::set<std::vector<int>> variants;
  for (const auto& img : first_batch_pixels(d, o, 3)) {
    CHECK(shifted_source(img, 1, [](int sy, int sx) {
      return sy >= 0 && sy < 3 && sx >= 0 && sx < 4 ? 1 + sy * 4 + sx : 0;  // zeros outside
    }));
    variants.insert(img);
  }
  // 18 possible variants; 64 draws that found fewer than 8 would be a stuck generator.
  CHECK(variants.size() >= 8);
}

TEST_CASE("DataLoader: reflection padding mirrors the image at its border", "[loader]") {
  const Dataset d = twelve_pixels();
  LoaderOptions o;
  o.batch_size = 64;
  o.crop_padding = 2;
  o.reflect_padding = true;
  o.horizontal_flip = true;
  // Beyond the border the image continues mirrored, the border pixel itself once.
  const auto reflect = [](int v, int n) { return v < 0 ? -v : v >= n ? 2 * (n - 1) - v : v; };
  std::set<std::vector<int>> variants;
  for (const auto& img : first_batch_pixels(d, o, 2)) {
    CHECK(shifted_source(img, 2, [&](int sy, int sx) { return 1 + reflect(sy, 3) * 4 + reflect(sx, 4); }));
    variants.insert(img);
  }
  CHECK(variants.size() >= 12);  // of 50 possible

  o.crop_padding = 3;  // as large as the image's height: nothing to reflect
  CHECK_THROWS_AS(DataLoader<float>(d, o), ConfigError);
}

TEST_CASE("DataLoader: alternating flips show each image mirrored in every other epoch", "[loader]") {
  // Image i is the row (i, 200): flipped, it reads (200, i).
  Dataset d;
  d.shape = {1, 1, 2};
  d.classes = 1;
  const Index n = 100;
  for (Index i = 0; i < n; ++i) {
    d.images.push_back(std::uint8_t(i));
    d.images.push_back(200);
    d.labels.push_back(0);
  }
  const auto flips = [&](LoaderOptions o, int epoch) {
    DataLoader<float> loader(d, o);
    Batch<float> b;
    std::vector<int> flipped(std::size_t(n), -1);
    loader.start_epoch(epoch);
    while (loader.next(b))
      for (Index k = 0; k < b.size; ++k) {
        const int left = int(b.x(k, 0, 0, 0) * 255.0f + 0.5f), right = int(b.x(k, 0, 0, 1) * 255.0f + 0.5f);
        const bool f = left == 200;
        flipped[std::size_t(f ? right : left)] = f;
      }
    return flipped;
  };
  LoaderOptions o;
  o.batch_size = 16;
  o.shuffle = true;
  o.horizontal_flip = true;
  o.alternate_flips = true;
  const auto e0 = flips(o, 0), e1 = flips(o, 1), e2 = flips(o, 2), e5 = flips(o, 5);
  const auto count = [](const std::vector<int>& f) { return std::count(f.begin(), f.end(), 1); };
  CHECK(count(e0) > 25);  // a fair coin per image: 50 +- 5
  CHECK(count(e0) < 75);
  CHECK(std::find(e0.begin(), e0.end(), -1) == e0.end());  // every image seen once
  for (Index i = 0; i < n; ++i) {
    const std::size_t u = std::size_t(i);
    CHECK(e1[u] == 1 - e0[u]);
    CHECK(e2[u] == e0[u]);
    CHECK(e5[u] == e1[u]);
  }
  o.prefetch = true;
  CHECK(flips(o, 1) == e1);
  o.prefetch = false;
  o.seed = 2;  // another coin per image
  CHECK(flips(o, 0) != e0);
  o.alternate_flips = false;  // random flips: some image keeps its side from one epoch to the next
  const auto r0 = flips(o, 0), r1 = flips(o, 1);
  Index kept = 0;
  for (Index i = 0; i < n; ++i) kept += r0[std::size_t(i)] == r1[std::size_t(i)];
  CHECK(kept > 25);
  CHECK(kept < 75);
}

TEST_CASE("DataLoader: background prefetch gives bitwise the same batches", "[loader]") {
  const Dataset d = numbered(300, 6, 6);
  LoaderOptions o;
  o.batch_size = 32;
  o.shuffle = true;
  o.crop_padding = 2;
  o.horizontal_flip = true;
  DataLoader<float> plain(d, o);
  o.prefetch = true;
  DataLoader<float> ahead(d, o);
  for (int epoch : {1, 2, 1}) {
    Batch<float> a, b;
    plain.start_epoch(epoch);
    ahead.start_epoch(epoch);
    Index batches = 0;
    while (plain.next(a)) {
      REQUIRE(ahead.next(b));
      REQUIRE(a.size == b.size);
      CHECK(a.y == b.y);
      CHECK(std::equal(a.x.data(), a.x.data() + a.x.size(), b.x.data()));
      ++batches;
    }
    CHECK_FALSE(ahead.next(b));
    CHECK(batches == 10);
  }
  // A loader may be abandoned mid-epoch, with a batch in preparation.
  {
    DataLoader<float> abandoned(d, o);
    Batch<float> b;
    abandoned.start_epoch(1);
    REQUIRE(abandoned.next(b));
  }
}

TEST_CASE("DataLoader: an empty dataset gives no batches, and bad options are errors", "[loader]") {
  const Dataset d = numbered(0);
  LoaderOptions o;
  DataLoader<float> loader(d, o);
  Batch<float> b;
  loader.start_epoch(1);
  CHECK(loader.batches() == 0);
  CHECK_FALSE(loader.next(b));
  o.batch_size = 0;
  CHECK_THROWS_AS(DataLoader<float>(d, o), ConfigError);
}
