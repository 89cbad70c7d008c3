// Options shared by the subcommands that run a problem (flow, descend): the problem and its data, the
// initial point, and the output files.
#pragma once

#include <gradflow/apps/problem_factory.hpp>
#include <gradflow/core/objective.hpp>
#include <gradflow/problems/network_data.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <optional>

#include <memory>
#include <string>

namespace gradflow::cli {

struct ProblemArgs {
  ProblemSpec spec;
  // The names as given; load_problem() turns them into spec's enumerations.
  std::string problem = "quadratic";
  std::string activation = "tanh";
  std::string init = "positive";
  long dim = 0;        // copied into spec.dim when --dim is given
  std::string theta0;  // CSV file; empty = the problem's default initial point
};

struct OutputArgs {
  std::string out;
  std::string theta_out;
  std::string json;
  std::string config;
  bool quiet = false;
};

struct LoadedProblem {
  std::unique_ptr<Objective> objective;
  Vector theta0;
  std::optional<IndependenceReport> data_report;  // mlp: whether the inputs are linearly independent
  nlohmann::json description;                     // what the summary JSON says about the problem
};

void add_problem_options(CLI::App& command, ProblemArgs& args);
// out_help describes what --out writes.
void add_output_options(CLI::App& command, OutputArgs& args, const std::string& out_help);

// Turns the names in args into spec's enumerations; an unknown name is an InputError naming the option.
void resolve_problem_names(ProblemArgs& args);
// Builds the problem (after resolve_problem_names) and reads or draws theta0; throws InputError naming the option on
// bad input.
LoadedProblem load_problem(CLI::App& command, ProblemArgs& args);
// Prints the data report of a network problem (stdout) and its warning, if any (stderr).
void print_problem_report(const LoadedProblem& loaded, const char* command, bool quiet);
// Checks that every requested output file can be created (before anything runs).
void check_output_paths(const OutputArgs& args);
// Writes theta one value per line at full precision, whole or not at all.
void write_theta(const std::string& option, const std::string& path, const Vector& theta);

bool option_given(CLI::App& command, const char* name);

}  // namespace gradflow::cli
