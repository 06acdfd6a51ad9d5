// shallow-compare: trains the same network in both layouts, from the same
// initial weights, and prints them side by side. The main job of the README.
#include <cstdio>
#include <vector>

#include "support/datasets.hpp"
#include "support/recipes.hpp"
#include "support/run.hpp"
#include "support/tool_main.hpp"
#include "support/training_flags.hpp"

namespace shallow::tools {
namespace {

int main_body(cli::Parser& p) {
  apply_recipe(p);
  check_flags(p);
  set_threads(p);
  const Data data = load_data(p);
  std::printf("dataset %s: %ld training, %ld validation images of %s, %ld classes; %d threads\n",
              p.text("dataset").c_str(), long(data.train.size()), long(data.val.size()),
              to_string(data.train.shape).c_str(), long(data.train.classes), num_threads());
  struct Row {
    const char* name;
    Index params;
    EpochMetrics last;
    double seconds_per_epoch;
  };
  std::vector<Row> rows;
  for (const Layout layout : {Layout::sequential, Layout::parallel}) {
    Run run = make_run(p, data.train, layout);
    std::printf("\n%s: %ld parameters\n", describe_network(p, data.train, layout).c_str(),
                long(parameter_count(run.net)));
    std::fflush(stdout);
    train_epochs(p, data, run, 1, [](Run&) { return true; });
    double seconds = 0;
    for (const auto& m : run.history) seconds += m.seconds;
    rows.push_back({layout == Layout::sequential ? "sequential (deep)" : "parallel (shallow)",
                    parameter_count(run.net), run.history.back(), seconds / double(run.history.size())});
  }
  std::printf("\n%-20s %10s %11s %9s %9s %10s %9s\n", "layout", "params", "train loss", "val loss", "val acc",
              "s/epoch", "images/s");
  for (const auto& r : rows)
    std::printf("%-20s %10ld %11.4f %9.4f %8.2f%% %10.1f %9.0f\n", r.name, long(r.params), r.last.train_loss,
                r.last.val_loss, 100 * r.last.val_acc, r.seconds_per_epoch, r.last.images_per_s);
  std::printf("\nparallel / sequential speed: %.2fx\n", rows[0].seconds_per_epoch / rows[1].seconds_per_epoch);
  return 0;
}

}  // namespace
}  // namespace shallow::tools

int main(int argc, char** argv) {
  using namespace shallow::tools;
  cli::Parser p("shallow-compare",
                "Trains the study's network with a SequentialResidual and with a ParallelResidual stack\n"
                "(same parameters, same initial weights, same data order) and compares them.");
  declare_training_flags(p);
  return tool_main(argc, argv, p, main_body);
}
