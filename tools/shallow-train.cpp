// shallow-train: trains the study's network (or its staged form) in one
// layout, with a checkpoint after every epoch and exact resumption.
//
// The network (include/shallow/models/classifier.hpp): conv2d (input
// channels -> F, k x k, 'same') + activation, then N residual layers of F
// filters (k x k) in the chosen layout, then max-pool P x P (or global
// average pooling with --pool 0), flatten, and a dense layer to the classes.
// With --stages S > 1, S such residual stacks, each later one behind a
// stride-2 conv that doubles the width, with batch norm after every conv
// outside the stacks. With --model fast, the network of the cifar10-fast
// recipe instead (include/shallow/models/cifar10_fast.hpp): patch
// whitening, then three groups of conv, max-pool, batch norm and N residual
// layers. Softmax cross-entropy loss.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "support/datasets.hpp"
#include "support/recipes.hpp"
#include "support/run.hpp"
#include "support/tool_main.hpp"
#include "support/training_flags.hpp"

namespace shallow::tools {
namespace {

// The flags that fix a run's trajectory besides the architecture (which the
// checkpoint's spec pins): a resume with other values would not continue the
// same run.
// (--epochs is not among them: extending a run is a resume; a schedule whose
// length follows --epochs then bends, which the user asked for.)
const char* const resume_settings[] = {"dataset",  "batch",   "optimizer",   "lr",        "momentum", "weight-decay",
                                       "schedule", "clip",    "augment",     "holdout",   "train-limit",
                                       "val-limit", "seed",   "image-size",  "channels",  "nesterov",
                                       "lr-per-step", "label-smoothing", "bn-bias-lr", "ema", "tta",
                                       "tta-translate", "crop-padding", "model", "lookahead",
                                       "crop-fill", "flips"};

std::map<std::string, std::string> settings_of(const cli::Parser& p) {
  std::map<std::string, std::string> s;
  for (const char* name : resume_settings) s[name] = p.text(name);
  return s;
}

std::string history_lines(const std::vector<EpochMetrics>& history) {
  std::string lines;
  for (const auto& m : history) lines += to_json(m) + "\n";
  return lines;
}

// The weights, the optimizer state, the epoch and the settings: with the same
// flags, all that determines the rest of a run (with --ema, the network is
// the average and the training weights travel with the optimizer state:
// run.hpp). The rest is for shallow-predict and for people.
void save(const std::string& path, Run& run, const cli::Parser& p, const Data& data) {
  RunMetadata m;
  m.layout = p.text("layout");
  m.dataset = p.text("dataset");
  m.settings = settings_of(p);
  save_run(path, run, p, data, m);
}

// Restores weights, optimizer state and history; returns the next epoch.
int resume(const std::string& path, Run& run, const cli::Parser& p) {
  const Checkpoint ck = load_checkpoint(path);
  const RunMetadata m = RunMetadata::read(ck, path);
  if (ck.optimizer != p.text("optimizer"))
    throw cli::UsageError(path + " was trained with --optimizer " + ck.optimizer + ", not " + p.text("optimizer"));
  std::string changed;
  for (const auto& [name, now] : settings_of(p)) {
    const auto it = m.settings.find(name);
    if (it != m.settings.end() && it->second != now)
      changed += (changed.empty() ? "" : ", ") + ("--" + name) + " " + it->second + " -> " + now;
  }
  if (!changed.empty()) {
    if (!p.flag("resume-with-changes"))
      throw cli::UsageError(path + " was trained with other settings (" + changed +
                            "); give the same flags to continue the same run, or --resume-with-changes");
    std::printf("resuming %s with changed settings: %s\n", path.c_str(), changed.c_str());
  }
  if (m.settings.empty()) std::printf("%s records no settings (shallow 0.1): not checked\n", path.c_str());
  return restore_run(path, ck, m, run);
}

int main_body(cli::Parser& p) {
  apply_recipe(p);
  check_flags(p);
  const std::string save_path = p.text("save"), metrics_path = p.text("metrics"), resume_path = p.text("resume");
  // Outputs are checked and locked before anything is computed.
  if (!save_path.empty() && !metrics_path.empty() && same_file(save_path, metrics_path))
    throw cli::UsageError("--save and --metrics name the same file " + save_path);
  std::unique_ptr<OutputLock> save_lock, metrics_lock;
  if (!save_path.empty()) {
    check_writable(save_path);
    save_lock = std::make_unique<OutputLock>(save_path);
  }
  if (!metrics_path.empty()) {
    check_writable(metrics_path);
    metrics_lock = std::make_unique<OutputLock>(metrics_path);
  }
  set_threads(p);
  const Layout layout = layout_flag(p);
  const Data data = load_data(p);
  Run run = make_run(p, data.train, layout);
  std::printf("%s on %s (%ld training, %ld validation images of %s): %ld parameters, %d threads\n",
              describe_network(p, data.train, layout).c_str(), p.text("dataset").c_str(),
              long(data.train.size()), long(data.val.size()), to_string(data.train.shape).c_str(),
              long(parameter_count(run.net)), num_threads());
  std::fflush(stdout);

  int first = 1;
  if (!resume_path.empty()) {
    // A requeued job resumes from a checkpoint it may never have written.
    if (!std::filesystem::exists(resume_path)) {
      std::printf("no checkpoint %s yet: starting from epoch 1\n", resume_path.c_str());
    } else {
      first = resume(resume_path, run, p);
      std::printf("resumed from %s after epoch %d\n", resume_path.c_str(), first - 1);
      // A kill between the checkpoint and the metrics file leaves the latter
      // an epoch behind; the checkpoint's history is the truth.
      if (!metrics_path.empty()) write_file_atomically(metrics_path, history_lines(run.history));
    }
  }
  const int stop_after = int(p.integer("stop-after")), epochs = int(p.integer("epochs"));
  if (first - 1 > epochs)
    throw cli::UsageError(resume_path + " is at epoch " + std::to_string(first - 1) + ", past --epochs " +
                          std::to_string(epochs));
  // A job killed after its last checkpoint and requeued finishes here, as
  // the uninterrupted job would have.
  if (first > epochs) {
    std::printf("the run is complete at --epochs %d: nothing left to train\n", epochs);
  } else {
    train_epochs(p, data, run, first, [&](Run& r) {
      if (!save_path.empty()) save(save_path, r, p, data);
      if (!metrics_path.empty()) write_file_atomically(metrics_path, history_lines(r.history));
      return r.history.back().epoch != stop_after;
    });
  }
  const EpochMetrics& last = run.history.back();
  std::printf("final: train loss %.4f acc %.4f, validation loss %.4f acc %.4f\n", last.train_loss, last.train_acc,
              last.val_loss, last.val_acc);
  if (data.test.size() > 0) {
    const EvalResult t = evaluate(p, data, run, data.test);
    std::printf("test: loss %.4f acc %.4f (%ld images)\n", t.loss, t.accuracy, long(t.samples));
  }
  return 0;
}

}  // namespace
}  // namespace shallow::tools

int main(int argc, char** argv) {
  using namespace shallow::tools;
  cli::Parser p("shallow-train",
                "Trains conv(F) -> N residual layers (sequential or parallel) -> pool -> dense on a dataset;\n"
                "with --stages S > 1, S stages of N layers, each after the first at half the size and twice\n"
                "the width, with batch norm (see include/shallow/models/classifier.hpp); with --model fast,\n"
                "patch whitening and three groups of conv, pool, batch norm and N residual layers\n"
                "(include/shallow/models/cifar10_fast.hpp; --recipe cifar10-fast).");
  declare_training_flags(p);
  p.option("layout", "parallel", "sequential (deep) | parallel (shallow)")
      .option("save", "", "checkpoint file, replaced atomically after every epoch")
      .option("resume", "", "continue from this checkpoint (give the same flags as the first run); "
                            "a missing file starts the run afresh")
      .toggle("resume-with-changes", "let --resume continue with settings other than the checkpoint's")
      .option("metrics", "", "JSON lines, one per epoch of this run, rewritten atomically after every epoch")
      .integer_option("stop-after", "0", "stop after this epoch as if interrupted, to --resume later (0: run to --epochs)",
                      0, 1 << 20);
  return tool_main(argc, argv, p, main_body);
}
