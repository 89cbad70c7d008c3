// `gradflow descend`: gradient descent on a problem with a step-size rule from the theory, compared
// with the rule's guaranteed rate and radius.
#pragma once

#include <gradflow/apps/common_options.hpp>
#include <gradflow/discrete/options.hpp>

#include <CLI/CLI.hpp>

#include <string>

namespace gradflow::cli {

struct DescendCommand {
  ProblemArgs problem;
  OutputArgs output;
  DescentOptions options;
  std::string step = "fixed";
  double gamma = 0.0;       // copied into options.gamma when --gamma is given
  double mu = 0.0;          // copied into options.mu when --mu is given
  long max_iters = 100000;  // --max-iters, copied into options.stop.max_steps
  bool certify = false;
  std::string states_out;  // --states-out: theta at every recorded row
  int threads = 0;         // --threads: threads of the network's evaluations (0 = all cores)

  std::vector<std::string> observe;  // --observe as given (apps/observe_output.hpp)
  bool against_flow = false;         // --against-flow: compare every row with the flow (discrete/against_flow.hpp)
  std::vector<std::string> flows;    // --against-flow's value as given: empty (plain and modified) or central
  double leave_tol = 1e-3;           // --leave-tol
  std::string plot;                  // --plot DIR: against_flow.png and .svg there (with --against-flow)

  CLI::App* command = nullptr;
};

void add_descend_command(CLI::App& app, DescendCommand& descend);
// Runs after parsing; returns the exit code. Throws InputError for bad input.
int run_descend_command(DescendCommand& descend);

}  // namespace gradflow::cli
