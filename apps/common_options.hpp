// Options shared by the subcommands that run a problem (flow, descend): the problem and its data, the
// initial point, and the output files.
#pragma once

#include "problems/objective.hpp"
#include "problems/problem_factory.hpp"

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

namespace gradflow::cli {

struct ProblemArgs {
  ProblemSpec spec;
  long dim = 0;        // copied into spec.dim when --dim is given
  std::string theta0;  // CSV file; empty = seeded standard normal
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
};

void add_problem_options(CLI::App& command, ProblemArgs& args);
// out_help describes what --out writes.
void add_output_options(CLI::App& command, OutputArgs& args, const std::string& out_help);

// Builds the problem and reads or draws theta0; throws InputError naming the option on bad input.
LoadedProblem load_problem(CLI::App& command, ProblemArgs& args);
// Checks that every requested output file can be created (before anything runs).
void check_output_paths(const OutputArgs& args);
// Writes theta one value per line at full precision, whole or not at all.
void write_theta(const std::string& option, const std::string& path, const Vector& theta);

bool option_given(CLI::App& command, const char* name);

}  // namespace gradflow::cli
