// shallow-train: trains the paper's network (or its staged form) in one layout, with a checkpoint
// after every epoch and exact resumption.
//
// The network (see include/shallow/model.hpp): conv2d (input channels -> F,
// k x k, 'same') + activation, then N residual layers of F filters (k x k)
// in the chosen layout, then max-pool P x P (or global average pooling with
// --pool 0), flatten, and a dense layer to the classes. With --stages S > 1,
// S such residual stacks, each later one behind a stride-2 conv that doubles
// the width, with batch norm after every conv outside the stacks. Softmax
// cross-entropy loss.
#include <cstdio>
#include <sstream>

#include "support/training_setup.hpp"

namespace {

using namespace shallow;

std::string join_numbers(const std::vector<double>& v) {
  std::string s;
  for (double x : v) s += (s.empty() ? "" : " ") + format_number(x);
  return s;
}

std::string history_lines(const std::vector<EpochMetrics>& history) {
  std::string lines;
  for (const auto& m : history) lines += to_json(m) + "\n";
  return lines;
}

// The weights, the optimizer state and the epoch: with the same flags, all
// that determines the rest of a run. The rest is for shallow-predict and
// for people.
void save(const std::string& path, tools::Run& run, const cli::Parser& p, const tools::Data& data) {
  const Dataset& train = data.train;
  Checkpoint ck = capture(run.net, run.optimizer.get());
  ck.optimizer = p.text("optimizer");
  ck.metadata["epoch"] = std::to_string(run.history.back().epoch);
  ck.metadata["layout"] = p.text("layout");
  ck.metadata["dataset"] = p.text("dataset");
  ck.metadata["input"] = to_string(train.shape);
  std::string names;
  for (const auto& n : train.class_names) names += n + "\n";
  ck.metadata["class_names"] = names;
  ck.metadata["metrics"] = history_lines(run.history);
  ck.metadata["mean"] = join_numbers(data.norm.mean());
  ck.metadata["std"] = join_numbers(data.norm.stddev());
  save_checkpoint(path, ck);
}

// Restores weights, optimizer state and history; returns the next epoch.
int resume(const std::string& path, tools::Run& run, const cli::Parser& p) {
  const Checkpoint ck = load_checkpoint(path);
  if (ck.metadata.count("epoch") == 0 || ck.metadata.count("metrics") == 0)
    throw FormatError(path, "is not a shallow-train checkpoint (no epoch or metrics)");
  if (ck.optimizer != p.text("optimizer"))
    throw cli::UsageError(path + " was trained with --optimizer " + ck.optimizer + ", not " + p.text("optimizer"));
  try {
    restore(ck, run.net, run.optimizer.get());
  } catch (const Error& e) {
    throw Error(path + ": cannot resume these flags from it: " + e.what());
  }
  std::istringstream lines(ck.metadata.at("metrics"));
  for (std::string line; std::getline(lines, line);) run.history.push_back(metrics_from_json(line, path));
  const int epoch = std::stoi(ck.metadata.at("epoch"));
  if (run.history.empty() || run.history.back().epoch != epoch)
    throw FormatError(path, "its metrics do not end at its epoch " + std::to_string(epoch));
  return epoch + 1;
}

}  // namespace

int main(int argc, char** argv) {
  tools::prefer_passive_waiting(argv);
  cli::Parser p("shallow-train",
                "Trains conv(F) -> N residual layers (sequential or parallel) -> pool -> dense on a dataset;\n"
                "with --stages S > 1, S stages of N layers, each after the first at half the size and twice\n"
                "the width, with batch norm (see include/shallow/model.hpp).");
  tools::declare_training_flags(p);
  p.option("layout", "parallel", "sequential (deep) | parallel (shallow)")
      .option("save", "", "checkpoint file, replaced atomically after every epoch")
      .option("resume", "", "continue from this checkpoint (give the same flags as the first run)")
      .option("metrics", "", "JSON lines, one per epoch of this run, rewritten atomically after every epoch")
      .integer_option("stop-after", "0", "stop after this epoch as if interrupted, to --resume later (0: run to --epochs)",
                      0, 1 << 20);
  return tools::run_tool("shallow-train", [&] {
    if (!p.parse(argc, argv)) return 0;
    tools::apply_recipe(p);
    tools::check_flags(p);
    tools::set_threads(p);
    const Layout layout = tools::layout_flag(p);
    const tools::Data data = tools::load_data(p);
    tools::Run run = tools::make_run(p, data.train, layout);
    std::printf("%s on %s (%ld training, %ld validation images of %s): %ld parameters, %d threads\n",
                describe(tools::model_config(p, data.train, layout)).c_str(), p.text("dataset").c_str(),
                long(data.train.size()), long(data.val.size()), to_string(data.train.shape).c_str(),
                long(parameter_count(run.net)), num_threads());
    std::fflush(stdout);

    int first = 1;
    if (!p.text("resume").empty()) {
      first = resume(p.text("resume"), run, p);
      std::printf("resumed from %s after epoch %d\n", p.text("resume").c_str(), first - 1);
    }
    const std::string save_path = p.text("save"), metrics_path = p.text("metrics");
    const int stop_after = int(p.integer("stop-after"));
    tools::train_epochs(p, data, run, first, [&](tools::Run& r) {
      if (!save_path.empty()) save(save_path, r, p, data);
      if (!metrics_path.empty()) write_file_atomically(metrics_path, history_lines(r.history));
      return r.history.back().epoch != stop_after;
    });
    if (run.history.empty()) throw cli::UsageError("nothing to do: the checkpoint is already at --epochs");
    const EpochMetrics& last = run.history.back();
    std::printf("final: train loss %.4f acc %.4f, validation loss %.4f acc %.4f\n", last.train_loss,
                last.train_acc, last.val_loss, last.val_acc);
    if (data.test.size() > 0) {
      const EvalResult t = tools::evaluate(p, data, run, data.test);
      std::printf("test: loss %.4f acc %.4f (%ld images)\n", t.loss, t.accuracy, long(t.samples));
    }
    return 0;
  });
}
