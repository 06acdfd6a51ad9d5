// Trains a small network on MNIST and saves it: the program README.md shows.
//   train_mnist [DIR [EPOCHS]]   DIR holds the MNIST files (default: $SHALLOW_DATA/mnist)
#include <shallow/shallow.hpp>

#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  using namespace shallow;
  const char* data = std::getenv("SHALLOW_DATA");
  const std::string dir = argc > 1 ? argv[1] : std::string(data ? data : ".") + "/mnist";
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 2;

  Network<float> net(1);                         // seed 1 draws every layer's weights
  net.emplace<Conv2d<float>>(1, 16, 3);          // 1 -> 16 channels, 3x3, 'same'
  net.emplace<ReLU<float>>();
  net.emplace<ParallelResidual<8>>(16, 3);       // or SequentialResidual<8>(16, 3)
  net.emplace<MaxPool2d<float>>(4);
  net.emplace<Flatten<float>>();
  net.emplace<Dense<float>>(16 * 7 * 7, 10);

  Adam<float> opt(net.parameters(), AdamOptions{});
  Dataset train = load_mnist(dir, true), test = load_mnist(dir, false);
  LoaderOptions lo;
  lo.batch_size = 64;
  lo.shuffle = true;
  lo.normalize = Normalize::fit(train);          // per-channel mean and std of the training images
  DataLoader<float> batches(train, lo);
  lo.shuffle = false;
  DataLoader<float> test_batches(test, lo);

  Trainer<float> trainer(net, opt);
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    EpochMetrics m = trainer.fit_epoch(batches, epoch, &test_batches);  // m.val_acc, m.images_per_s, ...
    (void)m;
  }
  save_checkpoint("model.ckpt", capture(net, &opt));
}
