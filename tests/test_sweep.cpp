// shallow-sweep's grid, shards and files (tools/support/sweep_*.hpp): grid
// sizes, canonical values, cost-balanced shards that partition the grid,
// JSON grid files, keys that make resume skip exactly the finished runs,
// epoch records, and merging.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>

#include "../tools/support/sweep_grid.hpp"
#include "../tools/support/sweep_shards.hpp"
#include "../tools/support/sweep_table.hpp"
#include "test_files.hpp"

namespace sweep = shallow::tools::sweep;
using shallow::EpochMetrics;

namespace {

sweep::Config base(long train_limit = 0, long val_limit = 0, long threads = 1) {
  sweep::Config c;
  c.train_limit = train_limit;
  c.val_limit = val_limit;
  c.threads = threads;
  return c;
}

sweep::Result some_result(long params, int epochs = 1) {
  sweep::Result r;
  r.params = params;
  r.q = 2000.0 * 10 / double(params);
  r.train_loss = 0.25;
  r.val_loss = 0.5;
  r.train_acc = 0.9;
  r.val_acc = 0.875;
  r.train_eval_loss = 0.125;
  r.train_eval_acc = 0.96875;
  r.seconds = 1.5;
  r.images_per_s = 1333.25;
  for (int e = 1; e <= epochs; ++e) {
    EpochMetrics m;
    m.epoch = e;
    m.train_loss = 1.0 / e;
    r.epochs.push_back(m);
  }
  return r;
}

}  // namespace

TEST_CASE("grids from flags and built-in figures have the expected sizes", "[sweep]") {
  sweep::Grid g(1);
  CHECK(sweep::expand(g, base()).size() == 2);  // defaults: both layouts
  g[0]["datasets"] = {"mnist", "cifar10"};
  g[0]["layers"] = {"1", "2", "4"};
  g[0]["lrs"] = {"0.001", "1e-3", "1.00E-03", "0.01"};  // three spellings of 0.001
  CHECK(sweep::expand(g, base()).size() == 2 * 2 * 3 * 2);

  CHECK(sweep::expand(sweep::builtin_grid("fig3"), base()).size() == 48);
  CHECK(sweep::expand(sweep::builtin_grid("fig4"), base()).size() == 48);
  const auto fig5 = sweep::expand(sweep::builtin_grid("fig5"), base());
  CHECK(fig5.size() == 48);
  CHECK(std::all_of(fig5.begin(), fig5.end(),
                    [](const sweep::Config& c) { return c.whole(sweep::layers) * c.whole(sweep::filters) == 32; }));
  // Figures 3 and 4 share layers=16 filters=1, 3 and 5 layers=32 filters=1,
  // 4 and 5 layers=16 filters=2: 3 x 8 configurations run once, not twice.
  CHECK(sweep::expand(sweep::builtin_grid("all"), base()).size() == 3 * 48 - 3 * 8);
  CHECK_THROWS_WITH(sweep::builtin_grid("fig6"), Catch::Contains("unknown built-in grid 'fig6'"));

  // --seeds K is a count; in a grid a list.
  g = sweep::Grid(1);
  g[0]["seeds"] = sweep::flag_values(sweep::axes[sweep::seed], "3");
  const auto seeded = sweep::expand(g, base());
  REQUIRE(seeded.size() == 6);
  CHECK(seeded[0][sweep::seed] == "1");
  CHECK(seeded[2][sweep::seed] == "3");
  CHECK_THROWS_AS(sweep::flag_values(sweep::axes[sweep::seed], "0"), shallow::ConfigError);
}

TEST_CASE("grid values are checked against shallow-train's ranges and written canonically", "[sweep]") {
  sweep::Grid g(1);
  g[0]["layouts"] = {"deep", "shallow"};
  g[0]["lrs"] = {"1.00E-03"};
  g[0]["layers"] = {"08"};
  const auto all = sweep::expand(g, base(500, 100, 2));
  REQUIRE(all.size() == 2);
  CHECK(all[0][sweep::layout] == "sequential");
  CHECK(all[1][sweep::layout] == "parallel");
  CHECK(all[0][sweep::lr] == "0.001");
  CHECK(all[0][sweep::layers] == "8");
  CHECK(all[0].train_limit == 500);
  // The key holds every axis, the subset, the thread count and the version.
  const auto k = sweep::key(all[0]);
  REQUIRE(k.size() == sweep::key_size);
  CHECK(k[sweep::axis_count + 2] == "2");
  CHECK(k.back() == shallow::version);

  const auto bad = [](const char* axis, const char* value) {
    sweep::Grid b(1);
    b[0][axis] = {value};
    return message_of<shallow::ConfigError>([&] { sweep::expand(b, base()); });
  };
  CHECK_THAT(bad("layers", "0"), Catch::Contains("layers: '0' is out of range 1..4096"));
  CHECK_THAT(bad("layers", "5000"), Catch::Contains("layers: '5000' is out of range 1..4096"));
  CHECK_THAT(bad("filters", "4x"), Catch::Contains("filters: '4x' is not a whole number"));
  CHECK_THAT(bad("kernels", "2.5"), Catch::Contains("kernels: '2.5' is not a whole number"));
  CHECK_THAT(bad("datasets", "imagenet"), Catch::Contains("datasets: 'imagenet' is not one of"));
  CHECK_THAT(bad("layouts", "diagonal"), Catch::Contains("layouts: 'diagonal' is not a layout"));
  CHECK_THAT(bad("optimizers", "lbfgs"), Catch::Contains("optimizers: 'lbfgs' is not one of"));
  CHECK_THAT(bad("lrs", "-1"), Catch::Contains("lrs: '-1' is not a positive number"));
  CHECK_THAT(bad("lrs", "nan"), Catch::Contains("lrs: 'nan' is not a positive number"));
}

TEST_CASE("shards are dealt by cost: deterministic, disjoint, together the grid, and balanced", "[sweep]") {
  const auto all = sweep::expand(sweep::builtin_grid("all"), base(5000, 1000));
  std::vector<double> costs;
  for (const auto& c : all) costs.push_back(sweep::run_cost(c, 0));
  // The cost model follows the network: twice the layers, about twice the cost.
  sweep::Config one = all[0], two = all[0];
  one.values[sweep::layers] = "8";
  two.values[sweep::layers] = "16";
  one.values[sweep::filters] = two.values[sweep::filters] = "16";
  CHECK(sweep::run_cost(two, 0) / sweep::run_cost(one, 0) == Approx(2).epsilon(0.1));
  for (long n : {1L, 2L, 3L, 7L, 32L, 120L, 200L}) {
    std::vector<double> load;
    const auto shard_of = sweep::deal(costs, n, &load);
    CHECK(shard_of == sweep::deal(costs, n));  // the same partition on every call
    REQUIRE(shard_of.size() == all.size());
    std::vector<double> sum(std::size_t(n), 0.0);
    for (std::size_t k = 0; k < all.size(); ++k) {
      REQUIRE(shard_of[k] >= 0);
      REQUIRE(shard_of[k] < n);
      sum[std::size_t(shard_of[k])] += costs[k];
    }
    CHECK(sum == load);
    // Greedy dealing, longest first: no shard exceeds the average by more
    // than the longest run.
    const double average = std::accumulate(costs.begin(), costs.end(), 0.0) / double(n);
    const double longest = *std::max_element(costs.begin(), costs.end());
    CHECK(*std::max_element(load.begin(), load.end()) <= average + longest);
  }
  // Round-robin put 70x the work of the lightest shard on the heaviest; by
  // cost, with 32 shards, the spread is within one long run.
  std::vector<double> load;
  sweep::deal(costs, 32, &load);
  const double longest = *std::max_element(costs.begin(), costs.end());
  CHECK(*std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end()) <= longest);

  CHECK(sweep::parse_shard("3/4") == std::make_pair(3L, 4L));
  for (const char* bad : {"4/4", "1", "a/2", "1/0", "-1/2", "1/2/3"})
    CHECK_THROWS_WITH(sweep::parse_shard(bad), Catch::Contains("--shard must be i/n"));
}

TEST_CASE("grid files: objects, arrays of objects, scalars, and clear errors", "[sweep]") {
  const auto g = sweep::parse_grid_file(
      "{\n  \"datasets\": [\"mnist\", \"cifar10\"],\n  \"layers\": [1, 2, 4,],\n  \"lrs\": 0.002\n}\n", "g.json");
  REQUIRE(g.size() == 1);
  CHECK(g[0].at("layers") == std::vector<std::string>{"1", "2", "4"});
  CHECK(g[0].at("lrs") == std::vector<std::string>{"0.002"});
  CHECK(sweep::expand(g, base()).size() == 2 * 3 * 2);

  const auto fig = sweep::parse_grid_file(R"([{"layers": [1], "filters": [32]}, {"layers": [32], "filters": 1}])",
                                          "fig.json");
  CHECK(sweep::expand(fig, base()).size() == 4);

  const auto error = [](const std::string& text) {
    return message_of<shallow::FormatError>([&] { sweep::parse_grid_file(text, "g.json"); });
  };
  CHECK_THAT(error("{\"layer\": [1]}"), Catch::Contains("g.json: unknown key \"layer\""));
  CHECK_THAT(error("{\"layers\": [1 2]}"), Catch::Contains("g.json: line 1, column 15: expected ',' or ']'"));
  CHECK_THAT(error("{\"layers\": [1]"), Catch::Contains("expected ',' or '}'"));
  CHECK_THAT(error("{\"layers\": []}"), Catch::Contains("\"layers\" has no values"));
  CHECK_THAT(error("{\"layers\": [1], \"layers\": [2]}"), Catch::Contains("appears twice"));
  CHECK_THAT(error("{\"layers\": [1]} x"), Catch::Contains("unexpected text after the value"));
  CHECK_THAT(error("\n\n  [1]"), Catch::Contains("a grid is an object of axes"));
  CHECK_THAT(error("{\"datasets\": [\"mnist]}"), Catch::Contains("unterminated string"));
  CHECK_THAT(error("{\"layers\": [[1]]}"), Catch::Contains("neither a string nor a number"));
  CHECK_THAT(error(std::string(200, '[')), Catch::Contains("nested deeper than 64 levels"));
}

TEST_CASE("CSV rows carry their key: resume skips exactly the finished runs", "[sweep]") {
  TempDir dir;
  const std::string out = dir.file("sweep.csv");
  sweep::Grid g(1);
  g[0]["layers"] = {"1", "2"};
  const auto all = sweep::expand(g, base(200, 100));
  REQUIRE(all.size() == 4);

  CHECK(sweep::read_csv(out).rows.empty());  // no file yet: nothing done
  sweep::append_run(out, all[1], some_result(520, 2));
  sweep::append_run(out, all[2], some_result(530, 2));
  const sweep::Table t = sweep::read_csv(out);
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].size() == sweep::columns().size());
  CHECK(sweep::join(t.rows[0], ',') == "mnist,sequential,3,2,16,adam,0.001,1,1,200,100,1," +
                                           std::string(shallow::version) +
                                           ",520,38.46153846153846,0.25,0.5,0.9,0.875,0.125,0.96875,nan,nan,1.5,1333.25");

  const auto done = t.keys();
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (!done.count(sweep::key(all[i]))) pending.push_back(i);
  CHECK(pending == std::vector<std::size_t>{0, 3});

  // Another subset, thread count or epoch count is another run.
  CHECK_FALSE(done.count(sweep::key(sweep::expand(g, base(300, 100))[1])));
  CHECK_FALSE(done.count(sweep::key(sweep::expand(g, base(200, 100, 2))[1])));
  g[0]["epochs"] = {"2"};
  CHECK_FALSE(done.count(sweep::key(sweep::expand(g, base(200, 100))[1])));

  // Each run's epochs sit beside the CSV, keyed like its row; a killed
  // attempt's epochs are replaced, not repeated.
  sweep::append_run(out, all[1], some_result(520, 3));
  const auto epochs = sweep::read_epochs(sweep::epochs_path(out));
  REQUIRE(epochs.size() == 2);
  CHECK(epochs.at(sweep::key(all[1])).size() == 3);
  CHECK(epochs.at(sweep::key(all[2])).size() == 2);
  CHECK_THAT(epochs.at(sweep::key(all[2]))[1], Catch::Contains("\"epoch\": 2"));
}

TEST_CASE("CSV files are checked field by field, and keys compare canonically", "[sweep]") {
  const std::string header = sweep::join(sweep::columns(), ',');
  const std::string good =
      "mnist,sequential,3,2,16,adam,0.001,1,1,200,100,1,0.2.0,520,38.4,0.25,0.5,0.9,0.875,0.125,0.9,nan,nan,1.5,1333";
  std::string spelled = good;
  spelled.replace(spelled.find("0.001"), 5, "1.00E-03");
  const auto t = sweep::parse_csv(header + "\n" + spelled + "\n", "s.csv");
  CHECK(t.rows[0][sweep::lr] == "0.001");  // the same run as 0.001: a resume skips it, a merge keeps one
  CHECK(t.keys() == sweep::parse_csv(header + "\n" + good + "\n", "g.csv").keys());

  const auto error = [&](const std::string& text) {
    return message_of<shallow::FormatError>([&] { sweep::parse_csv(text, "bad.csv"); });
  };
  CHECK_THAT(error("dataset,layout\nmnist,parallel\n"), Catch::Contains("bad.csv: its header 'dataset,layout'"));
  CHECK_THAT(error(header + "\nmnist,parallel\n"), Catch::Contains("bad.csv: line 2 has 2 fields, not 25"));
  // Twenty-five fields of garbage are still garbage.
  CHECK_THAT(error(header + "\n" + std::string(24, ',') + "\n"), Catch::Contains("bad.csv: line 2: datasets"));
  std::string wrong = good;
  wrong.replace(wrong.find("520"), 3, "many");
  CHECK_THAT(error(header + "\n" + wrong + "\n"), Catch::Contains("line 2: params 'many' is not a number"));
  CHECK_THAT(error("\x01\x02" "binary\n"), Catch::Contains("its header '??binary'"));
}

TEST_CASE("merge keeps the first row of each key", "[sweep]") {
  sweep::Grid g(1);
  g[0]["layers"] = {"1", "2", "4"};
  const auto all = sweep::expand(g, base());
  sweep::Table a, b;
  for (std::size_t i = 0; i < 4; ++i) a.rows.push_back(sweep::row(all[i], some_result(100)));
  for (std::size_t i = 2; i < 6; ++i) b.rows.push_back(sweep::row(all[i], some_result(200)));
  std::size_t duplicates = 0;
  const sweep::Table m = sweep::merge({a, b}, &duplicates);
  CHECK(duplicates == 2);
  REQUIRE(m.rows.size() == 6);
  const std::size_t params = sweep::key_size;
  CHECK(m.rows[3][params] == "100");  // from a, the first table holding that key
  CHECK(m.rows[4][params] == "200");
  CHECK(sweep::parse_csv(m.text(), "m.csv").rows == m.rows);
}
