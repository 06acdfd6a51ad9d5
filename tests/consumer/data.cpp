// shallow::data: datasets and loaders (zlib, stb_image), without the layers.
#include <shallow/data.hpp>

#include <cstdio>

int main() {
  using namespace shallow;
  Dataset d;
  d.shape = {1, 2, 2};
  d.classes = 2;
  d.images = {0, 64, 128, 255, 255, 128, 64, 0};
  d.labels = {0, 1};
  LoaderOptions o;
  o.batch_size = 2;
  o.normalize = Normalize::fit(d);
  DataLoader<float> loader(d, o);
  Batch<float> b;
  loader.start_epoch(0);
  const bool got = loader.next(b);
  std::printf("consumer_data: a batch of %ld images of %s\n", long(b.size), to_string(d.shape).c_str());
  return got && b.size == 2 ? 0 : 1;
}
