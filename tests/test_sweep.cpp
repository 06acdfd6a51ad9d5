// shallow-sweep's grid, shards and CSV (examples/sweep.hpp): grid sizes,
// shards that partition the grid, JSON grid files, keys that make resume
// skip exactly the finished runs, and merging.
#include <catch2/catch.hpp>

#include <algorithm>

#include "../tools/support/sweep.hpp"
#include "test_files.hpp"

namespace {

sweep::Result some_result(long params) {
  sweep::Result r;
  r.params = params;
  r.q = 2000.0 * 10 / double(params);
  r.train_loss = 0.25;
  r.val_loss = 0.5;
  r.train_acc = 0.9;
  r.val_acc = 0.875;
  r.seconds = 1.5;
  r.images_per_s = 1333.25;
  return r;
}

}  // namespace

TEST_CASE("grids from flags and built-in figures have the expected sizes", "[sweep]") {
  sweep::Grid g(1);
  CHECK(sweep::expand(g, 0, 0).size() == 2);  // defaults: both layouts
  g[0]["datasets"] = {"mnist", "cifar10"};
  g[0]["layers"] = {"1", "2", "4"};
  g[0]["lrs"] = {"0.001", "1e-3", "0.01"};  // 1e-3 is 0.001 again
  CHECK(sweep::expand(g, 0, 0).size() == 2 * 2 * 3 * 2);

  CHECK(sweep::expand(sweep::builtin_grid("fig3"), 0, 0).size() == 48);
  CHECK(sweep::expand(sweep::builtin_grid("fig4"), 0, 0).size() == 48);
  const auto fig5 = sweep::expand(sweep::builtin_grid("fig5"), 0, 0);
  CHECK(fig5.size() == 48);
  CHECK(std::all_of(fig5.begin(), fig5.end(), [](const sweep::Config& c) { return c.layers * c.filters == 32; }));
  // Figures 3 and 4 share layers=16 filters=1, 3 and 5 layers=32 filters=1,
  // 4 and 5 layers=16 filters=2: 3 x 8 configurations run once, not twice.
  CHECK(sweep::expand(sweep::builtin_grid("all"), 0, 0).size() == 3 * 48 - 3 * 8);
  CHECK_THROWS_WITH(sweep::builtin_grid("fig6"), Catch::Contains("unknown built-in grid 'fig6'"));
}

TEST_CASE("grid values are checked and written canonically", "[sweep]") {
  sweep::Grid g(1);
  g[0]["layouts"] = {"deep", "shallow"};
  g[0]["lrs"] = {"1e-3"};
  const auto all = sweep::expand(g, 500, 100);
  REQUIRE(all.size() == 2);
  CHECK(all[0].layout == "sequential");
  CHECK(all[1].layout == "parallel");
  CHECK(sweep::key(all[0])[6] == "0.001");
  CHECK(all[0].train_limit == 500);

  const auto bad = [](const char* axis, const char* value) {
    sweep::Grid b(1);
    b[0][axis] = {value};
    return message_of<shallow::Error>([&] { sweep::expand(b, 0, 0); });
  };
  CHECK_THAT(bad("layers", "0"), Catch::Contains("layers: '0' is not a whole number >= 1"));
  CHECK_THAT(bad("filters", "4x"), Catch::Contains("filters: '4x'"));
  CHECK_THAT(bad("datasets", "imagenet"), Catch::Contains("datasets: unknown value 'imagenet'"));
  CHECK_THAT(bad("layouts", "diagonal"), Catch::Contains("layouts: unknown layout 'diagonal'"));
  CHECK_THAT(bad("optimizers", "lbfgs"), Catch::Contains("optimizers: unknown value 'lbfgs'"));
  CHECK_THAT(bad("lrs", "-1"), Catch::Contains("lrs: '-1' is not a positive number"));
}

TEST_CASE("shards are deterministic, pairwise disjoint and together the grid", "[sweep]") {
  const auto all = sweep::expand(sweep::builtin_grid("all"), 2000, 1000);
  std::set<std::vector<std::string>> grid_keys;
  for (const auto& c : all) grid_keys.insert(sweep::key(c));
  REQUIRE(grid_keys.size() == all.size());
  for (long n : {1L, 2L, 3L, 7L, 120L, 200L}) {
    std::set<std::vector<std::string>> seen;
    std::size_t total = 0, smallest = all.size(), largest = 0;
    for (long i = 0; i < n; ++i) {
      const auto mine = sweep::shard(all, i, n);
      const auto again = sweep::shard(all, i, n);
      CHECK(std::equal(mine.begin(), mine.end(), again.begin(), again.end(),
                       [](const auto& x, const auto& y) { return sweep::key(x) == sweep::key(y); }));
      total += mine.size();
      smallest = std::min(smallest, mine.size());
      largest = std::max(largest, mine.size());
      for (const auto& c : mine) CHECK(seen.insert(sweep::key(c)).second);  // in no other shard
    }
    CHECK(total == all.size());
    CHECK(seen == grid_keys);
    if (n <= long(all.size())) CHECK(largest - smallest <= 1);
  }
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
  CHECK(sweep::expand(g, 0, 0).size() == 2 * 3 * 2);

  const auto fig = sweep::parse_grid_file(R"([{"layers": [1], "filters": [32]}, {"layers": [32], "filters": 1}])",
                                          "fig.json");
  CHECK(sweep::expand(fig, 0, 0).size() == 4);

  const auto error = [](const std::string& text) {
    return message_of<shallow::FormatError>([&] { sweep::parse_grid_file(text, "g.json"); });
  };
  CHECK_THAT(error("{\"layer\": [1]}"), Catch::Contains("g.json: line 1, column 2: unknown key \"layer\""));
  CHECK_THAT(error("{\"layers\": [1 2]}"), Catch::Contains("column 15: expected ',' or ']'"));
  CHECK_THAT(error("{\"layers\": [1]"), Catch::Contains("expected ',' or '}'"));
  CHECK_THAT(error("{\"layers\": []}"), Catch::Contains("\"layers\" has no values"));
  CHECK_THAT(error("{\"layers\": [1], \"layers\": [2]}"), Catch::Contains("appears twice"));
  CHECK_THAT(error("{\"layers\": [1]} x"), Catch::Contains("unexpected text after the grid"));
  CHECK_THAT(error("\n\n  [1]"), Catch::Contains("line 3, column 4: expected '{'"));
  CHECK_THAT(error("{\"datasets\": [\"mnist]}"), Catch::Contains("unterminated string"));
}

TEST_CASE("CSV rows carry their key: resume skips exactly the finished runs", "[sweep]") {
  TempDir dir;
  const std::string out = dir.file("sweep.csv");
  sweep::Grid g(1);
  g[0]["layers"] = {"1", "2"};
  const auto all = sweep::expand(g, 200, 100);
  REQUIRE(all.size() == 4);

  CHECK(sweep::read_csv(out).rows.empty());  // no file yet: nothing done
  sweep::append_row(out, sweep::csv_row(all[1], some_result(520)));
  sweep::append_row(out, sweep::csv_row(all[2], some_result(530)));
  const sweep::Table t = sweep::read_csv(out);
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0].size() == sweep::columns.size());
  CHECK(sweep::join(t.rows[0], ',') ==
        "mnist,sequential,2,16,3,adam,0.001,200,100,520,38.46153846153846,0.25,0.5,0.9,0.875,1,1.5,1333.25,1," +
            std::string(shallow::version));
  CHECK(sweep::row_key(t.rows[0]) == sweep::key(all[1]));

  const auto done = t.keys();
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (!done.count(sweep::key(all[i]))) pending.push_back(i);
  CHECK(pending == std::vector<std::size_t>{0, 3});

  // Another subset or more epochs is another run.
  CHECK_FALSE(done.count(sweep::key(sweep::expand(g, 300, 100)[1])));
  g[0]["epochs"] = {"2"};
  CHECK_FALSE(done.count(sweep::key(sweep::expand(g, 200, 100)[1])));

  const auto header = sweep::join(sweep::columns, ',');
  CHECK_THAT(message_of<shallow::FormatError>([&] { sweep::parse_csv("dataset,layout\nmnist,parallel\n", "old.csv"); }),
             Catch::Contains("old.csv: its header 'dataset,layout' is not shallow-sweep's"));
  CHECK_THAT(message_of<shallow::FormatError>([&] { sweep::parse_csv(header + "\nmnist,parallel\n", "cut.csv"); }),
             Catch::Contains("cut.csv: line 2 has 2 fields, not 20"));
}

TEST_CASE("merge keeps the first row of each key", "[sweep]") {
  sweep::Grid g(1);
  g[0]["layers"] = {"1", "2", "4"};
  const auto all = sweep::expand(g, 0, 0);
  sweep::Table a, b;
  for (std::size_t i = 0; i < 4; ++i) a.rows.push_back(sweep::split(sweep::csv_row(all[i], some_result(100)), ','));
  for (std::size_t i = 2; i < 6; ++i) b.rows.push_back(sweep::split(sweep::csv_row(all[i], some_result(200)), ','));
  std::size_t duplicates = 0;
  const sweep::Table m = sweep::merge({a, b}, &duplicates);
  CHECK(duplicates == 2);
  REQUIRE(m.rows.size() == 6);
  CHECK(m.rows[3][9] == "100");  // from a, the first table holding that key
  CHECK(m.rows[4][9] == "200");
  CHECK(sweep::parse_csv(m.text(), "m.csv").rows == m.rows);
}
