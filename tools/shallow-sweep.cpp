// shallow-sweep: trains every configuration of a grid (or of one shard of
// it) and records each finished run: a CSV row, and its epochs in a JSON
// lines file beside it. Runs already recorded are skipped and the run in
// progress continues from its last epoch, so a re-run resumes; --merge
// combines the outputs of shards. The grid, the shards and the files live
// in support/sweep_*.hpp.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/datasets.hpp"
#include "support/run.hpp"
#include "support/sweep_grid.hpp"
#include "support/sweep_shards.hpp"
#include "support/sweep_table.hpp"
#include "support/tool_main.hpp"
#include "support/training_flags.hpp"

namespace shallow::tools {
namespace {

// The flags of one run as shallow-train would take them, parsed by the
// shared training flags, so a sweep trains exactly what shallow-train does
// (the layout goes to make_run instead).
cli::Parser run_flags(const cli::Parser& p, const sweep::Config& c) {
  cli::Parser q("shallow-sweep", "");
  declare_training_flags(q);
  std::vector<std::string> args = {"shallow-sweep"};
  for (std::size_t a = 0; a < sweep::axis_count; ++a)
    if (a != sweep::layout) args.insert(args.end(), {std::string("--") + sweep::axes[a].column, c.values[a]});
  args.insert(args.end(), {"--train-limit", std::to_string(c.train_limit), "--val-limit", std::to_string(c.val_limit),
                           "--holdout", p.text("holdout"), "--quiet"});
  if (!p.text("data").empty()) args.insert(args.end(), {"--data", p.text("data") + "/" + c[sweep::dataset]});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  q.parse(int(argv.size()), argv.data());
  return q;
}

// The run in progress checkpoints here after every epoch, so a stopped
// sweep loses at most an epoch of it.
std::string progress_path(const std::string& out) { return out + ".run.ckpt"; }

// The sweep-run id of a progress checkpoint's metadata ("" for none).
std::string sweep_run_of(const RunMetadata& m) {
  const auto it = m.settings.find("sweep-run");
  return it == m.settings.end() ? "" : it->second;
}

// Trains configuration c, continuing from the checkpoint at `progress` when
// that holds an earlier stop of the same run.
sweep::Result train(const cli::Parser& q, const Data& data, const sweep::Config& c, const std::string& progress) {
  Run run = make_run(q, data.train, parse_layout(c[sweep::layout]));
  sweep::Result r;
  r.params = long(parameter_count(run.net));
  r.q = double(data.train.size() * data.train.classes) / double(r.params);
  RunMetadata m;
  m.layout = c[sweep::layout];
  m.dataset = c[sweep::dataset];
  const std::string id = sweep::join(sweep::key(c), ',');
  m.settings["sweep-run"] = id;
  int first = 1;
  if (std::filesystem::exists(progress)) {
    const Checkpoint ck = load_checkpoint(progress);
    const RunMetadata stored = RunMetadata::read(ck, progress);
    if (sweep_run_of(stored) == id) {
      first = restore_run(progress, ck, stored, run);
      std::printf("%s: resumed from %s after epoch %d\n", sweep::describe(c).c_str(), progress.c_str(), first - 1);
    }
  }
  try {
    if (first <= c.whole(sweep::epochs))
      train_epochs(q, data, run, first, [&](Run& done) {
        save_run(progress, done, q, data, m);
        return true;
      });
  } catch (const NumericError& e) {
    // A diverged run is a result too (NaN losses), so a resume does not retry it forever.
    std::fprintf(stderr, "shallow-sweep: %s diverged: %s\n", sweep::describe(c).c_str(), e.what());
  }
  r.epochs = run.history;
  for (const auto& m : run.history) r.seconds += m.seconds;
  r.images_per_s = r.seconds > 0 ? double(data.train.size()) * double(run.history.size()) / r.seconds : 0;
  if (run.history.size() == std::size_t(c.whole(sweep::epochs))) {
    const EpochMetrics& last = run.history.back();
    r.train_loss = last.train_loss;
    r.val_loss = last.val_loss;
    r.train_acc = last.train_acc;
    r.val_acc = last.val_acc;
    // The paper's "training loss" is most likely the loss on the training
    // set itself, not a running mean over an epoch of moving weights.
    const EvalResult fit = evaluate(q, data, run, data.train);
    r.train_eval_loss = fit.loss;
    r.train_eval_acc = fit.accuracy;
    if (data.test.size() > 0) {
      const EvalResult t = evaluate(q, data, run, data.test);
      r.test_loss = t.loss;
      r.test_acc = t.accuracy;
    }
  } else {
    r.train_loss = r.val_loss = r.train_acc = r.val_acc = r.train_eval_loss = r.train_eval_acc = std::nan("");
  }
  return r;
}

int merge(const cli::Parser& p) {
  const auto& inputs = p.positional();
  if (inputs.empty()) throw cli::UsageError("--merge OUT needs the CSV files to merge after it");
  const std::string out = p.text("merge");
  check_writable(out);
  OutputLock lock(out);
  std::vector<sweep::Table> tables;
  std::map<std::vector<std::string>, std::vector<std::string>> epochs;
  std::size_t duplicates = 0;
  for (const auto& in : inputs) {
    if (!std::filesystem::exists(in)) throw IoError(in, "no such file");
    if (same_file(in, out)) throw cli::UsageError("--merge " + out + " is also one of its inputs");
    tables.push_back(sweep::read_csv(in));
    for (auto& [k, lines] : sweep::read_epochs(sweep::epochs_path(in))) epochs.emplace(k, lines);
  }
  const sweep::Table merged = sweep::merge(tables, &duplicates);
  // Only the epochs of runs that have a row.
  const auto keys = merged.keys();
  for (auto it = epochs.begin(); it != epochs.end();) it = keys.count(it->first) ? std::next(it) : epochs.erase(it);
  sweep::write_epochs(sweep::epochs_path(out), epochs);
  write_file_atomically(out, merged.text());
  std::printf("%s: %zu rows from %zu files (%zu duplicates dropped)\n", out.c_str(), merged.rows.size(),
              inputs.size(), duplicates);
  return 0;
}

sweep::Grid grid_from_flags(const cli::Parser& p) {
  if (!p.text("grid").empty() && !p.text("builtin").empty())
    throw cli::UsageError("give --grid FILE or --builtin NAME, not both");
  sweep::Grid grid(1);
  if (!p.text("grid").empty()) {
    grid = sweep::parse_grid_file(sweep::read_text(p.text("grid")), p.text("grid"));
  } else if (!p.text("builtin").empty()) {
    grid = parsed(p, "builtin", [](const std::string& s) { return sweep::builtin_grid(s); });
  }
  // An axis given as a flag replaces that axis in every product.
  for (const auto& a : sweep::axes)
    if (p.given(a.key)) {
      const auto values = parsed(p, a.key, [&](const std::string& s) { return sweep::flag_values(a, s); });
      for (auto& axes : grid) axes[a.key] = values;
    }
  return grid;
}

int main_body(cli::Parser& p) {
  p.check();
  if (!p.text("merge").empty()) return merge(p);
  if (!p.positional().empty()) throw cli::UsageError("unexpected argument '" + p.positional()[0] + "'");
  set_threads(p);
  sweep::Config base;
  base.train_limit = long(p.integer("train-limit"));
  base.val_limit = long(p.integer("val-limit"));
  base.threads = num_threads();
  const long holdout = long(p.integer("holdout"));
  std::vector<sweep::Config> all;
  try {
    all = sweep::expand(grid_from_flags(p), base);
  } catch (const ConfigError& e) {
    throw cli::UsageError(e.what());
  }
  const auto shard = parsed(p, "shard", [](const std::string& s) { return sweep::parse_shard(s); });
  // Every configuration is checked (its flags, its network) before any runs.
  std::vector<double> costs;
  for (const auto& c : all) {
    const cli::Parser q = run_flags(p, c);
    try {
      check_flags(q);
      costs.push_back(sweep::run_cost(c, holdout));
    } catch (const std::exception& e) {
      throw cli::UsageError(sweep::describe(c) + ": " + e.what());
    }
  }
  std::vector<double> load;
  const std::vector<long> shard_of = sweep::deal(costs, shard.second, &load);
  const std::string out = p.text("out");
  const bool list = p.flag("list");
  std::unique_ptr<OutputLock> lock;
  if (!list) {
    check_writable(out);
    check_writable(sweep::epochs_path(out));
    check_writable(progress_path(out));
    lock = std::make_unique<OutputLock>(out);
  }
  const auto done = sweep::read_csv(out).keys();
  // A stop between a run's row and the removal of its checkpoint leaves the
  // checkpoint of a finished run, which no later start would remove.
  if (!list && std::filesystem::exists(progress_path(out))) {
    const std::string path = progress_path(out);
    const std::string run = sweep_run_of(RunMetadata::read(load_checkpoint(path), path));
    for (const auto& k : done)
      if (sweep::join(k, ',') == run) {
        std::filesystem::remove(path);
        break;
      }
  }

  std::vector<std::size_t> mine;
  std::size_t todo = 0;
  for (std::size_t k = 0; k < all.size(); ++k)
    if (shard_of[k] == shard.first) {
      mine.push_back(k);
      todo += done.count(sweep::key(all[k])) == 0;
    }
  const double rate = p.number("gmacs") * 1e9;
  std::printf("shard %ld/%ld: %zu of %zu configurations, %zu done in %s, %zu to run; estimated %.2f core-hours\n",
              shard.first, shard.second, mine.size(), all.size(), mine.size() - todo, out.c_str(), todo,
              load[std::size_t(shard.first)] / rate / 3600);
  if (list) {
    for (long s = 0; s < shard.second; ++s)
      std::printf("  shard %ld: %.2f estimated core-hours\n", s, load[std::size_t(s)] / rate / 3600);
    for (const std::size_t k : mine)
      std::printf("%5zu %s  (%.3g h)%s\n", k, sweep::describe(all[k]).c_str(), costs[k] / rate / 3600,
                  done.count(sweep::key(all[k])) ? "  (done)" : "");
    return 0;
  }

  std::map<std::string, Data> data;  // loaded once per dataset
  std::size_t ran = 0;
  for (const std::size_t k : mine) {
    const sweep::Config& c = all[k];
    if (done.count(sweep::key(c))) continue;
    const cli::Parser q = run_flags(p, c);
    if (!data.count(c[sweep::dataset])) data.emplace(c[sweep::dataset], load_data(q));
    const sweep::Result r = train(q, data.at(c[sweep::dataset]), c, progress_path(out));
    sweep::append_run(out, c, r);
    std::filesystem::remove(progress_path(out));
    std::printf("[%zu/%zu] %s: %ld params, Q %.3g, train loss %.4f (eval %.4f), val loss %.4f, val acc %.4f, %.1f s\n",
                ++ran, todo, sweep::describe(c).c_str(), r.params, r.q, r.train_loss, r.train_eval_loss, r.val_loss,
                r.val_acc, r.seconds);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace shallow::tools

int main(int argc, char** argv) {
  using namespace shallow::tools;
  cli::Parser p("shallow-sweep",
                "Trains every configuration of a grid over dataset x layout x kernel x layers x filters x\n"
                "optimizer x lr x epochs x seed and records each finished run in --out (one CSV row) and\n"
                "--out.epochs.jsonl (its epochs). Runs already in --out are skipped and the run in progress\n"
                "continues from its last epoch in --out.run.ckpt (resume); --shard i/n runs one of n shards\n"
                "dealt by estimated cost. Axes are comma lists (--layers 1,2,4; --seeds K runs\n"
                "seeds 1..K), or come from --grid FILE (JSON: {\"layers\": [1, 2], ...}, or an array of such\n"
                "objects) or --builtin fig3|fig4|fig5|all (the paper's figures); axis flags given beside those\n"
                "replace that axis. Every run: batch 64, max-pool 4, ReLU, constant learning rate, no\n"
                "augmentation; validation on the test split, or with --holdout N on the last N training\n"
                "images (the test split is then evaluated once, at the end).\n"
                "  shallow-sweep --merge OUT.csv IN.csv...  combines CSVs (and their epochs), dropping repeats.");
  p.positionals("[IN.csv...]");
  for (const auto& a : shallow::tools::sweep::axes)
    p.option(a.key, a.defaults,
             a.kind == shallow::tools::sweep::AxisKind::seed_count ? "number of seeds K: runs seeds 1..K"
                                                                     : std::string("comma list of ") + a.key);
  p.option("grid", "", "JSON file with the axes")
      .option("builtin", "", "fig3 | fig4 | fig5 | all: the paper's grids")
      .integer_option("train-limit", "0", "train on the first N training images (0: all)")
      .integer_option("val-limit", "0", "validate on the first N validation images (0: all)")
      .integer_option("holdout", "0", "validate on the last N training images, kept out of training (0: the test split)")
      .option("data", "", "directory holding <dataset>/ directories (default: $SHALLOW_DATA)")
      .integer_option("threads", "0", "threads per run (0: all cores)", 0, 1024)
      .option("out", "sweep.csv", "CSV of finished runs: read to resume, rewritten atomically after each run")
      .option("shard", "0/1", "i/n: run only shard i of n, dealt by estimated cost")
      .number_option("gmacs", "45", "multiply-adds per second per run, in billions, for --list's estimated hours")
      .toggle("list", "print the shard's configurations, estimated hours and which are done, without running")
      .option("merge", "", "OUT: write the union of the CSV files given after the flags to OUT, and exit");
  return tool_main(argc, argv, p, main_body);
}
