// `gradflow flow`: integrate the gradient flow of a problem and write the trajectory and a summary.
#pragma once

#include "flow/options.hpp"
#include "problems/problem_factory.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace gradflow::cli {

struct FlowCommand {
  ProblemSpec problem;
  long dim = 0;  // copied into problem.dim when --dim is given
  FlowOptions options;
  std::string solver = "dopri5";
  std::string krylov = "gmres";
  double mu = 0.0;  // copied into options.mu when --mu is given
  std::string theta0;
  std::string out;
  std::string theta_out;
  std::string json;
  std::string config;
  bool quiet = false;

  CLI::App* command = nullptr;
};

void add_flow_command(CLI::App& app, FlowCommand& flow);
// Runs after parsing; returns the exit code. Throws InputError for bad input.
int run_flow_command(FlowCommand& flow);

}  // namespace gradflow::cli
