// shallow-compare: trains the same network in both layouts, from the same
// initial weights, and prints them side by side. The main job of the README.
#include <cstdio>

#include <vector>

#include "support/datasets.hpp"
#include "support/recipes.hpp"
#include "support/run.hpp"
#include "support/tool_main.hpp"
#include "support/training_flags.hpp"

int main(int argc, char** argv) {
  namespace tools = shallow::tools;
  tools::prefer_passive_waiting(argv);
  cli::Parser p("shallow-compare",
                "Trains the study's network with a SequentialResidual and with a ParallelResidual stack\n"
                "(same parameters, same initial weights, same data order) and compares them.");
  tools::declare_training_flags(p);
  return tools::run_tool("shallow-compare", [&] {
    if (!p.parse(argc, argv)) return 0;
    tools::apply_recipe(p);
    tools::check_flags(p);
    tools::set_threads(p);
    const tools::Data data = tools::load_data(p);
    std::printf("dataset %s: %ld training, %ld validation images of %s, %ld classes; %d threads\n",
                p.text("dataset").c_str(), long(data.train.size()), long(data.val.size()),
                shallow::to_string(data.train.shape).c_str(), long(data.train.classes), shallow::num_threads());

    struct Row {
      const char* name;
      shallow::Index params;
      shallow::EpochMetrics last;
      double seconds_per_epoch;
    };
    std::vector<Row> rows;
    for (auto layout : {shallow::Layout::sequential, shallow::Layout::parallel}) {
      tools::Run run = tools::make_run(p, data.train, layout);
      const auto config = tools::model_config(p, data.train, layout);
      std::printf("\n%s: %ld parameters\n", shallow::describe(config).c_str(),
                  long(shallow::parameter_count(run.net)));
      std::fflush(stdout);
      tools::train_epochs(p, data, run, 1, [](tools::Run&) { return true; });
      double seconds = 0;
      for (const auto& m : run.history) seconds += m.seconds;
      rows.push_back({layout == shallow::Layout::sequential ? "sequential (deep)" : "parallel (shallow)",
                      shallow::parameter_count(run.net), run.history.back(),
                      seconds / double(run.history.size())});
    }

    std::printf("\n%-20s %10s %11s %9s %9s %10s %9s\n", "layout", "params", "train loss", "val loss", "val acc",
                "s/epoch", "images/s");
    for (const auto& r : rows)
      std::printf("%-20s %10ld %11.4f %9.4f %8.2f%% %10.1f %9.0f\n", r.name, long(r.params), r.last.train_loss,
                  r.last.val_loss, 100 * r.last.val_acc, r.seconds_per_epoch, r.last.images_per_s);
    std::printf("\nparallel / sequential speed: %.2fx\n", rows[0].seconds_per_epoch / rows[1].seconds_per_epoch);
    return 0;
  });
}
