// The tools' flag parser (tools/support/cli.hpp) and recipes
// (tools/support/recipes.hpp): declared ranges, early checks, arguments
// that are not flags, and recipe values that reach the optimizer as if typed.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../tools/support/recipes.hpp"
#include "../tools/support/training_flags.hpp"

using namespace shallow;
namespace tools = shallow::tools;

namespace {

// Parses `args` (after the program name) into p.
void parse(cli::Parser& p, std::vector<std::string> args) {
  args.insert(args.begin(), "prog");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  REQUIRE(p.parse(int(argv.size()), argv.data()));
}

cli::Parser training_parser(const std::vector<std::string>& args) {
  cli::Parser p("prog", "test");
  tools::declare_training_flags(p);
  parse(p, args);
  tools::apply_recipe(p);
  return p;
}

// The value one AdamW/Adam/SGD step leaves on a weight of 1 with zero
// gradient: only weight decay moves it.
double weight_after_one_step(const cli::Parser& p) {
  Network<float> net;
  net.emplace<Dense<float>>(1, 1, false);
  net.parameters()[0].value.setOnes();
  auto opt = tools::make_optimizer(p, net);
  opt->zero_grad();
  opt->step();
  return double(net.parameters()[0].value[0]);
}

}  // namespace

TEST_CASE("cli: numeric flags are checked against the range they were declared with", "[cli]") {
  cli::Parser p("prog", "test");
  p.integer_option("count", "3", "a count", 1, 10).number_option("rate", "0.5", "a rate").option("name", "x", "");
  parse(p, {"--count", "11"});
  CHECK_THROWS_WITH(p.integer("count"), Catch::Contains("--count must be between 1 and 10, got 11"));
  CHECK_THROWS_AS(p.check(), cli::UsageError);
  CHECK(p.number("rate") == 0.5);
  CHECK_THROWS_AS(p.integer("name"), std::logic_error);  // declared as text: a programming error
  CHECK_THROWS_AS(p.number("count"), std::logic_error);

  cli::Parser q("prog", "test");
  q.number_option("rate", "0.5", "a rate");
  parse(q, {"--rate=-1"});
  CHECK_THROWS_WITH(q.check(), Catch::Contains("--rate must be at least 0"));
}

TEST_CASE("cli: a recipe's values count as chosen, and typed flags still win", "[cli]") {
  cli::Parser p = training_parser({"--recipe", "cifar10", "--epochs", "2"});
  CHECK(p.text("dataset") == "cifar10");
  CHECK(p.integer("stages") == 3);
  CHECK(p.integer("epochs") == 2);
  CHECK(p.chosen("weight-decay"));
  CHECK_FALSE(p.given("weight-decay"));
  CHECK_FALSE(p.chosen("momentum"));
  // AdamW with the recipe's decoupled decay 0.05, not AdamW's default 0.01.
  CHECK(weight_after_one_step(p) == Approx(1 - 0.002 * 0.05).epsilon(1e-7));
  CHECK(weight_after_one_step(training_parser({"--recipe", "cifar10", "--weight-decay", "0"})) == 1.0);
  CHECK(weight_after_one_step(training_parser({"--optimizer", "adamw", "--lr", "0.1"})) ==
        Approx(1 - 0.1 * 0.01).epsilon(1e-7));
}

TEST_CASE("cli: every recipe names valid settings", "[cli]") {
  for (const auto& r : tools::recipes) {
    INFO(r.name);
    cli::Parser p = training_parser({"--recipe", r.name});
    CHECK_NOTHROW(tools::check_flags(p));
  }
  cli::Parser p = training_parser({"--filters", "16", "--stages", "10"});
  CHECK_THROWS_WITH(tools::check_flags(p), Catch::Contains("gives 8192 channels"));
}

TEST_CASE("cli: an argument that is not a flag is refused unless the tool takes files", "[cli]") {
  const auto parse_raw = [](cli::Parser& p, std::vector<std::string> args) {
    args.insert(args.begin(), "prog");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return p.parse(int(argv.size()), argv.data());
  };
  cli::Parser p("prog", "test");
  p.integer_option("epochs", "1", "epochs", 1, 100);
  // "-epochs 3" (one dash) must not train one epoch in silence.
  CHECK_THROWS_WITH(parse_raw(p, {"-epochs", "3"}),
                    Catch::Contains("unexpected argument '-epochs' (flags start with --)"));
  CHECK_THROWS_WITH(parse_raw(p, {"extra"}), Catch::Contains("unexpected argument 'extra'"));
  cli::Parser files("prog", "test");
  files.positionals("IMAGE...");
  REQUIRE(parse_raw(files, {"a.png", "b.png"}));
  CHECK(files.positional() == std::vector<std::string>{"a.png", "b.png"});
}
