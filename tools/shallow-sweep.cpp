// shallow-sweep: trains every configuration of a grid (or of one shard of
// it) and appends a CSV row per finished run; rows already present are
// skipped, so a re-run resumes. --merge combines the CSVs of shards.
// The grid, shards and CSV logic live in sweep.hpp.
#include <cstdio>
#include <map>

#include "support/sweep.hpp"
#include "support/training_setup.hpp"

namespace {

using namespace shallow;

// The flags of one run as shallow-train would take them, parsed by the
// shared training flags so a sweep trains exactly what shallow-train does.
cli::Parser run_flags(const cli::Parser& p, const std::string& dataset, std::vector<std::string> args) {
  cli::Parser q("shallow-sweep", "");
  tools::declare_training_flags(q);
  args.insert(args.end(), {"--dataset", dataset, "--train-limit", p.text("train-limit"), "--val-limit",
                           p.text("val-limit"), "--quiet"});
  if (!p.text("data").empty()) args.insert(args.end(), {"--data", p.text("data") + "/" + dataset});
  args.insert(args.begin(), "shallow-sweep");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  q.parse(int(argv.size()), argv.data());
  return q;
}

sweep::Result train(const cli::Parser& q, const tools::Data& data, const sweep::Config& c) {
  tools::Run run = tools::make_run(q, data.train, parse_layout(c.layout));
  sweep::Result r;
  r.params = long(parameter_count(run.net));
  r.q = double(data.train.size() * data.train.classes) / double(r.params);
  try {
    tools::train_epochs(q, data, run, 1, [](tools::Run&) { return true; });
  } catch (const NumericError& e) {
    // A diverged run is a result too (NaN losses), so a resume does not retry it forever.
    std::fprintf(stderr, "shallow-sweep: %s diverged: %s\n", sweep::describe(c).c_str(), e.what());
    r.train_loss = r.val_loss = r.train_acc = r.val_acc = std::nan("");
  }
  for (const auto& m : run.history) r.seconds += m.seconds;
  if (!run.history.empty() && run.history.size() == std::size_t(c.epochs)) {
    const EpochMetrics& last = run.history.back();
    r.train_loss = last.train_loss;
    r.val_loss = last.val_loss;
    r.train_acc = last.train_acc;
    r.val_acc = last.val_acc;
  }
  r.images_per_s = r.seconds > 0 ? double(data.train.size()) * double(run.history.size()) / r.seconds : 0;
  return r;
}

int merge(const cli::Parser& p) {
  const auto& inputs = p.positional();
  if (inputs.empty()) throw cli::UsageError("--merge OUT needs the CSV files to merge after it");
  std::vector<sweep::Table> tables;
  std::size_t rows = 0, duplicates = 0;
  for (const auto& in : inputs) {
    if (!std::filesystem::exists(in)) throw IoError(in, "no such file");
    tables.push_back(sweep::read_csv(in));
    rows += tables.back().rows.size();
  }
  const sweep::Table merged = sweep::merge(tables, &duplicates);
  write_file_atomically(p.text("merge"), merged.text());
  std::printf("%s: %zu rows from %zu files (%zu duplicates dropped)\n", p.text("merge").c_str(),
              merged.rows.size(), inputs.size(), duplicates);
  return 0;
}

sweep::Grid grid_from_flags(const cli::Parser& p) {
  if (!p.text("grid").empty() && !p.text("builtin").empty())
    throw cli::UsageError("give --grid FILE or --builtin NAME, not both");
  sweep::Grid grid(1);
  if (!p.text("grid").empty()) {
    const Bytes text = read_file(p.text("grid"));
    grid = sweep::parse_grid_file(std::string(text.begin(), text.end()), p.text("grid"));
  } else if (!p.text("builtin").empty()) {
    try {
      grid = sweep::builtin_grid(p.text("builtin"));
    } catch (const Error& e) {
      throw cli::UsageError(std::string("--builtin: ") + e.what());
    }
  }
  // An axis given as a flag replaces that axis in every product.
  for (const auto& a : sweep::axes_defaults)
    if (p.given(a.name))
      for (auto& axes : grid) axes[a.name] = sweep::split(p.text(a.name), ',');
  return grid;
}

}  // namespace

int main(int argc, char** argv) {
  tools::prefer_passive_waiting(argv);
  cli::Parser p("shallow-sweep",
                "Trains every configuration of a grid over dataset x layout x layers x filters x kernel x\n"
                "optimizer x lr x epochs x seed and appends one CSV row per finished run to --out. Rows already\n"
                "in --out are skipped (resume); --shard i/n runs the configurations k with k % n == i.\n"
                "Axes are comma lists (--layers 1,2,4), or come from --grid FILE (JSON: {\"layers\": [1, 2],\n"
                "...}, or an array of such objects) or --builtin fig3|fig4|fig5|all (the paper's figures);\n"
                "axis flags given beside those replace that axis. Every run: batch 64, max-pool 4, ReLU,\n"
                "constant learning rate, no augmentation, validation on the test split.\n"
                "  shallow-sweep --merge OUT.csv IN.csv...  combines CSVs, dropping repeated runs.");
  for (const auto& a : sweep::axes_defaults) p.option(a.name, a.values, std::string("comma list of ") + a.name);
  p.option("grid", "", "JSON file with the axes")
      .option("builtin", "", "fig3 | fig4 | fig5 | all: the paper's grids")
      .integer_option("train-limit", "0", "train on the first N training images (0: all)")
      .integer_option("val-limit", "0", "validate on the first N test images (0: all)")
      .option("data", "", "directory holding <dataset>/ directories (default: $SHALLOW_DATA)")
      .integer_option("threads", "0", "threads per run (0: all cores)", 0, 1024)
      .option("out", "sweep.csv", "CSV of finished runs: read to resume, rewritten atomically after each run")
      .option("shard", "0/1", "i/n: run only configurations k with k % n == i")
      .toggle("list", "print the shard's configurations (and which are done) without running")
      .option("merge", "", "OUT: write the union of the CSV files given after the flags to OUT, and exit");
  return tools::run_tool("shallow-sweep", [&] {
    if (!p.parse(argc, argv)) return 0;
    p.check();
    if (!p.text("merge").empty()) return merge(p);
    if (!p.positional().empty()) throw cli::UsageError("unexpected argument '" + p.positional()[0] + "'");
    tools::set_threads(p);
    const long train_limit = long(p.integer("train-limit")), val_limit = long(p.integer("val-limit"));
    const sweep::Grid grid = grid_from_flags(p);
    std::vector<sweep::Config> all;
    try {
      all = sweep::expand(grid, train_limit, val_limit);
    } catch (const IoError&) {
      throw;
    } catch (const Error& e) {
      throw cli::UsageError(e.what());
    }
    std::pair<long, long> shard;
    try {
      shard = sweep::parse_shard(p.text("shard"));
    } catch (const Error& e) {
      throw cli::UsageError(e.what());
    }
    const auto mine = sweep::shard(all, shard.first, shard.second);
    const std::string out = p.text("out");
    const auto done = sweep::read_csv(out).keys();

    std::size_t todo = 0;
    for (const auto& c : mine) todo += done.count(sweep::key(c)) == 0;
    std::printf("shard %ld/%ld: %zu of %zu configurations, %zu done in %s, %zu to run\n", shard.first,
                shard.second, mine.size(), all.size(), mine.size() - todo, out.c_str(), todo);
    if (p.flag("list")) {
      for (std::size_t k = std::size_t(shard.first), i = 0; i < mine.size(); ++i, k += std::size_t(shard.second))
        std::printf("%5zu %s%s\n", k, sweep::describe(mine[i]).c_str(),
                    done.count(sweep::key(mine[i])) ? "  (done)" : "");
      return 0;
    }

    std::map<std::string, tools::Data> data;  // loaded once per dataset
    std::size_t ran = 0;
    for (const auto& c : mine) {
      if (done.count(sweep::key(c))) continue;
      const cli::Parser q = run_flags(
          p, c.dataset,
          {"--layers", std::to_string(c.layers), "--filters", std::to_string(c.filters), "--kernel",
           std::to_string(c.kernel), "--optimizer", c.optimizer, "--lr", format_number(c.lr), "--epochs",
           std::to_string(c.epochs), "--seed", std::to_string(c.seed)});
      if (!data.count(c.dataset)) data.emplace(c.dataset, tools::load_data(q));
      const sweep::Result r = train(q, data.at(c.dataset), c);
      sweep::append_row(out, sweep::csv_row(c, r));
      std::printf("[%zu/%zu] %s: %ld params, Q %.3g, train loss %.4f, val loss %.4f, val acc %.4f, %.1f s\n", ++ran,
                  todo, sweep::describe(c).c_str(), r.params, r.q, r.train_loss, r.val_loss, r.val_acc, r.seconds);
      std::fflush(stdout);
    }
    return 0;
  });
}
